// RC4 (ARCFOUR) stream cipher, needed only by the RC4-HMAC enctype (RFC 4757) and its GSS tokens.
// @noble/ciphers does not ship it. RC4 is weak; it is here for interop with old Active Directory.
import { CryptoError } from '../errors.js';

/**
 * A keystream that continues across calls: RFC 4757 §7 encrypts a GSS Wrap token's confounder and
 * data as one stream, which callers may feed in pieces.
 */
export class Rc4 {
  readonly #s = new Uint8Array(256);
  #i = 0;
  #j = 0;

  constructor(key: Uint8Array) {
    if (key.length < 1 || key.length > 256) {
      throw new CryptoError('BAD_LENGTH', `RC4 key must be 1..256 bytes, got ${key.length}`);
    }
    const s = this.#s;
    for (let i = 0; i < 256; i++) s[i] = i;
    // Key scheduling: one pass of swaps driven by the key bytes, repeated cyclically.
    for (let i = 0, j = 0; i < 256; i++) {
      const si = s[i]!;
      j = (j + si + key[i % key.length]!) & 0xff;
      s[i] = s[j]!;
      s[j] = si;
    }
  }

  /** Returns `data` XOR the next `data.length` keystream bytes (encrypt and decrypt are the same). */
  update(data: Uint8Array): Uint8Array {
    const s = this.#s;
    const out = new Uint8Array(data.length);
    let i = this.#i;
    let j = this.#j;
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff;
      const si = s[i]!;
      j = (j + si) & 0xff;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      out[n] = data[n]! ^ s[(si + sj) & 0xff]!;
    }
    this.#i = i;
    this.#j = j;
    return out;
  }
}

/** One-shot RC4: a fresh keystream from `key` applied to `data`. */
export function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Rc4(key).update(data);
}
