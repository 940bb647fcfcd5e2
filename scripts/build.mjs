#!/usr/bin/env node
// `npm run build`: the package as it ships, from the entry table in scripts/entries.mjs.
//
// - dist/<entry>.js: one ES module per entry point, bundled by esbuild with code splitting, so
//   what two entries share lives once in dist/chunks/ (one `SpnegoError`, one `Credentials`
//   class whichever entry a user imports it from). Dependencies stay external.
// - dist/<entry>.cjs: `require()` of the same ES module (Node >= 20.19, Bun, Deno load ES modules
//   with require), so CommonJS and ESM users share one instance: no dual-package hazard.
// - dist/types/: declarations of the sources (tsc), as .d.ts for import and a .d.cts mirror for
//   require, and dist/<entry>.d.ts / .d.cts pointing into them.
// - Source maps carry the sources inline (sourcesContent): src/ is not shipped.
// - package.json `exports` and jsr.json `exports` are rewritten from the table.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BIN, ENTRIES, packageExports, stem } from './entries.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const started = Date.now();

function writeJson(path, update) {
  const before = readFileSync(path, 'utf8');
  const after = `${JSON.stringify(update(JSON.parse(before)), null, 2)}\n`;
  if (after !== before) writeFileSync(path, after);
}

// package.json and jsr.json follow the table.
writeJson(join(ROOT, 'package.json'), (pkg) => ({
  ...pkg,
  exports: packageExports(),
  bin: { [BIN[0]]: 'dist/cli.js' },
}));
if (existsSync(join(ROOT, 'jsr.json'))) {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  writeJson(join(ROOT, 'jsr.json'), (jsr) => ({
    ...jsr,
    version,
    exports: Object.fromEntries(ENTRIES.map(([subpath, src]) => [subpath, `./${src}`])),
  }));
}

rmSync(DIST, { recursive: true, force: true });

// Declarations: one .d.ts per source module, then the CommonJS mirror (.d.cts importing .cjs).
execFileSync(
  process.execPath,
  [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')],
  {
    stdio: 'inherit',
  },
);
const TYPES = join(DIST, 'types');
function mirror(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) mirror(p);
    else if (e.name.endsWith('.d.ts')) {
      const text = readFileSync(p, 'utf8').replace(/(['"])(\.{1,2}\/[^'"]*?)\.js\1/g, '$1$2.cjs$1');
      writeFileSync(p.replace(/\.d\.ts$/, '.d.cts'), text);
    }
  }
}
mirror(TYPES);

// JavaScript: ESM bundles with shared chunks.
const entryPoints = Object.fromEntries([
  ...ENTRIES.map(([subpath, src]) => [stem(subpath), join(ROOT, src)]),
  ['cli', join(ROOT, BIN[1])],
]);
await build({
  entryPoints,
  outdir: DIST,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  sourcesContent: true,
  chunkNames: 'chunks/[name]-[hash]',
  entryNames: '[name]',
  logLevel: 'warning',
  legalComments: 'none',
});

for (const [subpath, src] of ENTRIES) {
  const s = stem(subpath);
  const types = relative(DIST, join(TYPES, src.replace(/^src\//, '').replace(/\.ts$/, '')));
  writeFileSync(join(DIST, `${s}.cjs`), `'use strict';\nmodule.exports = require('./${s}.js');\n`);
  writeFileSync(join(DIST, `${s}.d.ts`), `export * from './${types}.js';\n`);
  writeFileSync(join(DIST, `${s}.d.cts`), `export * from './${types}.cjs';\n`);
}
mkdirSync(DIST, { recursive: true });
console.log(`built ${ENTRIES.length} entries + bin into dist/ in ${Date.now() - started} ms`);
