// The Camellia block cipher (RFC 3713): 128-bit blocks, 128- and 256-bit keys (the sizes RFC 6803
// uses), as pure functions over Uint8Array in the @noble style. 64-bit quantities are pairs of
// 32-bit words (hi, lo); the F-function's S-boxes and P-function are folded into eight 256-entry
// word tables, built once from SBOX1, so a round is eight lookups and a few XORs.
import { CryptoError } from '../errors.js';

export const CAMELLIA_BLOCK = 16;

/** RFC 3713 §2.4.4 SBOX1 (SBOX2..4 are derived from it by rotations, §2.4.4). */
const SBOX1_HEX =
  '70822cecb327c0e5e4855735ea0cae4123ef6b934519a521ed0e4f4e1d6592bd' +
  '86b8af8f7ceb1fce3e30dc5f5ec50b1aa6e139cad5475d3dd9015ad651566c4d' +
  '8b0d9a66fbccb02d74122b20f0b18499df4ccbc2347e76056db7a931d11704d7' +
  '14583a61de1b111c320f9c165318f222fe44cfb2c3b57a912408e8a860fc6950' +
  'aad0a07da1896297545b1e95e0ff64d210c40048a3f775db8a03e6da093fdd94' +
  '875c8302cd4a90337367f6f39d7fbfe2529bd826c837c63b81966f4b13be632e' +
  'e979a78c9f6ebc8e29f5f9b62ffdb4597898066ae74671bad425ab4288a28dfa' +
  '7207b955f8eeac0a36492a683c38f1a44028d37bbbc943c115e3adf477c7809e';

/** RFC 3713 §2.2: Sigma1..Sigma6 as (hi, lo) word pairs. */
const SIGMA = [
  0xa09e667f, 0x3bcc908b, 0xb67ae858, 0x4caa73b2, 0xc6ef372f, 0xe94f82be, 0x54ff53a5, 0xf1d36f1c, 0x10e527fa,
  0xde682d1d, 0xb05688c2, 0xb3e6c1fd,
];

const rotl8 = (x: number, n: number): number => ((x << n) | (x >>> (8 - n))) & 0xff;
const rotl32 = (x: number, n: number): number => ((x << n) | (x >>> (32 - n))) >>> 0;

// F-function tables. With t1..t8 the S-box outputs, the P-function (RFC 3713 §2.4.3) makes
// y1..y4 (upper word) and y5..y8 (lower word) as XORs of the t's; each table holds one t's
// contribution, already spread over the byte positions it reaches. t5..t8 reach the upper and
// lower words alike and use SBOX2, SBOX3, SBOX4, SBOX1 — the same tables as t2, t3, t4, t1's
// upper-word share.
const U1 = new Uint32Array(256); // t1 = SBOX1(x1) -> y1 y2 y3
const U2 = new Uint32Array(256); // t2 = SBOX2(x2) -> y2 y3 y4
const U3 = new Uint32Array(256); // t3 = SBOX3(x3) -> y1 y3 y4
const U4 = new Uint32Array(256); // t4 = SBOX4(x4) -> y1 y2 y4
const L1 = new Uint32Array(256); // t1 -> y5 y8
const L2 = new Uint32Array(256); // t2 -> y5 y6
const L3 = new Uint32Array(256); // t3 -> y6 y7
const L4 = new Uint32Array(256); // t4 -> y7 y8
{
  const s1 = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s1[i] = Number.parseInt(SBOX1_HEX.slice(2 * i, 2 * i + 2), 16);
  for (let x = 0; x < 256; x++) {
    const a = s1[x]!;
    const b = rotl8(a, 1); // SBOX2
    const c = rotl8(a, 7); // SBOX3
    const d = s1[rotl8(x, 1)]!; // SBOX4
    U1[x] = (a * 0x01010100) >>> 0;
    U2[x] = (b * 0x00010101) >>> 0;
    U3[x] = (c * 0x01000101) >>> 0;
    U4[x] = (d * 0x01010001) >>> 0;
    L1[x] = (a * 0x01000001) >>> 0;
    L2[x] = (b * 0x01010000) >>> 0;
    L3[x] = (c * 0x00010100) >>> 0;
    L4[x] = (d * 0x00000101) >>> 0;
  }
}

