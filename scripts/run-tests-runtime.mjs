#!/usr/bin/env node
// The hermetic suite (node:test files) under Bun (`bun test`) or Deno (`deno test`), both from
// devDependencies. Their test runners run node:test suites; a few tests pin Node-specific
// behaviour (fetch's error causes, a child process started with process.execPath, Node's
// multipart encoder, the TypeScript API). Those are listed with the reason in
// test/runtimes/known-differences.json: a listed test may fail on that runtime; any other
// failing test fails this run, and a listed test that now passes is reported so the list shrinks.
//   node scripts/run-tests-runtime.mjs bun|deno [files or folders...]
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [runtime, ...roots] = process.argv.slice(2);
if (runtime !== 'bun' && runtime !== 'deno') {
  console.error('usage: run-tests-runtime.mjs bun|deno [paths...]');
  process.exit(2);
}
const walk = (dir, out) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (p.startsWith('test/interop') || p.startsWith('test/package')) continue;
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
};
const files = (roots.length ? roots : ['test']).flatMap((r) =>
  statSync(r).isDirectory() ? walk(r, []) : [r],
);
const known = JSON.parse(readFileSync('test/runtimes/known-differences.json', 'utf8'))[runtime] ?? {};
const bin = `node_modules/.bin/${runtime}`;
const args =
  runtime === 'bun'
    ? ['test', '--timeout', '120000', ...files.map((f) => `./${f}`)]
    : ['test', '--no-check', '--sloppy-imports', '--node-modules-dir=manual', '-A', ...files];
const started = Date.now();
/** One run of the suite: the names of the failing tests, the passed count, the raw output. */
function runOnce() {
  const r = spawnSync(bin, args, {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', FORCE_COLOR: '0' },
  });
  const out = `${r.stdout}\n${r.stderr}`.replace(
    new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'),
    '',
  );
  const failed = new Set();
  if (runtime === 'bun') {
    for (const m of out.matchAll(/^\(fail\) (.*?)(?: \[[\d.]+m?s\])?$/gm)) failed.add(m[1]);
  } else {
    const errors = out.indexOf('\n ERRORS \n');
    for (const m of out.slice(Math.max(errors, 0)).matchAll(/^(.+?) => \S+:\d+:\d+$/gm)) failed.add(m[1]);
  }
  const passed =
    runtime === 'bun' ? /^ *(\d+) pass$/m.exec(out)?.[1] : /\| (\d+) passed \((\d+) steps\)/.exec(out)?.[2];
  return { status: r.status, out, failed, passed };
}
let { status, out, failed, passed } = runOnce();
const listed = (name) => Object.keys(known).find((k) => name.includes(k));
let unexpected = [...failed].filter((n) => !listed(n));
if (unexpected.length) {
  // A test that fails once under load may pass on a second run: only what fails twice counts.
  console.log(`${runtime}: ${unexpected.length} unexpected failures, running the suite again`);
  const again = runOnce();
  unexpected = unexpected.filter((n) => again.failed.has(n));
  if (!unexpected.length) ({ status, out, failed, passed } = again);
}
const nowPassing = Object.keys(known).filter((k) => ![...failed].some((n) => n.includes(k)));
const seconds = ((Date.now() - started) / 1000).toFixed(0);
if (status !== 0 && failed.size === 0) {
  console.log(out.slice(-4000));
  console.log(`${runtime}: the runner failed (exit ${status}) without naming a failing test`);
  process.exit(1);
}
for (const n of failed) console.log(`${listed(n) ? 'known difference' : 'FAILED'}: ${n}`);
for (const k of nowPassing) console.log(`listed as a known difference but passes now (remove it): ${k}`);
if (unexpected.length) console.log(out.slice(-8000));
console.log(
  `${runtime}: ${passed ?? '?'} passed, ${failed.size} failed (${failed.size - unexpected.length} known differences) in ${files.length} files, ${seconds} s`,
);
process.exit(unexpected.length ? 1 : 0);
