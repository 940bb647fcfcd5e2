// `npm run bench:edge`: the client on the edge — the bundle a Worker uploads (the client path:
// negotiateFetch, Credentials from keytab bytes, the KDC over a KDC proxy; minified, gzipped)
// and the time from a cold isolate to the first authenticated response, in Cloudflare's workerd
// (through miniflare) and Vercel's edge-runtime, side by side with the same client on Node.
//
// Hermetic: MiniKdc behind a small MS-KKDCP proxy (node:https with the test CA in
// test/vectors/kkdcp), a Negotiate server (negotiateMiddleware on node:http) for HTTP/localhost.
// Round trips to the first authenticated response, counted here as they arrive: KDC-proxy POSTs
// (the AS-REQ, pre-authenticated from the keytab on the first try, and the TGS-REQ) plus HTTP
// requests (one: opportunisticAuth sends the token with it). CPU: what the request cost the
// runtime's process (edge-runtime and Node: process.cpuUsage; workerd: /proc, 10 ms ticks).
// Goal (issue 17): <= 3 round trips plus 100 ms of CPU. The last row runs the same Worker with
// the ordinary exchange (optimisticPreauth: false, no opportunisticAuth): 5 round trips, as before.
// Knob: BENCH_RUNS (default 5 per runtime).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { decodeKdcProxyMessage, encodeKdcProxyMessage } from '../../src/asn1/index.js';
import { frameTcp } from '../../src/krb5/transport.js';
import { negotiateMiddleware } from '../../src/server/index.js';
import { MiniKdc } from '../../src/testing/index.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const REALM = 'EDGE.TEST';
const vec = (n: string) => new URL(`../../test/vectors/kkdcp/${n}`, import.meta.url);
const EDGE_RUN = new URL('../../test/interop/helpers/edge-run.ts', import.meta.url).pathname;

const kdc = await MiniKdc.start({ realm: REALM, principals: ['robot', 'HTTP/localhost'] });
let proxied = 0;
const proxy = createServer(
  { cert: readFileSync(vec('server.pem')), key: readFileSync(vec('server-key.pem')) },
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      proxied++;
      const msg = decodeKdcProxyMessage(new Uint8Array(Buffer.concat(chunks)));
      const reply = kdc.handleRequest(msg.kerbMessage.subarray(4));
      res.writeHead(200, { 'Content-Type': 'application/kerberos' });
      res.end(encodeKdcProxyMessage({ kerbMessage: frameTcp(reply) }));
    });
  },
);
await new Promise<void>((r) => proxy.listen(0, r));
const mw = negotiateMiddleware({ keytab: kdc.keytabFor('HTTP/localhost') });
let httpRequests = 0;
const web = createHttpServer((req, res) => {
  httpRequests++;
  mw(req, res, () => {
    res.setHeader('X-Remote-User', (req as { negotiate?: { user?: string } }).negotiate?.user ?? '');
    res.end('private\n');
  });
});
await new Promise<void>((r) => web.listen(0, r));

const env = {
  ...process.env,
  NODE_EXTRA_CA_CERTS: vec('ca.pem').pathname,
  KRB5_CONF: `[libdefaults]\n  default_realm = ${REALM}\n  dns_lookup_kdc = false\n[realms]\n  ${REALM} = {\n    kdc = https://localhost:${(proxy.address() as AddressInfo).port}/KdcProxy\n  }\n`,
  KEYTAB_B64: Buffer.from(kdc.keytabFor('robot')).toString('base64'),
  PRINCIPAL: `robot@${REALM}`,
  URL: `http://localhost:${(web.address() as AddressInfo).port}/private/`,
};

interface Row {
  bundleGzipBytes: number;
  coldMs: number;
  cpuMs?: number;
  answer: { status?: number; ms?: number; error?: string; message?: string };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
console.log(`edge bench: ${RUNS} cold starts per runtime (median)`);
const cols = [20, 17, 43, 21, 30, 10];
const printRow = (cells: string[]) => console.log(cells.map((c, i) => c.padEnd(cols[i] ?? 0)).join(' '));
printRow([
  'runtime',
  'bundle min+gzip',
  'cold isolate → 1st authenticated response',
  'of which in the app',
  'round trips (KDC POSTs + HTTP)',
  'CPU',
]);
for (const kind of ['worker', 'edge', 'node', 'worker-ordinary'] as const) {
  const rows: Row[] = [];
  const posts: number[] = [];
  const gets: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const before = proxied;
    const beforeHttp = httpRequests;
    // `node`: the same app, same bundle path skipped, in a fresh Node process (the reference).
    const args =
      kind === 'node'
        ? ['--import', 'tsx', EDGE_RUN.replace('edge-run.ts', 'edge-node.ts')]
        : ['--import', 'tsx', EDGE_RUN, kind === 'worker-ordinary' ? 'worker' : kind];
    // Asynchronously: the KDC proxy and the web server answer from this process meanwhile.
    const r = await promisify(execFile)(process.execPath, args, {
      env: { ...env, ORDINARY: kind === 'worker-ordinary' ? '1' : '' },
      encoding: 'utf8',
      timeout: 120_000,
    }).catch((e: { stdout?: string; stderr?: string }) => ({
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? String(e),
    }));
    const line = r.stdout.trim().split('\n').pop() ?? '';
    let row: Row;
    try {
      row = JSON.parse(line) as Row;
    } catch {
      throw new Error(`${kind} run failed: ${r.stderr || r.stdout}`);
    }
    if (row.answer.status !== 200) throw new Error(`${kind}: ${JSON.stringify(row.answer)}`);
    rows.push(row);
    posts.push(proxied - before);
    gets.push(httpRequests - beforeHttp);
  }
  const name = {
    worker: 'workerd (miniflare)',
    edge: 'edge-runtime',
    node: 'Node (reference)',
    'worker-ordinary': 'workerd, ordinary',
  }[kind];
  const kb = kind === 'node' ? '-' : `${(rows[0]!.bundleGzipBytes / 1024).toFixed(1)} KB`;
  const cpu = rows.map((x) => x.cpuMs).filter((x): x is number => x !== undefined);
  printRow([
    name,
    kb,
    `${median(rows.map((x) => x.coldMs))} ms`,
    `${median(rows.map((x) => x.answer.ms ?? 0))} ms`,
    `${median(posts) + median(gets)} (${median(posts)} + ${median(gets)})`,
    cpu.length > 0 ? `${Math.round(median(cpu))} ms` : 'n/a',
  ]);
}
proxy.close();
web.close();
await kdc.stop();