// F(X, k) (RFC 3713 §2.4.1) writes its (hi, lo) result here: no allocation per round.
let fHi = 0;
let fLo = 0;
function f(xHi: number, xLo: number, kHi: number, kLo: number): void {
  const a = xHi ^ kHi;
  const b = xLo ^ kLo;
  const shared = U2[b >>> 24]! ^ U3[(b >>> 16) & 0xff]! ^ U4[(b >>> 8) & 0xff]! ^ U1[b & 0xff]!;
  const x1 = a >>> 24;
  const x2 = (a >>> 16) & 0xff;
  const x3 = (a >>> 8) & 0xff;
  const x4 = a & 0xff;
  fHi = (U1[x1]! ^ U2[x2]! ^ U3[x3]! ^ U4[x4]! ^ shared) >>> 0;
  fLo = (L1[x1]! ^ L2[x2]! ^ L3[x3]! ^ L4[x4]! ^ shared) >>> 0;
}

/** 128-bit value as four big-endian words rotated left by n bits (0 <= n < 128). */
function rot128(v: readonly number[], n: number): number[] {
  const q = n >>> 5;
  const r = n & 31;
  const w = [v[q & 3]!, v[(q + 1) & 3]!, v[(q + 2) & 3]!, v[(q + 3) & 3]!];
  if (r === 0) return w;
  return w.map((x, i) => ((x << r) | (w[(i + 1) & 3]! >>> (32 - r))) >>> 0);
}

/**
 * An expanded Camellia key: the subkeys in the order encryption uses them, and in the order
 * decryption does (RFC 3713 §2.3.2 / §2.3.3 run the same network with the list reversed pairwise).
 */
export class CamelliaKey {
  /** 18 rounds for 128-bit keys, 24 for 256-bit keys. */
  readonly rounds: 18 | 24;
  readonly enc: Uint32Array;
  readonly dec: Uint32Array;

