import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { hmac } from '@noble/hashes/hmac.js';
import { md5 } from '@noble/hashes/legacy.js';
import fc from 'fast-check';
import { makeChecksum } from '../../src/crypto/checksum.js';
import { rc4 } from '../../src/crypto/rc4.js';
import { hmacMd5Checksum, rc4HmacProfile as p } from '../../src/crypto/rc4-hmac.js';
import type { Key } from '../../src/crypto/types.js';
import { CryptoError } from '../../src/errors.js';

interface S2k {
  source?: string;
  password: string;
  salt?: string;
  params?: string | null;
  key: string;
}
interface Dec {
  key: string;
  usage: number;
  plaintext: string;
  ciphertext: string;
}
interface Ck {
  cksumtype: number;
  key: string;
  usage: number;
  data: string;
  checksum: string;
}
interface Prf {
  key: string;
  input: string;
  output: string;
}

const load = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../vectors/crypto/${name}`, import.meta.url), 'utf8')) as T;
// MIT krb5 1.20 output (from /work/shared/vectors/mit-crypto.json, enctype 23).
const mit = load<{ string_to_key: S2k[]; decrypt: Dec[]; checksum: Ck[]; prf: Prf[] }>('rc4-hmac-mit.json');
// RFC 4757 §2, MIT t_decrypt.c / t_cksums.c, and NT hashes computed with OpenSSL.
const pub = load<{ string_to_key: S2k[]; decrypt: Dec[]; checksum: Ck[] }>('rc4-hmac-published.json');

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const key = (bytes: string | Uint8Array): Key => ({
  enctype: 23,
  bytes: typeof bytes === 'string' ? unhex(bytes) : bytes,
});
const isCrypto =
  (code: string) =>
  (e: unknown): boolean =>
    e instanceof CryptoError && e.code === code;

describe('rc4-hmac profile metadata', () => {
  it('describes enctype 23 as MIT names it', () => {
    assert.equal(p.id, 23);
    assert.equal(p.name, 'arcfour-hmac');
    assert.deepEqual([...p.aliases], ['rc4-hmac', 'arcfour-hmac-md5']);
    assert.equal(p.keyBytes, 16);
    assert.equal(p.seedBytes, 16);
    assert.equal(p.checksumType, -138);
    assert.equal(p.weak, false);
    assert.equal(p.defaultS2kParams, undefined);
  });
});

// RC4 has no PBKDF2 step: its plan finishes straight from the password.
const s2k = (password: Uint8Array, salt: Uint8Array, params?: Uint8Array): Uint8Array =>
  p.stringToKeyPlan(salt, params).finish(password);

describe('rc4-hmac string-to-key (RFC 4757 §2)', () => {
  it('matches every MIT string_to_key vector', () => {
    assert.equal(mit.string_to_key.length, 4);
    for (const v of mit.string_to_key) {
      assert.equal(hex(s2k(utf8(v.password), utf8(v.salt ?? ''))), v.key, v.password);
    }
  });

  it('matches RFC 4757 String2Key("foo") and NT hashes of non-ASCII and non-BMP passwords', () => {
    for (const v of pub.string_to_key) {
      assert.equal(hex(s2k(utf8(v.password), new Uint8Array())), v.key, `${v.source}: ${v.password}`);
    }
  });

  it('ignores the salt', () => {
    const a = s2k(utf8('foo'), utf8('EXAMPLE.TESTalice'));
    const b = s2k(utf8('foo'), utf8('OTHER.REALMbob'));
    assert.equal(hex(a), hex(b));
  });

  it('rejects invalid UTF-8 and any s2kparams with BAD_PARAMS', () => {
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0x66, 0x80, 0x6f]]) {
      assert.throws(() => s2k(Uint8Array.from(bad), new Uint8Array()), isCrypto('BAD_PARAMS'));
    }
    assert.throws(() => s2k(utf8('foo'), new Uint8Array(), unhex('00001000')), isCrypto('BAD_PARAMS'));
    assert.equal(hex(s2k(utf8('foo'), new Uint8Array(), new Uint8Array())), pub.string_to_key[0]!.key);
  });
});

describe('rc4-hmac decrypt', () => {
  it('decrypts every MIT ciphertext (usages incl. the translated 3 and 23)', () => {
    assert.equal(mit.decrypt.length, 13);
    for (const v of [...mit.decrypt, ...pub.decrypt]) {
      assert.equal(hex(p.decrypt(key(v.key), v.usage, unhex(v.ciphertext))), v.plaintext, `usage ${v.usage}`);
    }
  });

  it('fails with INTEGRITY under the wrong usage or the wrong key', () => {
    const v = mit.decrypt[2]!;
    assert.throws(() => p.decrypt(key(v.key), v.usage + 1, unhex(v.ciphertext)), isCrypto('INTEGRITY'));
    const other = unhex(v.key);
    other[0]! ^= 1;
    assert.throws(() => p.decrypt(key(other), v.usage, unhex(v.ciphertext)), isCrypto('INTEGRITY'));
  });

  it('rejects a ciphertext shorter than checksum + confounder with BAD_LENGTH', () => {
    const k = key(mit.decrypt[0]!.key);
    for (const len of [0, 1, 16, 23]) {
      assert.throws(() => p.decrypt(k, 1, new Uint8Array(len)), isCrypto('BAD_LENGTH'));
    }
    assert.throws(() => p.decrypt(k, 1, new Uint8Array(24)), isCrypto('INTEGRITY'));
  });

  it('rejects keys that are not 16 bytes and usages that are not uint32', () => {
    const ct = unhex(mit.decrypt[0]!.ciphertext);
    assert.throws(() => p.decrypt(key(new Uint8Array(15)), 1, ct), isCrypto('BAD_LENGTH'));
    assert.throws(() => p.encrypt(key(new Uint8Array(32)), 1, new Uint8Array()), isCrypto('BAD_LENGTH'));
    for (const usage of [-1, 1.5, 2 ** 32, Number.NaN]) {
      assert.throws(() => p.decrypt(key(mit.decrypt[0]!.key), usage, ct), isCrypto('BAD_PARAMS'));
    }
  });
});

describe('rc4-hmac encrypt', () => {
  // Recovers the confounder MIT chose, so encrypt can be checked byte for byte (RFC 4757 §5:
  // K3 = HMAC(K1, checksum), and the confounder is the first 8 bytes under RC4(K3)).
  const confounderOf = (v: Dec): Uint8Array => {
    const t = new Uint8Array(4);
    new DataView(t.buffer).setUint32(0, v.usage, true);
    const ct = unhex(v.ciphertext);
    const k3 = hmac(md5, hmac(md5, unhex(v.key), t), ct.subarray(0, 16));
    return rc4(k3, ct.subarray(16)).subarray(0, 8);
  };

  it('reproduces MIT ciphertexts given MIT confounders', () => {
    const untranslated = [...mit.decrypt, ...pub.decrypt].filter((v) => v.usage !== 3 && v.usage !== 23);
    assert.ok(untranslated.length >= 15);
    for (const v of untranslated) {
      const ct = p.encrypt(key(v.key), v.usage, unhex(v.plaintext), confounderOf(v));
      assert.equal(hex(ct), v.ciphertext, `usage ${v.usage}`);
    }
  });

  it('translates usage 3 to 8 and 23 to 13 (MIT), and decrypts usage 9 also as 8 (RFC 4757 §3)', () => {
    const k = key(mit.decrypt[0]!.key);
    const msg = utf8('as-rep enc-part');
    assert.deepEqual(p.decrypt(k, 8, p.encrypt(k, 3, msg)), msg);
    assert.deepEqual(p.decrypt(k, 13, p.encrypt(k, 23, msg)), msg);
    assert.deepEqual(p.decrypt(k, 9, p.encrypt(k, 8, msg)), msg);
    assert.deepEqual(p.decrypt(k, 9, p.encrypt(k, 9, msg)), msg);
    assert.throws(() => p.decrypt(k, 8, p.encrypt(k, 9, msg)), isCrypto('INTEGRITY'));
    assert.throws(() => p.decrypt(k, 10, p.encrypt(k, 8, msg)), isCrypto('INTEGRITY'));
  });

  it('rejects a confounder that is not 8 bytes', () => {
    const k = key(mit.decrypt[0]!.key);
    assert.throws(() => p.encrypt(k, 1, new Uint8Array(1), new Uint8Array(7)), isCrypto('BAD_LENGTH'));
  });

  it('round-trips random data; any flipped bit fails with INTEGRITY', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (kb, usage, msg, pos, bit) => {
          const k = key(kb);
          const ct = p.encrypt(k, usage, msg);
          assert.equal(ct.length, 16 + 8 + msg.length);
          assert.deepEqual(p.decrypt(k, usage, ct), msg);
          const bad = ct.slice();
          bad[pos % bad.length]! ^= 1 << bit;
          assert.throws(() => p.decrypt(k, usage, bad), isCrypto('INTEGRITY'));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('uses a fresh confounder each time', () => {
    const k = key(mit.decrypt[0]!.key);
    assert.notEqual(hex(p.encrypt(k, 1, utf8('x'))), hex(p.encrypt(k, 1, utf8('x'))));
  });

  it('keeps per-usage keys apart when one Key is used with many usages', () => {
    const k = key(mit.decrypt[0]!.key);
    const cts = Array.from({ length: 100 }, (_, u) => p.encrypt(k, u, utf8(`usage ${u}`)));
    for (let u = 99; u >= 0; u--)
      assert.equal(new TextDecoder().decode(p.decrypt(k, u, cts[u]!)), `usage ${u}`);
    // A second Key object with the same bytes interoperates; one with other bytes does not.
    assert.equal(new TextDecoder().decode(p.decrypt(key(mit.decrypt[0]!.key), 5, cts[5]!)), 'usage 5');
    assert.throws(() => p.decrypt(key(new Uint8Array(16)), 5, cts[5]!), isCrypto('INTEGRITY'));
  });
});

describe('hmacMd5Checksum (checksum type -138, RFC 4757 §4)', () => {
  it('matches every MIT checksum, including translated usage 3', () => {
    assert.equal(mit.checksum.length, 5);
    for (const v of [...mit.checksum, ...pub.checksum]) {
      assert.equal(v.cksumtype, -138);
      assert.equal(
        hex(hmacMd5Checksum(unhex(v.key), v.usage, unhex(v.data))),
        v.checksum,
        `usage ${v.usage}`,
      );
    }
  });

  it('depends on usage and key, and refuses only an empty key', () => {
    const v = mit.checksum[0]!;
    assert.notEqual(hex(hmacMd5Checksum(unhex(v.key), v.usage + 1, unhex(v.data))), v.checksum);
    assert.notEqual(hex(hmacMd5Checksum(new Uint8Array(16), v.usage, unhex(v.data))), v.checksum);
    assert.throws(() => hmacMd5Checksum(new Uint8Array(0), 1, new Uint8Array()), isCrypto('BAD_LENGTH'));
  });

  it('is keyed with any key length, as MS-SFU PA-FOR-USER needs (AES-256 session key)', () => {
    // MIT krb5 1.20.1 krb5_c_make_checksum(-138, aes256 key 00..1f, usage 17 (KERB_NON_KERB_CKSUM_SALT),
    // name-type 10 LE | "alice" | "EXAMPLE.TEST" | "Kerberos"), computed with libkrb5 on this machine.
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const data = new TextEncoder().encode('\x0a\x00\x00\x00aliceEXAMPLE.TESTKerberos');
    assert.equal(hex(hmacMd5Checksum(key, 17, data)), 'e0492b045035ec023b820efa4fcb592f');
    assert.equal(
      hex(makeChecksum(-138, { enctype: 18, bytes: key }, 17, data)),
      'e0492b045035ec023b820efa4fcb592f',
    );
  });
});

describe('rc4-hmac prf and random-to-key', () => {
  it('matches every MIT prf vector (HMAC-SHA1)', () => {
    assert.equal(mit.prf.length, 3);
    for (const v of mit.prf) assert.equal(hex(p.prf(key(v.key), unhex(v.input))), v.output);
  });

  it('random-to-key is the identity on 16 bytes and returns a copy', () => {
    const seed = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    const k = p.randomToKey(seed);
    assert.deepEqual(k, seed);
    k[0] = 0xff;
    assert.equal(seed[0], 0);
    assert.throws(() => p.randomToKey(new Uint8Array(15)), isCrypto('BAD_LENGTH'));
  });
});
