// RFC 3962 Appendix B string-to-key vectors (PBKDF2-HMAC-SHA1 + DK(tkey, "kerberos")).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha1 } from '@noble/hashes/legacy.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { hex, loadVectors, stringToKeyEveryWay, toHex } from './helpers.js';

interface S2k {
  iterations: number;
  password?: string;
  passwordHex?: string;
  salt?: string;
  saltHex?: string;
  pbkdf2_128: string;
  key17: string;
  pbkdf2_256: string;
  key18: string;
}
const { stringToKey: vectors } = loadVectors<{ stringToKey: S2k[] }>('rfc3962.json');

const params = (n: number): Uint8Array =>
  new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);

test('RFC 3962 B: every string-to-key vector, aes128 and aes256', async () => {
  assert.equal(vectors.length, 7);
  for (const v of vectors) {
    const pw = v.password ?? hex(v.passwordHex!);
    const salt = v.salt ?? hex(v.saltHex!);
    const p = params(v.iterations);
    // The intermediate PBKDF2 values pin down the salt and password encodings.
    assert.equal(toHex(pbkdf2(sha1, pw, salt, { c: v.iterations, dkLen: 32 })), v.pbkdf2_256);
    assert.equal(v.pbkdf2_256.slice(0, 32), v.pbkdf2_128);
    // RFC vectors use counts below the default 4096, so the MIT-style floor is lifted here.
    const k17 = await stringToKeyEveryWay(17, pw, salt, p, { allowLowIterations: true });
    const k18 = await stringToKeyEveryWay(18, pw, salt, p, { allowLowIterations: true });
    assert.equal(toHex(k17.bytes), v.key17, `aes128 iter=${v.iterations}`);
    assert.equal(toHex(k18.bytes), v.key18, `aes256 iter=${v.iterations}`);
    assert.equal(k17.enctype, 17);
    assert.equal(k18.enctype, 18);
  }
});

test('RFC 3962 B: the g-clef password given as a UTF-8 string gives the same key', async () => {
  const v = vectors.find((x) => x.passwordHex === 'f09d849e')!;
  const k = await stringToKeyEveryWay(18, '\u{1D11E}', v.salt!, params(v.iterations), {
    allowLowIterations: true,
  });
  assert.equal(toHex(k.bytes), v.key18);
});
