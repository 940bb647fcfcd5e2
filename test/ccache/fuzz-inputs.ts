// Hostile ccache and keytab bytes: the inputs and checks shared by the property tests (CI) and
// `npm run fuzz`.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseCcache, serializeCcache } from '../../src/ccache/ccache.js';
import { parseKeytab, serializeKeytab } from '../../src/ccache/keytab.js';
import { CredentialsError } from '../../src/errors.js';
import { fixture } from './helpers.js';

/** Total bytes a parse result holds (byte arrays + string code units): bounded by the input. */
function footprint(v: unknown): number {
  if (v instanceof Uint8Array) return v.length;
  if (typeof v === 'string') return v.length;
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + footprint(x), 0);
  if (typeof v === 'object' && v !== null)
    return Object.values(v).reduce((n: number, x) => n + footprint(x), 0);
  return 0;
}

export function mutated(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({
      kind: fc.constant('len' as const),
      at: fc.nat(),
      byte: fc.constantFrom(0x00, 0x7f, 0x80, 0xff),
    }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), byte: fc.constant(0) }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 8 }).map((edits) => {
    let b = base.slice();
    for (const e of edits) {
      const at = e.at % Math.max(1, b.length);
      if (e.kind === 'cut') b = b.slice(0, at);
      else if (e.kind === 'len') b.fill(e.byte, at, Math.min(b.length, at + 4));
      else b[at] = e.byte;
    }
    return b;
  });
}

export function checkParser<T>(parse: (b: Uint8Array) => T, reserialize: (t: T) => Uint8Array) {
  return (bytes: Uint8Array): void => {
    const started = performance.now();
    let out: T;
    try {
      out = parse(bytes);
    } catch (e) {
      if (!(e instanceof CredentialsError)) throw e;
      assert.ok(performance.now() - started < 1000, 'slow failure');
      return;
    }
    assert.ok(performance.now() - started < 1000, 'slow parse');
    assert.ok(footprint(out) <= bytes.length, 'parse result larger than its input');
    // Whatever parsed must be writable and read back the same.
    const again = reserialize(out);
    assert.deepEqual(parse(again), parse(reserialize(parse(again))));
  };
}

export const ccacheCheck = checkParser(parseCcache, serializeCcache);
export const keytabCheck = checkParser(parseKeytab, (k) => serializeKeytab(k.entries));
export const ccacheHeads = fc.constantFrom(...[1, 2, 3, 4].map((v) => Uint8Array.from([5, v])));

/** Random bytes after a valid ccache magic/version. */
export const ccacheRandom = fc
  .tuple(ccacheHeads, fc.uint8Array({ maxLength: 512 }))
  .map(([head, tail]) => Uint8Array.from([...head, ...tail]));

/** One of MIT's ccache fixtures (v1-v4) with up to eight edits. */
export function ccacheMutated(): fc.Arbitrary<Uint8Array> {
  const bases = [1, 2, 3, 4].map((v) => fixture(`mit-ccache-v${v}.bin`));
  return fc.constantFrom(...bases).chain(mutated);
}

/** Random bytes after a keytab magic, or MIT's multi-enctype keytab with edits. */
export function keytabInput(): fc.Arbitrary<Uint8Array> {
  const base = fixture('mit-multi-enctype.keytab');
  const heads = fc.constantFrom(Uint8Array.from([5, 1]), Uint8Array.from([5, 2]));
  return fc.oneof(
    fc.tuple(heads, fc.uint8Array({ maxLength: 512 })).map(([h, t]) => Uint8Array.from([...h, ...t])),
    mutated(base),
  );
}
