// `node --import tsx bench/server.ts`: authenticated requests per second a Negotiate server
// accepts on ONE core — our node:http + negotiateMiddleware against Apache mod_auth_gssapi
// (mpm_event, MIT libgssapi_krb5) — on the same machine, with the same keytab, in one run.
//
// Method. Every AP-REQ must be fresh (both servers keep a replay cache), so N distinct
// Negotiate tokens (mutual authentication asked, so each server also builds an AP-REP) are minted
// up front with our initiator from a warm MIT service ticket for HTTP/localhost; minting is not
// measured. Each server has its own replay cache, so all receive the same N tokens: ours twice —
// with the default per-host file replay cache (what a deployment gets) and with the in-memory
// one — and Apache, whose mod_auth_gssapi uses MIT's per-host rcache file. A small
// raw-socket HTTP/1.1 client (keep-alive, C connections in parallel, each sending its next request
// when the previous response is complete) fires them and records requests/s and latency.
//
// One core: the server under test is pinned to CPU 0 with `taskset` (util-linux) — our server
// is one Node process; Apache runs with StartServers 1 / ServerLimit 1 (one child process, 8
// worker threads, plus the idle parent), every one of its processes and threads pinned to CPU 0
// too. The load generator is pinned to CPU 1. With fewer than 2 CPUs nothing is pinned (and the
// figures then include the client's own cost). Other load on the machine skews both alike but
// not equally: run it on a quiet box, and more than once.
//
// Needs: MIT krb5 (krb5-kdc krb5-admin-server krb5-user), apache2 and libapache2-mod-auth-gssapi
// (`sudo apt-get install -y krb5-kdc krb5-admin-server krb5-user apache2 libapache2-mod-auth-gssapi`);
// Apache's workers run as www-data, so run as root (as `npm run test:interop` does).
// Knobs: BENCH_REQUESTS (default 20000 per server), BENCH_CONCURRENCY (default 8),
// BENCH_WARMUP (default 2000).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REALM = 'BENCH.TEST';
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 20_000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 8);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 2_000);
const PIN = availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0;

// --- the server under test, in its own process ------------------------------------------------

async function serve(keytabPath: string, rcache: string): Promise<void> {
  const { MemoryReplayCache, negotiateMiddleware } = await import('../src/server/index.js');
  type Req = import('../src/server/index.js').RequestLike;
  // `file`: the default (per-host file cache in KRB5RCACHEDIR); `memory`: one process only.
  const mw = negotiateMiddleware({
    keytab: keytabPath,
    ...(rcache === 'memory' ? { replayCache: new MemoryReplayCache() } : {}),
  });
  const server = createServer((req, res) => {
    mw(req as unknown as Req, res, (err?: unknown) => {
      if (err) {
        res.statusCode = 500;
        res.end();
        return;
      }
      res.setHeader('X-Remote-User', (req as unknown as Req).remoteUser ?? '');
      res.end('private\n');
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as { port: number }).port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

// --- the load generator -----------------------------------------------------------------------

interface RunResult {
  rate: number;
  p50: number;
  p99: number;
  non200: number;
}

/**
 * Sends one request per token over `concurrency` keep-alive connections. Responses are parsed
 * just enough (status, Content-Length) to know where each ends, so the client stays cheap.
 */
function fire(
  port: number,
  path: string,
  tokens: readonly string[],
  concurrency: number,
): Promise<RunResult> {
  const latencies = new Float64Array(tokens.length);
  let next = 0;
  let done = 0;
  let non200 = 0;
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const finish = (): void => {
      const elapsed = (performance.now() - start) / 1000;
      const sorted = latencies.slice(0, done).sort();
      resolve({
        rate: done / elapsed,
        p50: sorted[Math.floor(done * 0.5)] ?? 0,
        p99: sorted[Math.floor(done * 0.99)] ?? 0,
        non200,
      });
    };
    let open = 0;
    for (let c = 0; c < Math.min(concurrency, tokens.length); c++) {
      open++;
      const sock = connect({ host: '127.0.0.1', port, noDelay: true });
      let buf: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      const send = (): void => {
        if (next >= tokens.length) {
          sock.end();
          return;
        }
        const mine = next++;
        sentAt = performance.now();
        sock.write(
          `GET ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Negotiate ${tokens[mine]}\r\n\r\n`,
        );
      };
      sock.on('connect', send);
      sock.on('data', (chunk: Buffer) => {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        const headEnd = buf.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = buf.subarray(0, headEnd).toString('latin1');
        const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < headEnd + 4 + len) return;
        buf = buf.subarray(headEnd + 4 + len);
        if (!head.startsWith('HTTP/1.1 200')) non200++;
        latencies[done++] = performance.now() - sentAt;
        send();
      });
      sock.on('error', reject);
      sock.on('close', () => {
        if (--open === 0) finish();
      });
    }
  });
}

/** One authenticated request, to check a server really accepts our tokens and names the user. */
async function probe(port: number, path: string, token: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: { Host: 'localhost', Authorization: `Negotiate ${token}` },
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`probe of ${path} on ${port}: ${res.status}`);
  const mutual = res.headers.get('www-authenticate')?.startsWith('Negotiate ') ?? false;
  return `${res.headers.get('x-remote-user')}${mutual ? ', AP-REP returned' : ', NO AP-REP'}`;
}

function pin(cpu: number, pid: number): void {
  if (!PIN) return;
  const r = spawnSync('taskset', ['-a', '-cp', String(cpu), String(pid)]);
  if (r.status !== 0) throw new Error(`taskset ${cpu} ${pid}: ${r.stderr.toString()}`);
}

