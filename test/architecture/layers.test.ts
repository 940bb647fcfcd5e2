// The layer table of CONTRIBUTING.md, checked on the source: the HTTP client (src/http) and the
// server (src/server) share only what lies below both, so loading one never loads the other, and
// only src/runtime imports `node:` built-ins.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const SRC = resolve(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Static and dynamic import specifiers of one file. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(
    /(?:^|\n)\s*(?:import|export)[^'";]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/g,
  )) {
    out.push((m[1] ?? m[2]) as string);
  }
  return out;
}

/** The top-level folder of src/ a relative specifier of `file` lands in. */
function area(file: string, spec: string): string {
  return relative(SRC, resolve(dirname(file), spec)).split('/')[0] ?? '';
}

describe('layers', () => {
  it('src/server never imports src/http, and src/http never imports src/server', () => {
    for (const [from, forbidden] of [
      ['server', 'http'],
      ['http', 'server'],
    ] as const) {
      for (const f of files(join(SRC, from))) {
        for (const spec of imports(f).filter((s) => s.startsWith('.'))) {
          assert.notEqual(area(f, spec), forbidden, `${relative(SRC, f)} imports ${spec}`);
        }
      }
    }
  });

  it('only src/runtime imports node: built-ins', () => {
    for (const f of files(SRC)) {
      if (relative(SRC, f).startsWith('runtime/')) continue;
      for (const spec of imports(f)) {
        assert.ok(!spec.startsWith('node:'), `${relative(SRC, f)} imports ${spec}`);
      }
    }
  });
});
