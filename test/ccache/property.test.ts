// Hostile input: random bytes and mutated MIT files only ever give a CredentialsError (or a
// valid result), never a RangeError/TypeError, a hang, or output larger than the input.
// PROPERTY_RUNS sets the case count (CI sets 100000).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Ccache, parseCcache, serializeCcache } from '../../src/ccache/ccache.js';
import { parseKeytab, serializeKeytab } from '../../src/ccache/keytab.js';
import { CredentialsError } from '../../src/errors.js';
import { fixture } from './helpers.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);

/** Total bytes a parse result holds (byte arrays + string code units): bounded by the input. */
function footprint(v: unknown): number {
  if (v instanceof Uint8Array) return v.length;
  if (typeof v === 'string') return v.length;
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + footprint(x), 0);
  if (typeof v === 'object' && v !== null)
    return Object.values(v).reduce((n: number, x) => n + footprint(x), 0);
  return 0;
}

function mutated(base: Uint8Array): fc.Arbitrary<Uint8Array> {
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

function checkParser<T>(parse: (b: Uint8Array) => T, reserialize: (t: T) => Uint8Array) {
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

const ccacheCheck = checkParser(parseCcache, serializeCcache);
const keytabCheck = checkParser(parseKeytab, (k) => serializeKeytab(k.entries));
const ccacheHeads = fc.constantFrom(...[1, 2, 3, 4].map((v) => Uint8Array.from([5, v])));

test('ccache parser: random bytes after a valid magic/version', () => {
  fc.assert(
    fc.property(ccacheHeads, fc.uint8Array({ maxLength: 512 }), (head, tail) => {
      ccacheCheck(Uint8Array.from([...head, ...tail]));
    }),
    { numRuns: RUNS },
  );
});

test('ccache parser: mutations of every MIT fixture', () => {
  const bases = [1, 2, 3, 4].map((v) => fixture(`mit-ccache-v${v}.bin`));
  fc.assert(fc.property(fc.constantFrom(...bases).chain(mutated), ccacheCheck), { numRuns: RUNS });
});

test('keytab parser: random bytes and mutations of the MIT keytab', () => {
  const base = fixture('mit-multi-enctype.keytab');
  const heads = fc.constantFrom(Uint8Array.from([5, 1]), Uint8Array.from([5, 2]));
  fc.assert(
    fc.property(
      fc.oneof(
        fc.tuple(heads, fc.uint8Array({ maxLength: 512 })).map(([h, t]) => Uint8Array.from([...h, ...t])),
        mutated(base),
      ),
      keytabCheck,
    ),
    { numRuns: RUNS },
  );
});

test('any ccache we can build round-trips exactly', () => {
  // fast-check builds null-prototype records by default; deepEqual would see them differ.
  const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
    fc.record<T>(model, { noNullPrototype: true });
  const bytes = (max: number) => fc.uint8Array({ maxLength: max });
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const principal = rec({
    realm: fc.string({ unit: 'grapheme', maxLength: 20 }),
    name: rec({
      nameType: fc.integer({ min: -5, max: 20 }),
      nameString: fc.array(fc.string({ unit: 'grapheme', maxLength: 10 }), { maxLength: 4 }),
    }),
  });
  const cred = rec({
    client: principal,
    server: principal,
    // Signed 16-bit, as MIT's ccmarshal reads enctypes and authdata types.
    key: rec({ keytype: fc.integer({ min: -0x8000, max: 0x7fff }), keyvalue: bytes(40) }),
    authTime: u32,
    startTime: u32,
    endTime: u32,
    renewTill: u32,
    isSkey: fc.boolean(),
    flags: u32,
    addresses: fc.array(rec({ addrType: fc.integer({ min: 0, max: 0xffff }), address: bytes(16) }), {
      maxLength: 3,
    }),
    authData: fc.array(rec({ adType: fc.integer({ min: -0x8000, max: 0x7fff }), adData: bytes(16) }), {
      maxLength: 3,
    }),
    ticket: bytes(64),
    secondTicket: bytes(8),
  });
  fc.assert(
    fc.property(principal, fc.array(cred, { maxLength: 5 }), (defaultPrincipal, credentials) => {
      const c: Ccache = {
        version: 4,
        header: { kdcOffset: { seconds: -3, microseconds: 7 }, unknownFields: [] },
        defaultPrincipal,
        credentials,
      };
      assert.deepEqual(parseCcache(serializeCcache(c)), c);
    }),
    { numRuns: Math.min(RUNS, 2000) },
  );
});
