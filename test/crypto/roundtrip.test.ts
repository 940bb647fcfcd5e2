// Property tests: random round trips, single-bit tampering, truncation, wrong key or usage.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decrypt, encrypt, generateRandomKey, makeKey, prf } from '../../src/crypto/index.js';
import { CryptoError } from '../../src/errors.js';

const AES = [17, 18, 19, 20] as const;
const MIN_LEN: Record<number, number> = { 17: 28, 18: 28, 19: 32, 20: 40 };

const isCode = (code: string) => (e: unknown) => e instanceof CryptoError && e.code === code;

for (const et of AES) {
  test(`enctype ${et}: random plaintexts and usages round-trip`, () => {
    const key = generateRandomKey(et);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 0xffffffff }), (pt, usage) => {
        const ct = encrypt(key, usage, pt);
        assert.equal(ct.length, pt.length + MIN_LEN[et]!);
        assert.deepEqual(decrypt(key, usage, ct), pt);
      }),
      { numRuns: 150 },
    );
  });

  test(`enctype ${et}: flipping any single bit gives CryptoError INTEGRITY`, () => {
    const key = generateRandomKey(et);
    for (const len of [0, 1, 15, 16, 17, 33]) {
      const ct = encrypt(
        key,
        7,
        Uint8Array.from({ length: len }, (_, i) => i),
      );
      for (let bit = 0; bit < ct.length * 8; bit++) {
        const bad = ct.slice();
        bad[bit >>> 3]! ^= 1 << (bit & 7);
        assert.throws(() => decrypt(key, 7, bad), isCode('INTEGRITY'), `len ${len} bit ${bit}`);
      }
    }
  });

  test(`enctype ${et}: short ciphertext is BAD_LENGTH, truncated-but-long-enough is INTEGRITY`, () => {
    const key = generateRandomKey(et);
    const ct = encrypt(key, 3, new Uint8Array(40));
    for (let n = 0; n < MIN_LEN[et]!; n++) {
      assert.throws(() => decrypt(key, 3, ct.subarray(0, n)), isCode('BAD_LENGTH'), `length ${n}`);
    }
    for (let n = MIN_LEN[et]!; n < ct.length; n++) {
      assert.throws(() => decrypt(key, 3, ct.subarray(0, n)), isCode('INTEGRITY'), `length ${n}`);
    }
  });

  test(`enctype ${et}: wrong usage or wrong key is INTEGRITY`, () => {
    const key = generateRandomKey(et);
    const ct = encrypt(key, 11, new TextEncoder().encode('authenticator'));
    assert.throws(() => decrypt(key, 12, ct), isCode('INTEGRITY'));
    assert.throws(() => decrypt(generateRandomKey(et), 11, ct), isCode('INTEGRITY'));
  });

  test(`enctype ${et}: a Key whose bytes are overwritten in place is not served from a stale cache`, () => {
    const bytes = generateRandomKey(et).bytes.slice();
    const key = { enctype: et, bytes };
    const ct = encrypt(key, 5, new Uint8Array([1, 2, 3]));
    const p1 = prf(key, new Uint8Array([9]));
    bytes[0]! ^= 0xff;
    assert.throws(() => decrypt(key, 5, ct), isCode('INTEGRITY'));
    assert.notDeepEqual(prf(key, new Uint8Array([9])), p1);
    bytes[0]! ^= 0xff;
    assert.deepEqual(decrypt(key, 5, ct), new Uint8Array([1, 2, 3]));
  });

  test(`enctype ${et}: keys of the wrong length are BAD_LENGTH`, () => {
    assert.throws(() => makeKey(et, new Uint8Array(24)), isCode('BAD_LENGTH'));
    assert.throws(
      () => encrypt({ enctype: et, bytes: new Uint8Array(8) }, 1, new Uint8Array(1)),
      isCode('BAD_LENGTH'),
    );
  });
}

test('a confounder of the wrong length is rejected', () => {
  const key = generateRandomKey(18);
  assert.throws(() => encrypt(key, 1, new Uint8Array(4), new Uint8Array(8)), isCode('BAD_LENGTH'));
});

test('key usage outside 0..2^32-1 is BAD_PARAMS', () => {
  const key = generateRandomKey(17);
  for (const u of [-1, 2 ** 32, 1.5, Number.NaN]) {
    assert.throws(() => encrypt(key, u, new Uint8Array(1)), isCode('BAD_PARAMS'), String(u));
  }
});