function childrenOf(pid: number): number[] {
  const r = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)]);
  return r.stdout
    .toString()
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);
}

/** The Apache parent's pid, from its PidFile (written shortly after it starts listening). */
async function apachePid(dir: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    try {
      const pid = Number(readFileSync(`${dir}/apache.pid`, 'utf8').trim());
      if (pid > 0) return pid;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${dir}/apache.pid`);
}

async function main(): Promise<void> {
  const { loadConfig } = await import('../src/krb5/config-load.js');
  const { Credentials } = await import('../src/krb5/credentials.js');
  const { createInitiatorContext } = await import('../src/spnego/index.js');
  const { base64Encode } = await import('../src/http/index.js');
  const { startMitRealm } = await import('../test/interop/helpers/mit-realm.js');
  const { startApache } = await import('../test/interop/helpers/apache.js');

  pin(1, process.pid);
  const realm = await startMitRealm({
    realm: REALM,
    enctypes: ['aes256-cts-hmac-sha1-96:normal'],
    principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'HTTP/localhost' }],
  });
  let ours: ChildProcess | undefined;
  let apache: Awaited<ReturnType<typeof startApache>> | undefined;
  try {
    const keytab = await realm.keytab('HTTP/localhost');
    await realm.kinit('alice', 'alice-pw');
    await realm.kvno('HTTP/localhost');
    const credentials = await Credentials.fromCcache(realm.ccache, {
      config: await loadConfig({ files: [realm.krb5ConfPath] }),
    });

    const total = WARMUP + REQUESTS + 1;
    const mintStart = performance.now();
    const tokens: string[] = [];
    for (let i = 0; i < total; i++) {
      const ctx = await createInitiatorContext({ credentials, target: 'HTTP@localhost', mutual: true });
      const first = await ctx.step();
      if (!first.token) throw new Error('no initial token');
      tokens.push(base64Encode(first.token));
    }
    const mintSecs = (performance.now() - mintStart) / 1000;
    console.log(
      `minted ${total} distinct SPNEGO tokens (aes256-cts-hmac-sha1-96, mutual) in ${mintSecs.toFixed(1)} s; ` +
        `${REQUESTS} measured requests per server after ${WARMUP} warm-up, ${CONCURRENCY} keep-alive connections`,
    );
    console.log(
      PIN
        ? 'server under test pinned to CPU 0 (taskset -a), load generator to CPU 1'
        : 'NOT pinned (fewer than 2 CPUs or no taskset): figures include the client',
    );
    const [probeToken, ...rest] = tokens as [string, ...string[]];
    const warm = rest.slice(0, WARMUP);
    const measured = rest.slice(WARMUP);

    const rows: { name: string; r: RunResult; who: string }[] = [];

    // Ours: one Node process, with the default per-host file replay cache (in a fresh
    // KRB5RCACHEDIR of its own), then with the in-memory one.
    for (const rcache of ['file', 'memory']) {
      const rcacheDir = mkdtempSync(join(realm.dir, 'rcache-'));
      ours = spawn(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', keytab, rcache],
        { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KRB5RCACHEDIR: rcacheDir } },
      );
      const child = ours;
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        child.once('exit', (code) => reject(new Error(`our server exited (${code})`)));
      });
      if (child.pid) pin(0, child.pid);
      const whoOurs = await probe(port, '/private/', probeToken);
      await fire(port, '/private/', warm, CONCURRENCY);
      rows.push({
        name: `ours: node:http + negotiateMiddleware, ${rcache === 'file' ? 'per-host file rcache (default)' : 'in-memory rcache'}`,
        r: await fire(port, '/private/', measured, CONCURRENCY),
        who: whoOurs,
      });
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      ours = undefined;
    }

    // Apache: the interop harness's config (mpm_event, StartServers 1, ServerLimit 1,
    // ThreadsPerChild 8), without its per-request debug logging.
    apache = await startApache({ realm, keytab, directives: ['LogLevel warn'] });
    const parent = await apachePid(apache.dir);
    for (const pid of [parent, ...childrenOf(parent)]) pin(0, pid);
    const whoApache = await probe(apache.port, '/private/', probeToken);
    await fire(apache.port, '/private/', warm, CONCURRENCY);
    rows.push({
      name: 'Apache 2.4 mpm_event + mod_auth_gssapi (1 child x 8 threads)',
      r: await fire(apache.port, '/private/', measured, CONCURRENCY),
      who: whoApache,
    });

    console.log('');
    console.log(
      `${'server (one core)'.padEnd(64)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}  non-200`,
    );
    for (const { name, r } of rows) {
      console.log(
        `${name.padEnd(64)} ${r.rate.toFixed(0).padStart(8)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)}  ${r.non200}`,
      );
    }
    const apacheRow = rows[rows.length - 1];
    for (const row of rows.slice(0, -1))
      if (apacheRow)
        console.log(
          `ratio ${row.name.split(', ')[1]}/Apache: ${(row.r.rate / apacheRow.r.rate).toFixed(2)}x`,
        );
    for (const { name, who } of rows) console.log(`probe ${name}: user ${who}`);
    if (rows.some((x) => x.r.non200 > 0)) process.exitCode = 1;
  } finally {
    if (ours && ours.exitCode === null) ours.kill('SIGKILL');
    await apache?.stop();
    await realm.stop();
  }
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  const keytab = process.argv[serveAt + 1];
  if (!keytab) throw new Error('--serve KEYTAB [file|memory]');
  await serve(keytab, process.argv[serveAt + 2] ?? 'file');
} else {
  await main();
}