  constructor(key: Uint8Array) {
    if (key.length !== 16 && key.length !== 32) {
      throw new CryptoError('BAD_LENGTH', `Camellia key must be 16 or 32 bytes, got ${key.length}`);
    }
    const w = (o: number): number =>
      ((key[o]! << 24) | (key[o + 1]! << 16) | (key[o + 2]! << 8) | key[o + 3]!) >>> 0;
    const kl = [w(0), w(4), w(8), w(12)];
    const kr = key.length === 32 ? [w(16), w(20), w(24), w(28)] : [0, 0, 0, 0];
    // RFC 3713 §2.2: KA (and KB for 256-bit keys) from KL, KR and the Sigmas.
    let d1h = kl[0]! ^ kr[0]!;
    let d1l = kl[1]! ^ kr[1]!;
    let d2h = kl[2]! ^ kr[2]!;
    let d2l = kl[3]! ^ kr[3]!;
    f(d1h, d1l, SIGMA[0]!, SIGMA[1]!);
    d2h ^= fHi;
    d2l ^= fLo;
    f(d2h, d2l, SIGMA[2]!, SIGMA[3]!);
    d1h ^= fHi;
    d1l ^= fLo;
    d1h ^= kl[0]!;
    d1l ^= kl[1]!;
    d2h ^= kl[2]!;
    d2l ^= kl[3]!;
    f(d1h, d1l, SIGMA[4]!, SIGMA[5]!);
    d2h ^= fHi;
    d2l ^= fLo;
    f(d2h, d2l, SIGMA[6]!, SIGMA[7]!);
    d1h ^= fHi;
    d1l ^= fLo;
    const ka = [d1h >>> 0, d1l >>> 0, d2h >>> 0, d2l >>> 0];
    // Subkeys as 64-bit halves of rotated KL/KR/KA/KB: [source, rotation, which half (0 = left)].
    type Src = 'L' | 'R' | 'A' | 'B';
    let plan: [Src, number, 0 | 1][];
    let kb: number[] = [0, 0, 0, 0];
    if (key.length === 16) {
      this.rounds = 18;
      // kw1 kw2 | k1..k6 | ke1 ke2 | k7..k12 | ke3 ke4 | k13..k18 | kw3 kw4 (RFC 3713 §2.2)
      // biome-ignore format: one row per RFC 3713 subkey group
      plan = [
        ['L', 0, 0], ['L', 0, 1],
        ['A', 0, 0], ['A', 0, 1], ['L', 15, 0], ['L', 15, 1], ['A', 15, 0], ['A', 15, 1],
        ['A', 30, 0], ['A', 30, 1],
        ['L', 45, 0], ['L', 45, 1], ['A', 45, 0], ['L', 60, 1], ['A', 60, 0], ['A', 60, 1],
        ['L', 77, 0], ['L', 77, 1],
        ['L', 94, 0], ['L', 94, 1], ['A', 94, 0], ['A', 94, 1], ['L', 111, 0], ['L', 111, 1],
        ['A', 111, 0], ['A', 111, 1],
      ];
    } else {
      this.rounds = 24;
      let b1h = ka[0]! ^ kr[0]!;
      let b1l = ka[1]! ^ kr[1]!;
      let b2h = ka[2]! ^ kr[2]!;
      let b2l = ka[3]! ^ kr[3]!;
      f(b1h, b1l, SIGMA[8]!, SIGMA[9]!);
      b2h ^= fHi;
      b2l ^= fLo;
      f(b2h, b2l, SIGMA[10]!, SIGMA[11]!);
      b1h ^= fHi;
      b1l ^= fLo;
      kb = [b1h >>> 0, b1l >>> 0, b2h >>> 0, b2l >>> 0];
      // kw1 kw2 | k1..k6 | ke1 ke2 | k7..k12 | ke3 ke4 | k13..k18 | ke5 ke6 | k19..k24 | kw3 kw4
      // biome-ignore format: one row per RFC 3713 subkey group
      plan = [
        ['L', 0, 0], ['L', 0, 1],
        ['B', 0, 0], ['B', 0, 1], ['R', 15, 0], ['R', 15, 1], ['A', 15, 0], ['A', 15, 1],
        ['R', 30, 0], ['R', 30, 1],
        ['B', 30, 0], ['B', 30, 1], ['L', 45, 0], ['L', 45, 1], ['A', 45, 0], ['A', 45, 1],
        ['L', 60, 0], ['L', 60, 1],
        ['R', 60, 0], ['R', 60, 1], ['B', 60, 0], ['B', 60, 1], ['L', 77, 0], ['L', 77, 1],
        ['A', 77, 0], ['A', 77, 1],
        ['R', 94, 0], ['R', 94, 1], ['A', 94, 0], ['A', 94, 1], ['L', 111, 0], ['L', 111, 1],
        ['B', 111, 0], ['B', 111, 1],
      ];
    }
    const src: Record<Src, number[]> = { L: kl, R: kr, A: ka, B: kb };
    const n = plan.length;
    this.enc = new Uint32Array(2 * n);
    plan.forEach(([s, rot, half], i) => {
      const r = rot128(src[s], rot);
      this.enc[2 * i] = r[2 * half]!;
      this.enc[2 * i + 1] = r[2 * half + 1]!;
    });
    // Decryption uses the same list back to front, with each kw/ke pair kept in order of use:
    // kw3 kw4, k_last..k1 (reversed), ke_last-pair reversed, …, kw1 kw2 (RFC 3713 §2.3.3).
    this.dec = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      let j = n - 1 - i;
      // Whitening keys (first and last two) keep their pair order: kw3, kw4 first; kw1, kw2 last.
      if (i < 2) j = n - 2 + i;
      else if (i >= n - 2) j = i - (n - 2);
      this.dec[2 * i] = this.enc[2 * j]!;
      this.dec[2 * i + 1] = this.enc[2 * j + 1]!;
    }
  }
}

/**
 * One block through the Feistel network with a subkey list in use order: whitening, six rounds,
 * FL/FL⁻¹, six rounds … whitening (RFC 3713 §2.3.2). Words are big-endian; result in `out`.
 */
