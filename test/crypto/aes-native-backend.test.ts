// The native AES-CBC and HMAC backends (node:crypto) give exactly the bytes of the pure-JS code,
// for every AES enctype, every length around the thresholds and the block boundaries, and the
// checksum types; each path decrypts the other's output; tampering still fails. Native is tried
// alone (the default on Node, Bun and Deno: the pure-JS AES is never loaded) and beside the
// pure-JS AES (which then takes the short inputs).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { unsafe } from '@noble/ciphers/aes.js';
import {
  decrypt,
  encrypt,
  generateRandomKey,
  makeChecksum,
  setAesCbcBackend,
  setHmacBackend,
  setPureAes,
} from '../../src/crypto/index.js';
import { nativeAesCbc, nativeHmac } from '../../src/runtime/native-aes.js';

/** The checksum type of each enctype (RFC 3962 §7, RFC 8009 §8). */
const CKSUM: Record<number, number> = { 17: 15, 18: 16, 19: 19, 20: 20 };
const native = nativeAesCbc();
const hmac = nativeHmac();
const jsOnly = () => {
  setAesCbcBackend(undefined);
  setHmacBackend(undefined);
  setPureAes(unsafe);
};
/** Both engines loaded: native for long inputs, pure-JS for short ones. */
const mixed = () => {
  setAesCbcBackend(native);
  setHmacBackend(hmac);
  setPureAes(unsafe);
};
/** As a process on Node starts: native alone, @noble/ciphers not loaded. */
const nativeAlone = () => {
  setAesCbcBackend(native);
  setHmacBackend(hmac);
  setPureAes(undefined);
};

for (const [mode, nativeOn] of [
  ['alone', nativeAlone],
  ['beside the pure-JS AES', mixed],
] as const)
  describe(`AES-CTS through node:crypto (${mode}) equals the pure-JS AES-CTS`, {
    skip: native ? false : 'no node:crypto',
  }, () => {
    before(nativeOn);
    after(nativeAlone);
    const lengths = [
      0, 1, 200, 239, 240, 241, 255, 256, 257, 271, 272, 273, 480, 495, 496, 497, 1000, 4095, 65536,
    ];
    for (const enctype of [17, 18, 19, 20]) {
      it(`enctype ${enctype}`, () => {
        const key = generateRandomKey(enctype);
        const confounder = new Uint8Array(16).map((_, i) => i * 7);
        for (const n of lengths) {
          const plain = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
          jsOnly();
          const js = encrypt(key, 24, plain, confounder);
          const jsCk = makeChecksum(CKSUM[enctype]!, key, 25, plain);
          nativeOn();
          const nat = encrypt(key, 24, plain, confounder);
          assert.deepEqual(nat, js, `length ${n}`);
          assert.deepEqual(makeChecksum(CKSUM[enctype]!, key, 25, plain), jsCk);
          assert.deepEqual(decrypt(key, 24, js), plain);
          jsOnly();
          assert.deepEqual(decrypt(key, 24, nat), plain);
          nativeOn();
          const bad = nat.slice();
          bad[Math.floor(bad.length / 2)]! ^= 1;
          assert.throws(() => decrypt(key, 24, bad), { code: 'INTEGRITY' });
        }
      });
    }
  });
