import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Rc4, rc4 } from '../../src/crypto/rc4.js';
import { CryptoError } from '../../src/errors.js';

interface Rfc6229 {
  vectors: { key: string; keyBits: number; keystream: { offset: number; bytes: string }[] }[];
}

const data = JSON.parse(
  readFileSync(new URL('../vectors/crypto/rc4-rfc6229.json', import.meta.url), 'utf8'),
) as Rfc6229;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

describe('rc4', () => {
  it('produces the RFC 6229 keystreams (40..256-bit keys, offsets 0..4096)', () => {
    const bits = new Set(data.vectors.map((v) => v.keyBits));
    assert.deepEqual(
      [...bits].sort((a, b) => a - b),
      [40, 56, 64, 80, 128, 192, 256],
    );
    for (const v of data.vectors) {
      // Encrypting zeros yields the keystream itself.
      const stream = rc4(unhex(v.key), new Uint8Array(4096 + 16));
      for (const k of v.keystream) {
        assert.equal(hex(stream.subarray(k.offset, k.offset + 16)), k.bytes, `${v.key} @${k.offset}`);
      }
    }
  });

  it('continues one keystream across update() calls', () => {
    const key = unhex(data.vectors[4]!.key);
    const msg = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
    const oneShot = rc4(key, msg);
    const cipher = new Rc4(key);
    const parts = [
      cipher.update(msg.subarray(0, 1)),
      cipher.update(msg.subarray(1, 300)),
      cipher.update(msg.subarray(300)),
    ];
    assert.equal(hex(Buffer.concat(parts)), hex(oneShot));
  });

  it('is its own inverse and leaves the input untouched', () => {
    const key = unhex('0102030405');
    const msg = new TextEncoder().encode('attack at dawn');
    const ct = rc4(key, msg);
    assert.notEqual(hex(ct), hex(msg));
    assert.equal(new TextDecoder().decode(rc4(key, ct)), 'attack at dawn');
    assert.equal(new TextDecoder().decode(msg), 'attack at dawn');
  });

  it('rejects empty and over-long keys with BAD_LENGTH', () => {
    for (const len of [0, 257]) {
      assert.throws(
        () => rc4(new Uint8Array(len), new Uint8Array(1)),
        (e: unknown) => e instanceof CryptoError && e.code === 'BAD_LENGTH',
      );
    }
    assert.equal(rc4(new Uint8Array(256), new Uint8Array(4)).length, 4);
  });
});
