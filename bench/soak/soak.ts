// bench/soak: a long run looking for leaks and failures, not speed. Our client (negotiateFetch,
// mutual authentication REQUIRED, opportunistic: a fresh AP-REQ per request and the AP-REP
// verified on every response) sends N sequential authenticated GETs to
//   1. our node:http + negotiateMiddleware (default per-host file replay cache), in a child
//      process of its own, and
//   2. Apache 2.4 + mod_auth_gssapi,
// both with tickets from a real MIT KDC. Every SAMPLE requests, after a forced GC, it records
// rss and heapUsed of the client process and (run 1) of our server process.
//
//   npm run bench:soak            (N = 10000, SAMPLE = 1000; env SOAK_N / SOAK_SAMPLE)
//
// Pass: 0 failed requests, and heap growth after warm-up (first sample to last) under 5 MB in
// every process measured; the exit code is 1 otherwise. Needs MIT krb5 and Apache with
// mod_auth_gssapi (see bench/server.ts) and runs as root for Apache's www-data workers.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { negotiateFetch, REQUIRED } from '../../src/index.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { startApache } from '../../test/interop/helpers/apache.js';
import { startMitRealm } from '../../test/interop/helpers/mit-realm.js';

const N = Number(process.env['SOAK_N'] ?? 10_000);
const SAMPLE = Number(process.env['SOAK_SAMPLE'] ?? 1_000);
const LIMIT_MB = 5;

interface Mem {
  rss: number;
  heapUsed: number;
}

const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);

function ownMemory(): Mem {
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed };
}

function childMemory(child: ChildProcess): Promise<Mem> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as Mem));
    child.send('mem');
  });
}

async function startOurs(keytab: string, rcacheDir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(new URL('./server.ts', import.meta.url)), [keytab], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    env: { ...process.env, KRB5RCACHEDIR: rcacheDir },
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`our server exited (${code})`)));
  });
  return { child, port };
}

interface Row {
  name: string;
  failures: number;
  samples: { at: number; client: Mem; server?: Mem }[];
  seconds: number;
}

async function soak(name: string, url: string, fetcher: typeof fetch, server?: ChildProcess): Promise<Row> {
  const row: Row = { name, failures: 0, samples: [], seconds: 0 };
  const t0 = performance.now();
  for (let i = 1; i <= N; i++) {
    try {
      const res = await fetcher(url);
      const body = await res.text();
      if (res.status !== 200 || body !== 'private\n') row.failures++;
    } catch {
      row.failures++;
    }
    if (i % SAMPLE === 0) {
      const sample: Row['samples'][number] = { at: i, client: ownMemory() };
      if (server) sample.server = await childMemory(server);
      row.samples.push(sample);
    }
  }
  row.seconds = (performance.now() - t0) / 1000;
  return row;
}

function report(row: Row): boolean {
  console.log(`\n${row.name}: ${N} requests in ${row.seconds.toFixed(1)} s, ${row.failures} failed`);
  console.log(
    `${'requests'.padStart(9)} ${'client rss'.padStart(11)} ${'client heap'.padStart(12)} ${'server rss'.padStart(11)} ${'server heap'.padStart(12)}  (MB)`,
  );
  for (const s of row.samples) {
    console.log(
      `${String(s.at).padStart(9)} ${mb(s.client.rss).padStart(11)} ${mb(s.client.heapUsed).padStart(12)} ${(s.server ? mb(s.server.rss) : '-').padStart(11)} ${(s.server ? mb(s.server.heapUsed) : '-').padStart(12)}`,
    );
  }
  const first = row.samples[0];
  const last = row.samples[row.samples.length - 1];
  if (!first || !last) return row.failures === 0;
  const clientGrowth = last.client.heapUsed - first.client.heapUsed;
  const serverGrowth = first.server && last.server ? last.server.heapUsed - first.server.heapUsed : 0;
  console.log(
    `heap growth after warm-up (request ${first.at} → ${last.at}): client ${mb(clientGrowth)} MB` +
      (first.server ? `, server ${mb(serverGrowth)} MB` : ''),
  );
  return row.failures === 0 && clientGrowth < LIMIT_MB * 1024 * 1024 && serverGrowth < LIMIT_MB * 1024 * 1024;
}

async function main(): Promise<void> {
  if (!globalThis.gc) console.log('(run with --expose-gc for exact heap figures: npm run bench:soak does)');
  const realm = await startMitRealm({
    realm: 'SOAK.TEST',
    enctypes: ['aes256-cts-hmac-sha1-96:normal'],
    principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'HTTP/localhost' }],
  });
  let ours: ChildProcess | undefined;
  let apache: Awaited<ReturnType<typeof startApache>> | undefined;
  let ok = true;
  try {
    const keytab = await realm.keytab('HTTP/localhost');
    await realm.kinit('alice', 'alice-pw');
    const credentials = await Credentials.fromCcache(realm.ccache, {
      config: await loadConfig({ files: [realm.krb5ConfPath] }),
    });
    const fetcher = negotiateFetch({ credentials, mutualAuthentication: REQUIRED, opportunisticAuth: true });

    const started = await startOurs(keytab, mkdtempSync(join(realm.dir, 'rcache-')));
    ours = started.child;
    const oursRow = await soak(
      'ours: node:http + negotiateMiddleware (per-host file rcache)',
      `http://localhost:${started.port}/private/`,
      fetcher,
      ours,
    );
    ok = report(oursRow) && ok;
    ours.kill('SIGTERM');

    apache = await startApache({ realm, keytab, directives: ['LogLevel warn'] });
    const apacheRow = await soak('Apache 2.4 + mod_auth_gssapi', `${apache.url}/private/`, fetcher);
    ok = report(apacheRow) && ok;
  } finally {
    if (ours && ours.exitCode === null) ours.kill('SIGKILL');
    await apache?.stop();
    await realm.stop();
  }
  console.log(`\n${ok ? 'PASS' : 'FAIL'}: 0 failures and heap growth < ${LIMIT_MB} MB after warm-up`);
  if (!ok) process.exitCode = 1;
}

await main();
