// AES-CTS (RFC 3962 §5) against RFC 3962 Appendix B, plus edge lengths and round trips, through
// each engine: node:crypto alone (what Node, Bun and Deno run, the pure-JS AES not even loaded)
// and the pure-JS AES alone (what a platform without node:crypto runs).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cbc, unsafe } from '@noble/ciphers/aes.js';
import {
  AesKey,
  aesReady,
  ctsDecrypt,
  ctsEncryptInPlace,
  setAesCbcBackend,
  setPureAes,
} from '../../src/crypto/aes-cts.js';
import { CryptoError } from '../../src/errors.js';
import { nativeAesCbc } from '../../src/runtime/native-aes.js';
import { hex, loadVectors, toHex } from './helpers.js';

interface Cts {
  cts: { key: string; iv: string; vectors: { input: string; output: string; nextIv: string }[] };
}
const { cts } = loadVectors<Cts>('rfc3962.json');

function enc(key: AesKey, pt: Uint8Array): Uint8Array {
  const buf = new Uint8Array(Math.max(16, pt.length));
  buf.set(pt);
  const n = ctsEncryptInPlace(key, buf, pt.length);
  return buf.subarray(0, n);
}

const ENGINES: Array<[string, () => void]> = [
  [
    'node:crypto alone',
    () => {
      setAesCbcBackend(nativeAesCbc());
      setPureAes(undefined);
    },
  ],
  [
    'pure-JS alone',
    () => {
      setAesCbcBackend(undefined);
      setPureAes(unsafe);
    },
  ],
];

for (const [engine, use] of ENGINES)
  describe(`AES-CTS through ${engine}`, () => {
    after(() => {
      setAesCbcBackend(nativeAesCbc());
      setPureAes(undefined);
    });
    const test = (name: string, fn: () => void) =>
      it(name, () => {
        use();
        fn();
      });

    test('AES-CTS: every RFC 3962 Appendix B vector encrypts and decrypts', () => {
      const key = new AesKey(hex(cts.key));
      assert.equal(cts.vectors.length, 6);
      for (const v of cts.vectors) {
        const out = enc(key, hex(v.input));
        assert.equal(toHex(out), v.output, `encrypt ${v.input.length / 2} bytes`);
        assert.equal(toHex(ctsDecrypt(key, hex(v.output))), v.input, `decrypt ${v.input.length / 2} bytes`);
        // RFC 3962 §5 "next IV" = the next-to-last output block (or the only one).
        const blocks = Math.ceil(out.length / 16);
        const nextIvOff = blocks >= 2 ? (blocks - 2) * 16 : 0;
        assert.equal(toHex(out.subarray(nextIvOff, nextIvOff + 16)), v.nextIv);
      }
    });

    test('AES-CTS: exactly one block is plain AES (ECB), as RFC 3962 §5 says', () => {
      const keyBytes = hex('636869636b656e207465726979616b69');
      const key = new AesKey(keyBytes);
      const block = hex('00112233445566778899aabbccddeeff');
      const ecb = cbc(keyBytes, new Uint8Array(16), { disablePadding: true }).encrypt(block);
      assert.deepEqual(enc(key, block), ecb);
      assert.deepEqual(ctsDecrypt(key, ecb), block);
    });

    test('AES-CTS: a multiple of the block size is CBC with the last two blocks swapped', () => {
      const keyBytes = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
      const key = new AesKey(keyBytes);
      for (const blocks of [2, 3, 5]) {
        const pt = Uint8Array.from({ length: blocks * 16 }, (_, i) => (i * 7) & 0xff);
        const c = cbc(keyBytes, new Uint8Array(16), { disablePadding: true }).encrypt(pt);
        const swapped = new Uint8Array(c);
        swapped.set(c.subarray((blocks - 1) * 16), (blocks - 2) * 16);
        swapped.set(c.subarray((blocks - 2) * 16, (blocks - 1) * 16), (blocks - 1) * 16);
        assert.deepEqual(enc(key, pt), swapped);
      }
    });

    test('AES-CTS: shorter than a block is zero-padded to one block (RFC 3962 §5)', () => {
      const key = new AesKey(hex('636869636b656e207465726979616b69'));
      const out = enc(key, hex('0102030405'));
      assert.equal(out.length, 16);
      assert.deepEqual(ctsDecrypt(key, out).subarray(0, 5), hex('0102030405'));
      assert.throws(
        () => ctsDecrypt(key, new Uint8Array(15)),
        (e: unknown) => e instanceof CryptoError && e.code === 'BAD_LENGTH',
      );
    });

    test('AES-CTS: round trip for every length 16..80 with 128- and 256-bit keys', () => {
      for (const kl of [16, 32]) {
        const key = new AesKey(Uint8Array.from({ length: kl }, (_, i) => i * 3));
        for (let len = 16; len <= 80; len++) {
          const pt = Uint8Array.from({ length: len }, (_, i) => (i * 31 + len) & 0xff);
          const ct = enc(key, pt);
          assert.equal(ct.length, len);
          assert.deepEqual(ctsDecrypt(key, ct), pt, `len ${len}`);
        }
      }
    });
  });

describe('where the platform has no AES', () => {
  after(() => {
    setAesCbcBackend(nativeAesCbc());
    setPureAes(undefined);
  });
  it('an AES operation before aesReady() is a typed error; aesReady() loads the pure-JS AES, then it runs', async () => {
    setAesCbcBackend(undefined);
    setPureAes(undefined);
    const key = new AesKey(hex(cts.key));
    const v = cts.vectors[1]!;
    assert.throws(
      () => enc(key, hex(v.input)),
      (e: unknown) => e instanceof CryptoError && e.code === 'AES_NOT_LOADED' && !!e.hint,
    );
    await aesReady();
    assert.equal(toHex(enc(key, hex(v.input))), v.output);
  });
  it('with a native AES, aesReady() resolves without loading the pure-JS AES', async () => {
    setAesCbcBackend(nativeAesCbc());
    setPureAes(undefined);
    await aesReady();
    const key = new AesKey(hex(cts.key));
    const v = cts.vectors[1]!;
    setAesCbcBackend(undefined);
    assert.throws(() => enc(key, hex(v.input)), { code: 'AES_NOT_LOADED' });
  });
});

describe('the pure-JS AES beside node:crypto', () => {
  after(() => {
    setAesCbcBackend(nativeAesCbc());
    setPureAes(undefined);
  });
  it('is loaded in the background once many short inputs went through native calls, and then takes them', async () => {
    setAesCbcBackend(nativeAesCbc());
    setPureAes(undefined);
    const key = new AesKey(hex(cts.key));
    const v = cts.vectors[1]!;
    for (let i = 0; i < 1100; i++) assert.equal(toHex(enc(key, hex(v.input))), v.output);
    // Once it has landed, AES runs without the backend: the pure-JS engine is there.
    const deadline = Date.now() + 5000;
    for (;;) {
      setAesCbcBackend(undefined);
      try {
        assert.equal(toHex(enc(key, hex(v.input))), v.output);
        break;
      } catch (e) {
        if (!(e instanceof CryptoError && e.code === 'AES_NOT_LOADED') || Date.now() > deadline) throw e;
      } finally {
        setAesCbcBackend(nativeAesCbc());
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  });
});
