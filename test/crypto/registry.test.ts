// Enctype registry, MIT names, policy, checksum dispatch and parameter validation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha1 } from '@noble/hashes/legacy.js';
import {
  CksumType,
  checksumSize,
  checksumTypeFor,
  constantTimeEqual,
  Enctype,
  enctypeDisplayName,
  enctypeFromName,
  enctypeName,
  expandEnctypeName,
  generateRandomKey,
  getEnctype,
  isEnctypeSupported,
  MIT_DEFAULT_ENCTYPES,
  makeChecksum,
  makeKey,
  randomToKey,
  stringToKey,
  supportedEnctypes,
  verifyChecksum,
} from '../../src/crypto/index.js';
import { KeyStateCache } from '../../src/crypto/key-cache.js';
import { CryptoError } from '../../src/errors.js';

const isCode = (code: string) => (e: unknown) => e instanceof CryptoError && e.code === code;

test('Enctype and CksumType constants', () => {
  assert.equal(Enctype.AES128_CTS_HMAC_SHA1_96, 17);
  assert.equal(Enctype.AES256_CTS_HMAC_SHA1_96, 18);
  assert.equal(Enctype.AES128_CTS_HMAC_SHA256_128, 19);
  assert.equal(Enctype.AES256_CTS_HMAC_SHA384_192, 20);
  assert.equal(Enctype.RC4_HMAC, 23);
  assert.equal(CksumType.HMAC_SHA1_96_AES128, 15);
  assert.equal(CksumType.HMAC_SHA1_96_AES256, 16);
  assert.equal(CksumType.HMAC_SHA256_128_AES128, 19);
  assert.equal(CksumType.HMAC_SHA384_192_AES256, 20);
  assert.equal(CksumType.HMAC_MD5, -138);
});

test('supported enctypes and their required checksums', () => {
  for (const [et, ck] of [
    [17, 15],
    [18, 16],
    [19, 19],
    [20, 20],
    [23, -138],
  ] as const) {
    assert.ok(isEnctypeSupported(et));
    assert.equal(getEnctype(et).id, et);
    assert.equal(checksumTypeFor(et), ck);
  }
  assert.deepEqual(supportedEnctypes(), [18, 17, 20, 19, 23, 25, 26]);
});

test('unimplemented or unknown enctypes throw UNSUPPORTED_ENCTYPE with a hint', () => {
  for (const et of [1, 3, 16, 24, 99, 0, -1]) {
    assert.equal(isEnctypeSupported(et), false);
    assert.throws(
      () => getEnctype(et),
      (e: unknown) => isCode('UNSUPPORTED_ENCTYPE')(e) && typeof (e as CryptoError).hint === 'string',
    );
    assert.throws(() => makeKey(et, new Uint8Array(16)), isCode('UNSUPPORTED_ENCTYPE'));
    assert.throws(() => checksumTypeFor(et), isCode('UNSUPPORTED_ENCTYPE'));
  }
  assert.match(
    String(
      (() => {
        try {
          getEnctype(16);
        } catch (e) {
          return (e as Error).message;
        }
      })(),
    ),
    /des3-cbc-sha1/,
  );
});

test('MIT names as klist prints them, including enctypes we do not implement', () => {
  const expected: Record<number, string> = {
    1: 'des-cbc-crc',
    2: 'des-cbc-md4',
    3: 'des-cbc-md5',
    16: 'des3-cbc-sha1',
    17: 'aes128-cts-hmac-sha1-96',
    18: 'aes256-cts-hmac-sha1-96',
    19: 'aes128-cts-hmac-sha256-128',
    20: 'aes256-cts-hmac-sha384-192',
    23: 'arcfour-hmac',
    24: 'arcfour-hmac-exp',
    25: 'camellia128-cts-cmac',
    26: 'camellia256-cts-cmac',
  };
  for (const [id, name] of Object.entries(expected)) {
    assert.equal(enctypeName(Number(id)), name);
    assert.equal(enctypeFromName(name), Number(id));
  }
  assert.equal(enctypeName(99), 'etype 99');
  assert.equal(enctypeName(5), 'etype 5');
  // MIT 1.20 `klist -e` marks deprecated, weak and unknown enctypes.
  assert.equal(enctypeDisplayName(18), 'aes256-cts-hmac-sha1-96');
  assert.equal(enctypeDisplayName(25), 'camellia128-cts-cmac');
  assert.equal(enctypeDisplayName(23), 'DEPRECATED:arcfour-hmac');
  assert.equal(enctypeDisplayName(1), 'DEPRECATED:des-cbc-crc');
  assert.equal(enctypeDisplayName(99), 'DEPRECATED:etype 99');
});

test('MIT aliases, case-insensitive; families and DEFAULT expand', () => {
  const aliases: Record<string, number> = {
    'aes256-cts': 18,
    'aes128-cts': 17,
    'aes256-sha1': 18,
    'aes128-sha1': 17,
    'aes256-sha2': 20,
    'aes128-sha2': 19,
    'rc4-hmac': 23,
    'arcfour-hmac': 23,
    'arcfour-hmac-md5': 23,
    'ARCFOUR-HMAC-MD5': 23,
    'des3-hmac-sha1': 16,
    'camellia256-cts': 26,
    'camellia128-cts': 25,
    'rc4-hmac-exp': 24,
  };
  for (const [name, id] of Object.entries(aliases)) assert.equal(enctypeFromName(name), id, name);
  assert.equal(enctypeFromName('aes'), undefined);
  assert.equal(enctypeFromName('nonsense'), undefined);
  assert.deepEqual(expandEnctypeName('aes'), [18, 17, 20, 19]);
  assert.deepEqual(expandEnctypeName('rc4'), [23]);
  assert.deepEqual(expandEnctypeName('camellia'), [26, 25]);
  assert.deepEqual(expandEnctypeName('DEFAULT'), [18, 17, 20, 19, 16, 23, 25, 26]);
  assert.deepEqual(expandEnctypeName('aes256-cts'), [18]);
  assert.deepEqual(expandEnctypeName('bogus'), []);
  assert.deepEqual(MIT_DEFAULT_ENCTYPES, [18, 17, 20, 19, 16, 23, 25, 26]);
});

