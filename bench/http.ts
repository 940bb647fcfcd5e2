// bench/http: N sequential authenticated GETs (opportunistic, mutual authentication REQUIRED,
// a fresh security context per request) against one Apache + mod_auth_gssapi and MIT KDC, for
// spnego+ky, spnego+fetch, spnego/undici (the dispatcher with undici.request, the interceptor
// composed on an Agent), spnego/axios, spnego/got, native npm `kerberos`+fetch, python
// requests-kerberos and curl.
//
//   node --import tsx bench/http.ts [N]     (default 1000; BENCH_WARMUP untimed requests per row
//                                            and round, default 50; BENCH_ROUNDS, default 5)
//
// The clients compared with the native addon run interleaved: BENCH_ROUNDS rounds of N/ROUNDS
// requests per row, each row's figure the median of its rounds (the range is in the note).
//
// The native `kerberos` package is benchmark-only: install it outside the project first,
//   mkdir -p /tmp/spnego-bench-native && cd /tmp/spnego-bench-native && npm install kerberos@7
// (or point SPNEGO_BENCH_NATIVE_DIR at another directory). Rows whose tool is missing are skipped.
// curl runs a round's URLs in one process (connection reused) but cannot send the token up front, so
// it makes two requests per URL; python uses requests.Session with force_preemptive.
//
// Two more rows, side by side with their reference: through Squid (negotiate_kerberos_auth) in
// front of the same Apache, proxy and origin both Negotiate, spnego+fetch against `curl
// --proxy-negotiate --negotiate`, over plain TCP to the proxy and over TLS to its https_port
// (`-x https://`, the proxy's certificate checked against a test CA); and spnego/undici against a location with
// `GssapiConnectionBound On` (Apache authenticates the connection, as IIS does), where the
// figure that matters is tokens per request (one per connection).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import axios from 'axios';
import got from 'got';
import ky from 'ky';
import { Agent, request } from 'undici';
import { negotiateAxios } from '../src/adapters/axios.js';
import { negotiateGot } from '../src/adapters/got.js';
import { NegotiateDispatcher, negotiateInterceptor } from '../src/adapters/undici.js';
import { defaultContextFactory } from '../src/http/fetch.js';
import { negotiate, negotiateFetch, REQUIRED } from '../src/index.js';
import { loadConfig } from '../src/krb5/config-load.js';
import { Credentials } from '../src/krb5/credentials.js';
import { startApache } from '../test/interop/helpers/apache.js';
import { run, startMitRealm } from '../test/interop/helpers/mit-realm.js';
import { startSquid } from '../test/interop/helpers/squid.js';
import { makeTestCa } from '../test/interop/helpers/tls.js';

const N = Number(process.argv[2] ?? process.env['BENCH_N'] ?? 1000);
/** Untimed requests before each row (JIT, connection pool, the client's own caches). */
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 50);
/** Rounds of the side-by-side rows (BENCH_ROUNDS, default 5): see below. */
const ROUNDS = Math.max(1, Number(process.env['BENCH_ROUNDS'] ?? 5));
/** Untimed requests before the first row, so Apache's workers and replay cache are warm for all rows alike. */
const SERVER_WARMUP = 1000;
const nativeDir = process.env['SPNEGO_BENCH_NATIVE_DIR'] ?? '/tmp/spnego-bench-native';

/** A 50 MiB streamed upload in a process of its own; prints the peak rss growth in MiB. */
const UPLOAD = `
import { negotiateFetch, REQUIRED } from './src/index.ts';
const [url, mode] = [process.argv[2], process.argv[3]];
const MIB = 1024 * 1024;
const chunk = new Uint8Array(MIB).fill(120);
let sent = 0;
const body = new ReadableStream({ pull(c) { if (sent++ === 50) c.close(); else c.enqueue(chunk); } });
const f = mode === 'fetch' ? fetch : negotiateFetch({ mutualAuthentication: REQUIRED, opportunisticAuth: mode === 'streamed' });
global.gc?.();
const base = process.memoryUsage().rss;
let peak = base;
const t = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
const res = await f(url, { method: 'POST', body, duplex: 'half', headers: { 'content-type': 'application/octet-stream' } });
const text = await res.text();
peak = Math.max(peak, process.memoryUsage().rss);
clearInterval(t);
if (res.status !== 200) throw new Error('upload: ' + res.status);
if (!text.includes('bytes=' + 50 * MIB)) throw new Error('upload: the server did not get 50 MiB: ' + text);
console.log(JSON.stringify({ mib: (peak - base) / MIB }));
`;

