// bench/size: per entry point of scripts/entries.mjs, the min+gzip size of what importing it loads
// (our code alone, and with its dependencies bundled as a user's bundler would; ky and node:
// built-ins stay external; chunks reached only by a dynamic import() counted apart as "lazy") and
// the in-process import time of the built entry (median of N fresh processes; `performance.now()`
// around `await import(...)`), plus the same for each runtime dependency, as one table.
//   npm run build && node --import tsx bench/size.ts [--runs 11] [--why]
// Node 22 / 24 columns when SPNEGO_NODE22 / SPNEGO_NODE24 name their binaries.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { ENTRIES, specifier } from '../scripts/entries.mjs';

const ROOT = join(import.meta.dirname, '..');
const runsAt = process.argv.indexOf('--runs');
const runs = runsAt < 0 ? 11 : Number(process.argv[runsAt + 1]);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
if (!existsSync(join(ROOT, 'dist/index.js'))) throw new Error('run npm run build first');

/** Peer dependencies (ky, undici, axios, got, ws...) stay outside every bundle: users bring them. */
const PEERS = Object.keys(
  (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      peerDependencies?: Record<string, string>;
    }
  ).peerDependencies ?? {},
);

async function minGzip(contents: string, external: string[], ownOnly = false): Promise<number> {
  const r = await build({
    stdin: { contents, resolveDir: ROOT, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: [...external, 'node:*'],
    ...(ownOnly ? { packages: 'external' as const } : {}),
    logLevel: 'silent',
  });
  return gzipSync(r.outputFiles[0]?.contents ?? new Uint8Array(), { level: 9 }).length;
}

/**
 * An entry as it loads: bundled with code splitting (as dist/ is), its output plus every chunk it
 * imports statically is what `import()` of the entry loads ("first load"); chunks reached only
 * through a dynamic import() load when first used ("lazy"). Sizes min+gzip -9 of each part
 * concatenated.
 */
async function entrySizes(
  src: string,
  external: string[],
  ownOnly: boolean,
): Promise<{ first: number; lazy: number; modules: Array<[string, number]> }> {
  const outdir = join(ROOT, '.bench-size-out');
  const r = await build({
    entryPoints: [join(ROOT, src)],
    bundle: true,
    splitting: true,
    minify: true,
    write: false,
    metafile: true,
    outdir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: [...external, 'node:*'],
    ...(ownOnly ? { packages: 'external' as const } : {}),
    logLevel: 'silent',
  });
  const outputs = r.metafile?.outputs ?? {};
  const rel = (p: string) => p.replace(/^.*\.bench-size-out\//, '');
  // The entry's own output: modules reached by import() are entry points of their chunks too.
  const entry = Object.keys(outputs).find((o) => outputs[o]?.entryPoint === src);
  const first = new Set<string>();
  const queue = entry ? [entry] : [];
  while (queue.length > 0) {
    const o = queue.shift() as string;
    if (first.has(rel(o))) continue;
    first.add(rel(o));
    for (const i of outputs[o]?.imports ?? [])
      if (!i.external && i.kind === 'import-statement') queue.push(i.path);
  }
  const parts = (inFirst: boolean) =>
    Buffer.concat(
      r.outputFiles
        .filter((f) => f.path.endsWith('.js') && first.has(rel(f.path)) === inFirst)
        .map((f) => Buffer.from(f.contents)),
    );
  const gz = (b: Buffer) => (b.length === 0 ? 0 : gzipSync(b, { level: 9 }).length);
  // Minified bytes per source module in the first load, largest first (for --why).
  const bytes = new Map<string, number>();
  for (const [o, meta] of Object.entries(outputs)) {
    if (!first.has(rel(o))) continue;
    for (const [input, v] of Object.entries(meta.inputs))
      bytes.set(input, (bytes.get(input) ?? 0) + v.bytesInOutput);
  }
  const modules = [...bytes].sort((a, b) => b[1] - a[1]);
  return { first: gz(parts(true)), lazy: gz(parts(false)), modules };
}

function importMs(node: string, spec: string): Promise<number> {
  const code = `const t=performance.now();await import(${JSON.stringify(spec)});process.stdout.write(String(performance.now()-t))`;
  return new Promise((resolve, reject) =>
    execFile(node, ['--input-type=module', '-e', code], { cwd: ROOT }, (e, out) =>
      e ? reject(e) : resolve(Number(out)),
    ),
  );
}

async function median(node: string, spec: string): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) xs.push(await importMs(node, spec));
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)] ?? Number.NaN;
}

const nodes: Array<[string, string]> = [[`Node ${process.versions.node}`, process.execPath]];
for (const [label, env] of [
  ['Node 22', 'SPNEGO_NODE22'],
  ['Node 24', 'SPNEGO_NODE24'],
] as const) {
  const bin = process.env[env];
  if (bin) nodes.push([label, bin]);
}

const rows: string[][] = [];
let mainModules: Array<[string, number]> = [];
for (const [subpath, src] of ENTRIES) {
  const spec = specifier(subpath);
  const ours = await entrySizes(src, [], true);
  const all = await entrySizes(src, PEERS, false);
  if (subpath === '.') mainModules = all.modules;
  const times: string[] = [];
  for (const [, bin] of nodes) times.push((await median(bin, spec)).toFixed(1));
  rows.push([
    spec,
    (ours.first / 1024).toFixed(1),
    (all.first / 1024).toFixed(1),
    (all.lazy / 1024).toFixed(1),
    ...times,
  ]);
}
for (const [spec, contents] of [
  [
    '@noble/hashes (sha1, sha2, hmac, pbkdf2, md5)',
    "export * from '@noble/hashes/sha2.js'; export * from '@noble/hashes/legacy.js'; export * from '@noble/hashes/hmac.js'; export * from '@noble/hashes/pbkdf2.js';",
  ],
  ['@noble/ciphers (aes)', "export * from '@noble/ciphers/aes.js';"],
  ['ky', "export { default } from 'ky';"],
] as const) {
  const size = await minGzip(contents, []);
  const module = /^\S+/.exec(spec)?.[0] ?? spec;
  const probe =
    module === '@noble/hashes'
      ? '@noble/hashes/sha2.js'
      : module === '@noble/ciphers'
        ? '@noble/ciphers/aes.js'
        : module;
  const times: string[] = [];
  for (const [, bin] of nodes) times.push((await median(bin, probe)).toFixed(1));
  rows.push([`dependency: ${spec}`, '', (size / 1024).toFixed(1), '', ...times]);
}

const header = [
  'entry',
  'ours KB min+gz',
  'with deps KB min+gz (no peers: ky, undici...)',
  'lazy KB min+gz (loaded on first use)',
  ...nodes.map(([n]) => `import ms ${n}`),
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) =>
  `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
console.log(
  `bench/size: median of ${runs} fresh processes per import time; sizes from esbuild --minify, gzip -9`,
);
console.log(line(header));
console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
for (const r of rows) console.log(line(r));
if (process.argv.includes('--why')) {
  // What `import('spnego')` loads, by source module: where the main entry's bytes come from.
  console.log('\nmain entry, first load: minified bytes per module (largest 25)');
  for (const [m, b] of mainModules.slice(0, 25)) console.log(`  ${String(b).padStart(6)}  ${m}`);
}
