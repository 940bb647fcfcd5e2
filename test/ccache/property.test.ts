// Hostile input: random bytes and mutated MIT files only ever give a CredentialsError (or a
// valid result), never a RangeError/TypeError, a hang, or output larger than the input.
// PROPERTY_RUNS sets the case count (CI sets 100000).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Ccache, parseCcache, serializeCcache } from '../../src/ccache/ccache.js';
import { KcmReply } from '../../src/ccache/kcm-protocol.js';
import { CredentialsError } from '../../src/errors.js';
import { ccacheCheck, ccacheMutated, ccacheRandom, keytabCheck, keytabInput } from './fuzz-inputs.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);

test('ccache parser: random bytes after a valid magic/version', () => {
  fc.assert(fc.property(ccacheRandom, ccacheCheck), { numRuns: RUNS });
});

test('ccache parser: mutations of every MIT fixture', () => {
  fc.assert(fc.property(ccacheMutated(), ccacheCheck), { numRuns: RUNS });
});

test('keytab parser: random bytes and mutations of the MIT keytab', () => {
  fc.assert(fc.property(keytabInput(), keytabCheck), { numRuns: RUNS });
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

test('KCM reply parsers: random bytes give a result or a KCM_MALFORMED_REPLY, nothing else', () => {
  const readers: ((r: KcmReply) => unknown)[] = [
    (r) => r.name(),
    (r) => r.principal(),
    (r) => r.credential(),
    (r) => r.uuids(),
    (r) => r.credentialList(),
    (r) => r.i32(),
  ];
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 600 }),
      fc.integer({ min: 0, max: readers.length - 1 }),
      (bytes, i) => {
        try {
          (readers[i] as (r: KcmReply) => unknown)(new KcmReply(bytes));
        } catch (e) {
          assert.ok(e instanceof CredentialsError, String(e));
          assert.equal(e.code, 'KCM_MALFORMED_REPLY');
        }
      },
    ),
    { numRuns: RUNS },
  );
});
