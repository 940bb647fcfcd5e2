#!/usr/bin/env node
// Runs Node's built-in test runner over the *.test.ts files under the given folders.
// Node 20's --test does not expand globs or pick up .ts files itself, so we list them here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const passthrough = [];
const roots = [];
const exclude = [];
for (const a of args) {
  if (a.startsWith('--exclude=')) exclude.push(a.slice('--exclude='.length));
  else if (a.startsWith('--')) passthrough.push(a);
  else roots.push(a);
}

function walk(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (exclude.some((e) => p.startsWith(e))) continue;
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = roots.flatMap((r) => (statSync(r).isDirectory() ? walk(r, []) : [r]));
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...passthrough, ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