const NATIVE = `
import kerberos from 'kerberos';
const [url, n, warm] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
async function once() {
  const client = await kerberos.initializeClient('HTTP@localhost', { mechOID: kerberos.GSS_MECH_OID_SPNEGO });
  const token = await client.step('');
  const res = await fetch(url, { headers: { Authorization: 'Negotiate ' + token } });
  const m = /Negotiate\\s+([A-Za-z0-9+/=]+)/.exec(res.headers.get('www-authenticate') ?? '');
  if (res.status !== 200 || !m) throw new Error('native: ' + res.status);
  await client.step(m[1]);
  if (!client.contextComplete) throw new Error('native: mutual authentication incomplete');
  await res.text();
}
for (let i = 0; i < warm; i++) await once();
const t0 = performance.now();
for (let i = 0; i < n; i++) await once();
console.log(JSON.stringify({ ms: (performance.now() - t0) / n }));
`;

const PYTHON = `
import json, sys, time, requests
from requests_kerberos import HTTPKerberosAuth, REQUIRED
url, n, warm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = requests.Session()
def once():
    r = s.get(url, auth=HTTPKerberosAuth(mutual_authentication=REQUIRED, force_preemptive=True))
    if r.status_code != 200: raise SystemExit('python: %d' % r.status_code)
for _ in range(warm): once()
t0 = time.perf_counter()
for _ in range(n): once()
print(json.dumps({"ms": (time.perf_counter() - t0) * 1000 / n}))
`;

async function timeIt(once: () => Promise<void>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await once();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await once();
  return (performance.now() - t0) / N;
}

