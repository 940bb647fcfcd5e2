// Runs test/interop/helpers/edge-app.ts in an edge runtime and prints its JSON answer:
//   node --import tsx test/interop/helpers/edge-run.ts worker|edge
// `worker`: Cloudflare workerd through miniflare (an ES module Worker, the inputs as bindings);
// `edge`: Vercel's edge-runtime (a script with a fetch listener). The app is bundled by esbuild
// for the browser platform, so a stray Node built-in would fail the bundle, not hide. Inputs come
// from the environment (KRB5_CONF, KEYTAB_B64, PRINCIPAL, URL); NODE_EXTRA_CA_CERTS trusts the
// test CA in both runtimes. Also prints the bundle's size and the CPU time the request took, for
// bench/edge: edge-runtime runs in this process (process.cpuUsage), workerd in a child process
// of miniflare (its user + system time from /proc, Linux only; in 10 ms ticks).
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const kind = process.argv[2];
const app = new URL('./edge-app.ts', import.meta.url).pathname;
const env = {
  KRB5_CONF: process.env.KRB5_CONF ?? '',
  KEYTAB_B64: process.env.KEYTAB_B64 ?? '',
  PRINCIPAL: process.env.PRINCIPAL ?? '',
  URL: process.env.URL ?? '',
  ORDINARY: process.env.ORDINARY ?? '',
};

async function bundle(format: 'esm' | 'iife', footer: string): Promise<string> {
  const r = await build({
    stdin: {
      contents:
        format === 'esm'
          ? `export { handle } from ${JSON.stringify(app)};`
          : `import { handle } from ${JSON.stringify(app)}; globalThis.__handle = handle;`,
      resolveDir: new URL('.', import.meta.url).pathname,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format,
    platform: 'browser',
    target: 'es2022',
    minify: true,
    keepNames: true,
    external: ['ky'],
    logLevel: 'error',
  });
  return (r.outputFiles[0]?.text ?? '') + footer;
}

/** Milliseconds of CPU (user + system) used so far by the workerd processes under this one; undefined off Linux. */
function workerdCpuMs(): number | undefined {
  let stats: string[];
  try {
    stats = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map((d) => {
        try {
          return readFileSync(`/proc/${d}/stat`, 'utf8');
        } catch {
          return '';
        }
      });
  } catch {
    return undefined;
  }
  // pid (comm) state ppid … utime(14) stime(15), in clock ticks (USER_HZ, 100 on Linux).
  const procs = stats
    .map((st) => {
      const close = st.lastIndexOf(')');
      const f = st.slice(close + 2).split(' ');
      return {
        pid: Number(st.slice(0, st.indexOf(' '))),
        comm: st.slice(st.indexOf('(') + 1, close),
        ppid: Number(f[1]),
        ticks: Number(f[11]) + Number(f[12]),
      };
    })
    .filter((p) => p.pid > 0);
  const mine = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (!mine.has(p.pid) && mine.has(p.ppid)) {
        mine.add(p.pid);
        grew = true;
      }
    }
  }
  return procs
    .filter((p) => mine.has(p.pid) && p.comm.startsWith('workerd'))
    .reduce((sum, p) => sum + p.ticks * 10, 0);
}
const ownCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

let text: string;
let bytes: number;
let t0 = 0;
let cpuMs: number | undefined;
if (kind === 'worker') {
  const { Miniflare } = await import('miniflare');
  const code = await bundle('esm', '\nexport default { fetch(_req, env) { return __handle(env); } };\n');
  const script = code.replace(/export\s*\{\s*(\w+)\s+as\s+handle\s*\};?/, 'const __handle = $1;');
  bytes = gzipSync(script).length;
  t0 = Date.now();
  const mf = new Miniflare({ modules: true, script, bindings: env, compatibilityDate: '2025-01-01' });
  try {
    await mf.ready;
    const cpu0 = workerdCpuMs();
    text = await (await mf.dispatchFetch('http://worker.local/')).text();
    const cpu1 = workerdCpuMs();
    cpuMs = cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0;
  } finally {
    await mf.dispose();
  }
} else if (kind === 'edge') {
  const { EdgeRuntime } = await import('edge-runtime');
  const code = await bundle(
    'iife',
    `\naddEventListener('fetch', (e) => e.respondWith(globalThis.__handle(${JSON.stringify(env)})));\n`,
  );
  bytes = gzipSync(code).length;
  t0 = Date.now();
  const rt = new EdgeRuntime({ initialCode: code });
  const cpu0 = ownCpuMs();
  text = await (await rt.dispatchFetch('http://edge.local/')).text();
  cpuMs = ownCpuMs() - cpu0;
} else {
  throw new Error('usage: edge-run.ts worker|edge');
}
process.stdout.write(
  `${JSON.stringify({ kind, bundleGzipBytes: bytes, coldMs: Date.now() - t0, cpuMs, answer: JSON.parse(text) })}\n`,
);
