// Shared machinery for decoder property tests: random inputs and mutations of real messages,
// and the checks every decoder must pass (typed error or a value no larger than its input).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SpnegoError } from '../../src/errors.js';

/** Cases per decoder: CI sets PROPERTY_RUNS=100000; locally a quick default. */
export const PROPERTY_RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);

/** One edit of a byte string, biased towards the bytes that matter to a TLV parser. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.constantFrom(0x00, 0x80, 0x81, 0x84, 0xff, 0x30, 0xa0, 0x1b, 0x7f),
  }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({ kind: fc.constant('hugeLength' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function applyMutation(input: Uint8Array, m: Mutation): Uint8Array {
  if (input.length === 0) return m.kind === 'insert' ? m.bytes : input;
  const at = m.at % input.length;
  switch (m.kind) {
    case 'flip': {
      const out = input.slice();
      out[at] = (out[at] ?? 0) ^ (1 << m.bit);
      return out;
    }
    case 'set':
    case 'byte': {
      const out = input.slice();
      out[at] = m.value;
      return out;
    }
    case 'truncate':
      return input.slice(0, at);
    case 'delete':
      return concat(input.subarray(0, at), input.subarray(Math.min(input.length, at + m.len)));
    case 'insert':
      return concat(input.subarray(0, at), m.bytes, input.subarray(at));
    case 'hugeLength':
      // A declared length of 4 GiB where a length byte was: must not allocate or loop.
      return concat(
        input.subarray(0, at),
        Uint8Array.of(0x84, 0xff, 0xff, 0xff, 0xff),
        input.subarray(at + 1),
      );
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Random bytes, or a real message with one to four edits. */
export function fuzzInput(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const random = fc.uint8Array({ maxLength: 512 });
  if (seeds.length === 0) return random;
  const mutated = fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([seed, ms]) => ms.reduce(applyMutation, seed));
  return fc.oneof({ arbitrary: random, weight: 1 }, { arbitrary: mutated, weight: 3 });
}

/** Total bytes a decoded value holds (byte arrays and strings), to catch over-allocation. */
export function heldBytes(value: unknown, seen = new Set<object>()): number {
  if (value instanceof Uint8Array) return value.byteLength;
  if (typeof value === 'string') return value.length;
  if (typeof value !== 'object' || value === null || seen.has(value)) return 0;
  seen.add(value);
  let n = 0;
  for (const v of Object.values(value)) n += heldBytes(v, seen);
  return n;
}

/**
 * The check for one input: `decode` either returns a value holding no more bytes than it was
 * given or throws a SpnegoError with one of `codes`. Anything else (RangeError, TypeError...) fails.
 */
export function decoderCheck(
  name: string,
  decode: (b: Uint8Array) => unknown,
  codes: readonly string[],
): (input: Uint8Array) => void {
  return (input) => {
    let value: unknown;
    try {
      value = decode(input);
    } catch (e) {
      if (e instanceof SpnegoError && codes.includes(e.code)) return;
      throw new Error(`${name} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
    // Decoded views may alias the input, but never hold more than a small multiple of it
    // (strings count characters; fixed-size fields add a little).
    assert.ok(heldBytes(value) <= input.length * 2 + 64, `${name} holds more than its input`);
  };
}

/** Runs `decoderCheck` over `runs` random and mutated inputs. */
export function checkDecoder(
  name: string,
  decode: (b: Uint8Array) => unknown,
  seeds: readonly Uint8Array[],
  codes: readonly string[],
  runs = PROPERTY_RUNS,
): void {
  fc.assert(fc.property(fuzzInput(seeds), decoderCheck(name, decode, codes)), { numRuns: runs });
}