function crypt(sk: Uint32Array, rounds: number, w: Uint32Array, out: Uint32Array): void {
  let d1h = w[0]! ^ sk[0]!;
  let d1l = w[1]! ^ sk[1]!;
  let d2h = w[2]! ^ sk[2]!;
  let d2l = w[3]! ^ sk[3]!;
  let p = 4;
  for (let r = 0; r < rounds; r += 2) {
    if (r > 0 && r % 6 === 0) {
      // FL(D1, ke_a): x2 ^= (x1 & k1) <<< 1; x1 ^= x2 | k2.
      d1l ^= rotl32(d1h & sk[p]!, 1);
      d1h ^= d1l | sk[p + 1]!;
      // FL⁻¹(D2, ke_b): y1 ^= y2 | k2; y2 ^= (y1 & k1) <<< 1.
      d2h ^= d2l | sk[p + 3]!;
      d2l ^= rotl32(d2h & sk[p + 2]!, 1);
      p += 4;
    }
    f(d1h, d1l, sk[p]!, sk[p + 1]!);
    d2h ^= fHi;
    d2l ^= fLo;
    f(d2h, d2l, sk[p + 2]!, sk[p + 3]!);
    d1h ^= fHi;
    d1l ^= fLo;
    p += 4;
  }
  out[0] = (d2h ^ sk[p]!) >>> 0;
  out[1] = (d2l ^ sk[p + 1]!) >>> 0;
  out[2] = (d1h ^ sk[p + 2]!) >>> 0;
  out[3] = (d1l ^ sk[p + 3]!) >>> 0;
}

const inW = new Uint32Array(4);
const outW = new Uint32Array(4);

function load(src: Uint8Array, off: number): void {
  for (let i = 0; i < 4; i++) {
    const o = off + 4 * i;
    inW[i] = ((src[o]! << 24) | (src[o + 1]! << 16) | (src[o + 2]! << 8) | src[o + 3]!) >>> 0;
  }
}
function store(dst: Uint8Array, off: number): void {
  for (let i = 0; i < 4; i++) {
    const v = outW[i]!;
    const o = off + 4 * i;
    dst[o] = v >>> 24;
    dst[o + 1] = v >>> 16;
    dst[o + 2] = v >>> 8;
    dst[o + 3] = v;
  }
}

/** Encrypts the block at `src[sOff..sOff+16)` into `dst[dOff..)` (the two may be the same). */
export function camelliaEncryptBlockInto(
  key: CamelliaKey,
  src: Uint8Array,
  sOff: number,
  dst: Uint8Array,
  dOff: number,
): void {
  load(src, sOff);
  crypt(key.enc, key.rounds, inW, outW);
  store(dst, dOff);
}

export function camelliaDecryptBlockInto(
  key: CamelliaKey,
  src: Uint8Array,
  sOff: number,
  dst: Uint8Array,
  dOff: number,
): void {
  load(src, sOff);
  crypt(key.dec, key.rounds, inW, outW);
  store(dst, dOff);
}

/** One block, ECB: for RFC 3713 vectors, DK/CMAC building blocks. */
export function camelliaEncryptBlock(key: CamelliaKey, block: Uint8Array): Uint8Array {
  if (block.length !== CAMELLIA_BLOCK) {
    throw new CryptoError('BAD_LENGTH', `Camellia block must be 16 bytes, got ${block.length}`);
  }
  const out = new Uint8Array(CAMELLIA_BLOCK);
  camelliaEncryptBlockInto(key, block, 0, out, 0);
  return out;
}

export function camelliaDecryptBlock(key: CamelliaKey, block: Uint8Array): Uint8Array {
  if (block.length !== CAMELLIA_BLOCK) {
    throw new CryptoError('BAD_LENGTH', `Camellia block must be 16 bytes, got ${block.length}`);
  }
  const out = new Uint8Array(CAMELLIA_BLOCK);
  camelliaDecryptBlockInto(key, block, 0, out, 0);
  return out;
}
