// RFC 3961 §5.1 n-fold: stretch or shrink a constant to the cipher's block size.
//
// The input is repeated lcm(inLen, outLen) / inLen times, each copy rotated 13 bits further right
// than the one before, and the result is cut into outLen-byte chunks that are summed with
// one's-complement (end-around carry) addition. Only used on short constants whose derived keys
// are cached, so clarity wins over speed here.

import { CryptoError } from '../errors.js';

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** `outBytes`-octet n-fold of `input` (n = 8 * outBytes bits). */
export function nfold(input: Uint8Array, outBytes: number): Uint8Array {
  const inLen = input.length;
  if (inLen === 0 || !Number.isInteger(outBytes) || outBytes <= 0) {
    throw new CryptoError('BAD_PARAMS', 'n-fold needs a non-empty input and a positive output length');
  }
  const inBits = inLen * 8;
  const total = (inLen * outBytes) / gcd(inLen, outBytes);
  const bitAt = (pos: number): number => (input[pos >>> 3]! >>> (7 - (pos & 7))) & 1;
  const acc = new Uint8Array(outBytes);
  const chunk = new Uint8Array(outBytes);
  for (let start = 0; start < total; start += outBytes) {
    for (let j = 0; j < outBytes; j++) {
      let byte = 0;
      for (let bit = 0; bit < 8; bit++) {
        const pos = (start + j) * 8 + bit; // bit position in the long repeated string
        const copy = Math.floor(pos / inBits); // which rotated copy it falls in
        const src = ((((pos % inBits) - 13 * copy) % inBits) + inBits) % inBits;
        byte = (byte << 1) | bitAt(src);
      }
      chunk[j] = byte;
    }
    addOnesComplement(acc, chunk);
  }
  return acc;
}

function addOnesComplement(acc: Uint8Array, x: Uint8Array): void {
  let carry = 0;
  for (let i = acc.length - 1; i >= 0; i--) {
    const s = acc[i]! + x[i]! + carry;
    acc[i] = s & 0xff;
    carry = s >>> 8;
  }
  // End-around carry: adding it back can carry out again only once (all-ones + 1).
  while (carry !== 0) {
    for (let i = acc.length - 1; i >= 0 && carry !== 0; i--) {
      const s = acc[i]! + carry;
      acc[i] = s & 0xff;
      carry = s >>> 8;
    }
  }
}
