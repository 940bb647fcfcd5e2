// examples/: one runnable file per entry point, each against its own MiniKdc, importing the
// package by its name (the built dist/, through package.json `exports`). Each is typechecked
// against the built declarations and run to completion; an entry of scripts/entries.mjs that no
// example imports is reported. Run by `npm run test:package` (after `npm run build`).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ENTRIES, specifier } from '../../scripts/entries.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = join(ROOT, 'examples');
const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'));

function run(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, args, { cwd: ROOT, timeout: 120_000 }, (e, stdout, stderr) =>
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out: `${stdout}${stderr}` }),
    ),
  );
}

describe('examples', () => {
  it('every entry point has an example (reported, not failed: an entry may land before its example)', (t) => {
    const text = files.map((f) => readFileSync(join(DIR, f), 'utf8')).join('\n');
    const missing = ENTRIES.map(([s]) => specifier(s)).filter((s) => !text.includes(`from '${s}'`));
    for (const m of missing) t.diagnostic(`no example imports ${m}: add examples/<name>.ts`);
    assert.ok(files.length >= 4);
  });

  it('typecheck against the built package (strict, no skipLibCheck)', async () => {
    // examples/tsconfig.json: the project's options, skipLibCheck off, `spnego` from dist/.
    const tsconfig = join(DIR, 'tsconfig.json');
    const r = await run([join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig]);
    assert.equal(r.code, 0, r.out);
  });

  for (const f of files) {
    it(`${f} runs to completion`, async () => {
      const r = await run(['--import', 'tsx', join(DIR, f)]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /^ok$/m);
    });
  }
});