const realm = await startMitRealm({
  realm: 'BENCH.TEST',
  enctypes: ['aes256-cts-hmac-sha1-96:normal'],
  principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'HTTP/localhost' }],
});
const keytab = await realm.keytab('HTTP/localhost');
const apache = await startApache({
  realm,
  keytab,
  locations: [
    { path: '/bound/', directives: ['GssapiConnectionBound On'] },
    // The upload rows: a CGI that reads the whole body and answers its size (the echo CGI
    // deadlocks on a large body until Apache's 60 s Timeout: see helpers/apache.ts).
    { path: '/sink', sink: true },
    { path: '/public-sink', sink: true, auth: false },
  ],
});
const ca = await makeTestCa(realm.dir);
const squid = await startSquid({ realm, keytab, tls: { certFile: ca.certFile, keyFile: ca.keyFile } });
const rows: Array<{ name: string; ms: number | undefined; note?: string }> = [];
try {
  await realm.kinit('alice', 'alice-pw');
  const env = { KRB5CCNAME: realm.ccache, KRB5_CONFIG: realm.krb5ConfPath };
  const url = `${apache.url}/private/`;
  const credentials = await Credentials.fromCcache(realm.ccache, {
    config: await loadConfig({ files: [realm.krb5ConfPath] }),
  });
  const options = { credentials, mutualAuthentication: REQUIRED, opportunisticAuth: true } as const;

  const warm = negotiateFetch(options);
  for (let i = 0; i < SERVER_WARMUP; i++) await (await warm(url)).arrayBuffer();

  // The rows compared with the native addon run side by side: ROUNDS rounds, each giving every
  // row N/ROUNDS requests in turn, and a row's figure is its median round. On a machine shared
  // with other work a load that comes and goes then falls on every row alike, not on whichever
  // row happened to run during it.
  const per = Math.max(1, Math.round(N / ROUNDS));
  const inProcess =
    (once: () => Promise<void>) =>
    async (n: number): Promise<number> => {
      for (let i = 0; i < WARMUP; i++) await once();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await once();
      return (performance.now() - t0) / n;
    };
  const child = (label: string, cmd: string, script: string[], cwd?: string) => async (n: number) => {
    const r = await run(cmd, [...script, url, String(n), String(WARMUP)], {
      env,
      ...(cwd === undefined ? {} : { cwd }),
      timeoutMs: 600_000,
    });
    if (r.code !== 0) throw new Error(`${label}: ${r.stderr.trim().slice(-200)}`);
    return JSON.parse(r.stdout).ms as number;
  };
  const api = ky.extend(negotiate(options));
  const f = negotiateFetch(options);
  const d1 = new NegotiateDispatcher(options);
  const composed = new Agent().compose(negotiateInterceptor(options));
  const ax = negotiateAxios(axios.create({ responseType: 'text' }), options);
  const gt = got.extend(negotiateGot(options), { retry: { limit: 0 } });
  const ax0 = axios.create({ responseType: 'text' });
  const gt0 = got.extend({ retry: { limit: 0 } });
  const nativeScript = join(nativeDir, 'bench-native.mjs');
  const haveNative = existsSync(join(nativeDir, 'node_modules', 'kerberos'));
  if (haveNative) writeFileSync(nativeScript, NATIVE);
  const sideBySide: Array<{ name: string; note?: string; measure?: (n: number) => Promise<number> }> = [
    {
      name: 'fetch, no authentication (/public/)',
      note: 'the floor: the same server without Negotiate',
      measure: inProcess(async () => {
        const res = await fetch(`${apache.url}/public/`);
        if (res.status !== 200) throw new Error(`fetch: ${res.status}`);
        await res.text();
      }),
    },
    { name: 'spnego + ky', measure: inProcess(async () => void (await api.get(url).text())) },
    {
      name: 'spnego + fetch',
      measure: inProcess(async () => {
        const res = await f(url);
        if (res.status !== 200) throw new Error(`spnego fetch: ${res.status}`);
        await res.text();
      }),
    },
    {
      name: 'spnego/undici dispatcher + undici.request',
      measure: inProcess(async () => {
        const r = await request(url, { dispatcher: d1 });
        if (r.statusCode !== 200) throw new Error(`undici: ${r.statusCode}`);
        await r.body.text();
      }),
    },
    {
      name: 'spnego/undici interceptor + undici.request',
      measure: inProcess(async () => {
        const r = await request(url, { dispatcher: composed });
        if (r.statusCode !== 200) throw new Error(`undici interceptor: ${r.statusCode}`);
        await r.body.text();
      }),
    },
    { name: 'spnego/axios', measure: inProcess(async () => void (await ax.get(url))) },
    {
      name: 'axios, no authentication (/public/)',
      note: "axios's own cost over fetch",
      measure: inProcess(async () => void (await ax0.get(`${apache.url}/public/`))),
    },
    { name: 'spnego/got', measure: inProcess(async () => void (await gt.get(url).text())) },
    {
      name: 'got, no authentication (/public/)',
      note: "got's own cost over fetch",
      measure: inProcess(async () => void (await gt0.get(`${apache.url}/public/`).text())),
    },
    haveNative
      ? {
          name: 'native kerberos + fetch',
          note: 'a process per round',
          measure: child('native', process.execPath, [nativeScript], nativeDir),
        }
      : { name: 'native kerberos + fetch', note: `not installed in ${nativeDir}` },
    {
      name: 'python requests-kerberos',
      note: 'a process per round',
      measure: child('python', '/usr/bin/python3', ['-c', PYTHON]),
    },
    {
      name: 'curl --negotiate',
      note: 'a process per round, 2 requests/URL',
      measure: async (n) => {
        const t0 = performance.now();
        const c = await run(
          'curl',
          ['-sf', '--negotiate', '-u', ':', ...Array.from({ length: n }, () => url)],
          {
            env,
            timeoutMs: 600_000,
          },
        );
        if (c.code !== 0) throw new Error(`curl: ${c.stderr.slice(0, 200)}`);
        return (performance.now() - t0) / n;
      },
    },
  ];
  const samples = new Map<string, number[]>();
  const failed = new Map<string, string>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const row of sideBySide) {
        if (row.measure === undefined || failed.has(row.name)) continue;
        try {
          const ms = await row.measure(per);
          samples.set(row.name, [...(samples.get(row.name) ?? []), ms]);
        } catch (e) {
          failed.set(row.name, String(e).slice(0, 200));
        }
      }
    }
  } finally {
    await d1.destroy();
    await composed.close();
  }
  const median = (xs: number[]): number => {
    const v = [...xs].sort((a, b) => a - b);
    const mid = v.length >> 1;
    return v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
  };
  for (const row of sideBySide) {
    const xs = samples.get(row.name);
    const spread =
      xs && xs.length > 1 ? `rounds ${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}` : undefined;
    rows.push({
      name: row.name,
      ms: failed.has(row.name) || !xs ? undefined : median(xs),
      note: [failed.get(row.name) ?? row.note, spread].filter(Boolean).join('; '),
    });
  }

  // Through the Negotiate proxy: proxy token + origin token per request, to the proxy over plain
  // TCP and over TLS (its https_port).
  const proxyCa = readFileSync(ca.caFile, 'utf8');
  for (const [label, proxy, extra] of [
    ['Squid', squid.url, []],
    ['Squid https://', squid.httpsUrl as string, ['--proxy-cacert', ca.caFile]],
  ] as const) {
    const proxied = negotiateFetch({ ...options, proxy, proxyCa });
    rows.push({
      name: `spnego + fetch via ${label}`,
      ms: await timeIt(async () => {
        const res = await proxied(url);
        if (res.status !== 200) throw new Error(`spnego via ${label}: ${res.status}`);
        await res.text();
      }),
      note: 'proxy + origin Negotiate',
    });
    const t1 = performance.now();
    const cp = await run(
      'curl',
      [
        '-sf',
        '--proxy-negotiate',
        '-U',
        ':',
        '-x',
        proxy,
        ...extra,
        '--negotiate',
        '-u',
        ':',
        ...Array.from({ length: N }, () => url),
      ],
      { env, timeoutMs: 600_000 },
    );
    const curlProxyMs = (performance.now() - t1) / N;
    const name = `curl --proxy-negotiate via ${label}`;
    rows.push(
      cp.code === 0
        ? { name, ms: curlProxyMs, note: 'one process' }
        : { name, ms: undefined, note: cp.stderr.slice(0, 200) },
    );
  }

  // A connection-bound server: the dispatcher sends one token per connection.
  let tokens = 0;
  const contexts = defaultContextFactory({ credentials });
  const d = new NegotiateDispatcher(
    { credentials, mutualAuthentication: REQUIRED, connections: 1 },
    {
      contextFactory: (req) => {
        tokens++;
        return contexts(req);
      },
    },
  );
  try {
    const bound = `${apache.url}/bound/`;
    const ms = await timeIt(async () => {
      const r = await request(bound, { dispatcher: d });
      if (r.statusCode !== 200) throw new Error(`undici bound: ${r.statusCode}`);
      await r.body.text();
    });
    rows.push({
      name: 'spnego/undici, connection-bound server',
      ms,
      // Apache ends a keep-alive connection after MaxKeepAliveRequests (100): a new one, a new token.
      note: `${tokens} token(s) for ${N + WARMUP} requests (one per connection; Apache closes one every 100 requests)`,
    });
  } finally {
    await d.destroy();
  }

  // Memory and time of a 50 MiB upload (peak rss growth, one process each), read whole by a CGI
  // that answers its size: plain fetch to the same CGI without authentication, ours streaming it
  // with an opportunistic token, ours buffering it for a second leg.
  const script = join(realm.dir, 'upload.mts');
  writeFileSync(
    script,
    UPLOAD.replace("'./src/index.ts'", `'${join(import.meta.dirname, '..', 'src', 'index.ts')}'`),
  );
  for (const [name, mode] of [
    ['upload 50 MiB: plain fetch', 'fetch'],
    ['upload 50 MiB: spnego + fetch, opportunistic (streamed)', 'streamed'],
    ['upload 50 MiB: spnego + fetch, buffered for the 401', 'buffered'],
  ] as const) {
    const t = performance.now();
    const r = await run(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        script,
        `${apache.url}/${mode === 'fetch' ? 'public-sink' : 'sink'}`,
        mode,
      ],
      {
        env,
        timeoutMs: 300_000,
      },
    );
    rows.push(
      r.code === 0
        ? {
            name,
            ms: performance.now() - t,
            note: `peak rss +${JSON.parse(r.stdout).mib.toFixed(0)} MiB; ms = the whole process (start, upload, Apache's CGI reading it)${mode === 'fetch' ? ', no authentication' : ''}`,
          }
        : { name, ms: undefined, note: r.stderr.trim().slice(-200) },
    );
  }
} finally {
  await squid.stop();
  await apache.stop();
  await realm.stop();
}

const native = rows.find((r) => r.name.startsWith('native'))?.ms;
console.log(
  `\nHTTP Negotiate, ${N} sequential GETs each (opportunistic, mutual REQUIRED), node ${process.version}\n`,
);
console.log('| client | ms/request | ratio to native | note |');
console.log('| --- | ---: | ---: | --- |');
for (const r of rows) {
  const ms = r.ms === undefined ? 'n/a' : r.ms.toFixed(2);
  const ratio = r.ms === undefined || native === undefined ? 'n/a' : `${(r.ms / native).toFixed(2)}×`;
  console.log(`| ${r.name} | ${ms} | ${ratio} | ${r.note ?? ''} |`);
}