test('weak-crypto policy: no implemented enctype is weak; rc4-hmac is allowed', () => {
  assert.equal(getEnctype(23).weak, false);
  assert.equal(getEnctype(23, { allowWeak: false }).id, 23);
  assert.throws(() => getEnctype(24, { allowWeak: true }), isCode('UNSUPPORTED_ENCTYPE'));
});

test('s2kparams: 0, >= 2^24, wrong length are BAD_PARAMS; below default needs allowLowIterations', async () => {
  const p = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  for (const et of [17, 18, 19, 20]) {
    await assert.rejects(stringToKey(et, 'pw', 'salt', p(0)), isCode('BAD_PARAMS'));
    await assert.rejects(stringToKey(et, 'pw', 'salt', p(0x1000000)), isCode('BAD_PARAMS'));
    await assert.rejects(stringToKey(et, 'pw', 'salt', p(0xffffffff)), isCode('BAD_PARAMS'));
    await assert.rejects(stringToKey(et, 'pw', 'salt', new Uint8Array(3)), isCode('BAD_PARAMS'));
    await assert.rejects(stringToKey(et, 'pw', 'salt', p(1)), isCode('BAD_PARAMS'));
    assert.equal(
      (await stringToKey(et, 'pw', 'salt', p(1), { allowLowIterations: true })).bytes.length,
      getEnctype(et).keyBytes,
    );
  }
});

test('random-to-key and generateRandomKey', () => {
  const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
  assert.deepEqual(randomToKey(18, seed).bytes, seed);
  assert.throws(() => randomToKey(18, seed.subarray(0, 16)), isCode('BAD_LENGTH'));
  const a = generateRandomKey(20);
  const b = generateRandomKey(20);
  assert.equal(a.enctype, 20);
  assert.equal(a.bytes.length, 32);
  assert.notDeepEqual(a.bytes, b.bytes);
});

test('makeKey copies the bytes', () => {
  const raw = new Uint8Array(16).fill(7);
  const k = makeKey(17, raw);
  raw[0] = 0;
  assert.equal(k.bytes[0], 7);
  assert.ok(Object.isFrozen(k));
});

test('checksums: sizes, unkeyed sha1, key/enctype mismatch, unknown type', () => {
  assert.equal(checksumSize(15), 12);
  assert.equal(checksumSize(16), 12);
  assert.equal(checksumSize(19), 16);
  assert.equal(checksumSize(20), 24);
  assert.equal(checksumSize(-138), 16);
  const data = new TextEncoder().encode('abc');
  assert.deepEqual(makeChecksum(14, undefined, 0, data), sha1(data));
  const k18 = generateRandomKey(18);
  assert.throws(() => makeChecksum(15, k18, 1, data), isCode('UNSUPPORTED_CKSUMTYPE'));
  assert.throws(() => makeChecksum(16, undefined, 1, data), isCode('BAD_PARAMS'));
  // rsa-md5 (7): unkeyed, as Windows clients checksum TGS-REQ bodies (RFC 1321 "abc" vector).
  assert.equal(
    Buffer.from(makeChecksum(7, undefined, 6, data)).toString('hex'),
    '900150983cd24fb0d6963f7d28e17f72',
  );
  assert.equal(checksumSize(7), 16);
  for (const t of [0, 1, 2, 8, 12, -137, 999]) {
    assert.throws(() => makeChecksum(t, k18, 1, data), isCode('UNSUPPORTED_CKSUMTYPE'), String(t));
  }
  const c = makeChecksum(16, k18, 1, data);
  assert.ok(verifyChecksum(16, k18, 1, data, c));
  assert.equal(verifyChecksum(16, k18, 2, data, c), false);
  assert.equal(verifyChecksum(16, k18, 1, data, c.subarray(0, 11)), false);
  const bad = c.slice();
  bad[11]! ^= 1;
  assert.equal(verifyChecksum(16, k18, 1, data, bad), false);
});

test('hmac-md5 (-138) is dispatched to the rc4-hmac module', () => {
  const key = generateRandomKey(23);
  const data = new Uint8Array([1, 2, 3]);
  const c = makeChecksum(-138, key, 17, data);
  assert.equal(c.length, 16);
  assert.ok(verifyChecksum(-138, key, 17, data, c));
});

test('constantTimeEqual', () => {
  assert.ok(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
  assert.equal(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
  assert.equal(constantTimeEqual(new Uint8Array([1]), new Uint8Array([1, 0])), false);
  assert.ok(constantTimeEqual(new Uint8Array(0), new Uint8Array(0)));
});

test('derived keys are cached per key: the state is built once, then reused', () => {
  let built = 0;
  const cache = new KeyStateCache((b) => {
    built++;
    return { first: b[0] };
  });
  const bytes = new Uint8Array(16).fill(1);
  const key = { enctype: 17, bytes };
  const s1 = cache.get(key);
  assert.equal(cache.get(key), s1);
  assert.equal(cache.get({ enctype: 17, bytes }), s1); // same array, new Key object
  assert.equal(built, 1);
  bytes[0] = 2; // overwritten in place → rebuilt
  assert.notEqual(cache.get(key), s1);
  assert.equal(built, 2);
});
