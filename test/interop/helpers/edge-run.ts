// Runs test/interop/helpers/edge-app.ts in an edge runtime and prints its JSON answer:
//   node --import tsx test/interop/helpers/edge-run.ts worker|edge
// `worker`: Cloudflare workerd through miniflare (an ES module Worker, the inputs as bindings);
// `edge`: Vercel's edge-runtime (a script with a fetch listener). The app is bundled by esbuild
// for the browser platform, so a stray Node built-in would fail the bundle, not hide. Inputs come
// from the environment (KRB5_CONF, KEYTAB_B64, PRINCIPAL, URL); NODE_EXTRA_CA_CERTS trusts the
// test CA in both runtimes. Also prints the bundle's size, for bench/edge.
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const kind = process.argv[2];
const app = new URL('./edge-app.ts', import.meta.url).pathname;
const env = {
  KRB5_CONF: process.env.KRB5_CONF ?? '',
  KEYTAB_B64: process.env.KEYTAB_B64 ?? '',
  PRINCIPAL: process.env.PRINCIPAL ?? '',
  URL: process.env.URL ?? '',
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

let text: string;
let bytes: number;
let t0 = 0;
if (kind === 'worker') {
  const { Miniflare } = await import('miniflare');
  const code = await bundle('esm', '\nexport default { fetch(_req, env) { return __handle(env); } };\n');
  const script = code.replace(/export\s*\{\s*(\w+)\s+as\s+handle\s*\};?/, 'const __handle = $1;');
  bytes = gzipSync(script).length;
  t0 = Date.now();
  const mf = new Miniflare({ modules: true, script, bindings: env, compatibilityDate: '2025-01-01' });
  try {
    text = await (await mf.dispatchFetch('http://worker.local/')).text();
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
  text = await (await rt.dispatchFetch('http://edge.local/')).text();
} else {
  throw new Error('usage: edge-run.ts worker|edge');
}
process.stdout.write(
  `${JSON.stringify({ kind, bundleGzipBytes: bytes, coldMs: Date.now() - t0, answer: JSON.parse(text) })}\n`,
);
