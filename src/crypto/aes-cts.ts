// AES in CBC mode with ciphertext stealing (RFC 3962 §5, reused by RFC 8009 §5), zero initial
// vector: Kerberos AES profiles never carry cipher state between messages (RFC 4121 does not
// either), so the IV is always the all-zero "initial cipher state".
//
// Two engines. Where the platform has AES (node:crypto on Node, Bun, Deno, Workers with
// nodejs_compat: src/runtime/native-aes.ts), every operation goes through it; one block (DK/DR,
// the RFC 3962 PRF) is CBC of one block under the zero IV, which is ECB. Elsewhere (Vercel Edge,
// Workers without nodejs_compat) @noble/ciphers' raw block functions do the work, with the
// expanded key schedule computed once per derived key. @noble/ciphers is imported only there,
// with import() (aesReady(), awaited by every asynchronous way into Kerberos crypto:
// Credentials' factories, the initiator, the acceptor, MiniKdc.start): evaluating it builds
// 64K-entry lookup tables, ~10 ms of a serverless start that a platform with AES never needs.
// Once loaded, the pure-JS code also takes inputs shorter than BACKEND_MIN, where a native call
// costs more than it saves.
import type { unsafe as NobleAes } from '@noble/ciphers/aes.js';
import { CryptoError } from '../errors.js';
import { nativeAesCbc } from '../runtime/native-aes.js';

/** The raw block functions of the pure-JS AES. */
export type PureAes = typeof NobleAes;
let pure: PureAes | undefined;

/** Loads the pure-JS AES (@noble/ciphers); every AES operation can then run without a backend. */
export async function loadPureAes(): Promise<void> {
  pure ??= (await import('./noble-aes.js')).unsafe;
}

/**
 * Sets (or, with undefined, removes) the pure-JS AES: loadPureAes() does, tests do both. Removing
 * it starts the count of short native calls afresh (a runner that keeps one process for all test
 * files, as `bun test`, would otherwise never reach the count again).
 */
export function setPureAes(aes: PureAes | undefined): void {
  pure = aes;
  if (aes === undefined) shortNative = 0;
}

/** Resolves once AES can run: at once with a native backend, else when the pure-JS AES has loaded. */
export function aesReady(): Promise<void> {
  return backend !== undefined || pure !== undefined ? Promise.resolve() : loadPureAes();
}

function pureAes(): PureAes {
  if (pure === undefined)
    throw new CryptoError(
      'AES_NOT_LOADED',
      'no AES: the platform has none and the pure-JS AES is not loaded',
      {
        hint: 'await aesReady() (src/crypto) before the first AES operation where node:crypto is absent',
      },
    );
  return pure;
}

export const AES_BLOCK = 16;

/**
 * AES-CBC with a zero IV and no padding, over whole blocks, from the platform (node:crypto's
 * AES-NI code where there is one). CTS is CBC with the last two blocks swapped and the final one
 * truncated.
 */
export interface AesCbcBackend {
  encrypt(key: Uint8Array, blocks: Uint8Array): Uint8Array;
  decrypt(key: Uint8Array, blocks: Uint8Array): Uint8Array;
}

let backend: AesCbcBackend | undefined = nativeAesCbc();
/** Inputs at least this long use the backend. */
const BACKEND_MIN = 256;

/** Sets (or, with undefined, removes) the native AES-CBC (tests compare the two engines). */
export function setAesCbcBackend(b: AesCbcBackend | undefined): void {
  backend = b;
}

/** An AES key with its expanded schedules for the pure-JS AES, each built on first use. */
export class AesKey {
  readonly #raw: Uint8Array;
  /** The key bytes, for a native backend. */
  get raw(): Uint8Array {
    return this.#raw;
  }
  #enc: Uint32Array | undefined;
  #dec: Uint32Array | undefined;
  constructor(raw: Uint8Array) {
    this.#raw = raw;
  }
  get enc(): Uint32Array {
    this.#enc ??= pureAes().expandKeyLE(this.#raw);
    return this.#enc;
  }
  get dec(): Uint32Array {
    this.#dec ??= pureAes().expandKeyDecLE(this.#raw);
    return this.#dec;
  }
}

/**
 * Short inputs that went through a native call because the pure-JS AES was not loaded, before it
 * is loaded after all. A native call costs ~2 µs whatever the size, the pure-JS block ~0.4 µs:
 * a start or a serverless instance makes a handful of AES calls and should not pay ~10 ms of
 * table building for them, while a process that wraps many short messages (SASL) earns that back
 * within a few thousand. The load runs in the background; until it lands, native serves.
 */
const SHORT_NATIVE_BEFORE_PURE = 1024;
let shortNative = 0;

/** The native backend takes this input: always when the pure-JS AES is not loaded. */
function useBackend(len: number): AesCbcBackend | undefined {
  if (backend === undefined) return undefined;
  if (len >= BACKEND_MIN) return backend;
  if (pure !== undefined) return undefined;
  if (++shortNative === SHORT_NATIVE_BEFORE_PURE) loadPureAes().catch(() => undefined);
  return backend;
}

// AES state words are little-endian 32-bit reads of the block (what expandKeyLE expects).
const rd = (b: Uint8Array, o: number): number =>
  b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
function wr(b: Uint8Array, o: number, w: number): void {
  b[o] = w;
  b[o + 1] = w >>> 8;
  b[o + 2] = w >>> 16;
  b[o + 3] = w >>> 24;
}

/** One AES block (ECB), e.g. for DR/DK and the RFC 3962 PRF. */
export function aesEncryptBlock(key: AesKey, block: Uint8Array): Uint8Array {
  const b = useBackend(AES_BLOCK);
  if (b) return b.encrypt(key.raw, block.subarray(0, AES_BLOCK)).slice();
  const o = pureAes().encrypt(key.enc, rd(block, 0), rd(block, 4), rd(block, 8), rd(block, 12));
  const out = new Uint8Array(AES_BLOCK);
  wr(out, 0, o.s0);
  wr(out, 4, o.s1);
  wr(out, 8, o.s2);
  wr(out, 12, o.s3);
  return out;
}

/**
 * Encrypts `buf[0, len)` in place. `len` >= 16: one block is plain AES; longer input is CBC with
 * the last two blocks swapped and the final one truncated (CBC-CS3, RFC 3962 §5). Shorter input is
 * zero-padded to one block as RFC 3962 §5 allows, so the caller must leave room for 16 bytes.
 */
export function ctsEncryptInPlace(key: AesKey, buf: Uint8Array, len: number): number {
  const b = useBackend(len);
  if (b && len <= AES_BLOCK) {
    buf.fill(0, len, AES_BLOCK);
    buf.set(b.encrypt(key.raw, buf.subarray(0, AES_BLOCK)));
    return AES_BLOCK;
  }
  if (b) return nativeCtsEncrypt(b, key, buf, len);
  const unsafe = pureAes();
  const xk = key.enc;
  if (len <= AES_BLOCK) {
    buf.fill(0, len, AES_BLOCK);
    const o = unsafe.encrypt(xk, rd(buf, 0), rd(buf, 4), rd(buf, 8), rd(buf, 12));
    wr(buf, 0, o.s0);
    wr(buf, 4, o.s1);
    wr(buf, 8, o.s2);
    wr(buf, 12, o.s3);
    return AES_BLOCK;
  }
  const blocks = Math.ceil(len / AES_BLOCK);
  const lastOff = (blocks - 1) * AES_BLOCK;
  const tail = len - lastOff; // 1..16 bytes in the final block
  let c0 = 0;
  let c1 = 0;
  let c2 = 0;
  let c3 = 0;
  for (let off = 0; off < lastOff; off += AES_BLOCK) {
    const o = unsafe.encrypt(
      xk,
      rd(buf, off) ^ c0,
      rd(buf, off + 4) ^ c1,
      rd(buf, off + 8) ^ c2,
      rd(buf, off + 12) ^ c3,
    );
    c0 = o.s0;
    c1 = o.s1;
    c2 = o.s2;
    c3 = o.s3;
    // The next-to-last ciphertext block is written (truncated) at the end below.
    if (off + AES_BLOCK < lastOff) {
      wr(buf, off, c0);
      wr(buf, off + 4, c1);
      wr(buf, off + 8, c2);
      wr(buf, off + 12, c3);
    }
  }
  const last = new Uint8Array(AES_BLOCK); // final plaintext block, zero-padded
  last.set(buf.subarray(lastOff, len));
  const o = unsafe.encrypt(xk, rd(last, 0) ^ c0, rd(last, 4) ^ c1, rd(last, 8) ^ c2, rd(last, 12) ^ c3);
  wr(last, 0, c0);
  wr(last, 4, c1);
  wr(last, 8, c2);
  wr(last, 12, c3);
  const prevOff = lastOff - AES_BLOCK;
  wr(buf, prevOff, o.s0);
  wr(buf, prevOff + 4, o.s1);
  wr(buf, prevOff + 8, o.s2);
  wr(buf, prevOff + 12, o.s3);
  buf.set(last.subarray(0, tail), lastOff);
  return len;
}

/** Decrypts `src` (at least one block) into a new array of the same length. */
export function ctsDecrypt(key: AesKey, src: Uint8Array): Uint8Array {
  const len = src.length;
  if (len < AES_BLOCK) {
    throw new CryptoError('BAD_LENGTH', `AES-CTS ciphertext must be at least 16 bytes, got ${len}`);
  }
  const b = useBackend(len);
  if (b && len === AES_BLOCK) return b.decrypt(key.raw, src).slice();
  if (b) return nativeCtsDecrypt(b, key, src);
  const unsafe = pureAes();
  const xk = key.dec;
  const out = new Uint8Array(len);
  if (len === AES_BLOCK) {
    const o = unsafe.decrypt(xk, rd(src, 0), rd(src, 4), rd(src, 8), rd(src, 12));
    wr(out, 0, o.s0);
    wr(out, 4, o.s1);
    wr(out, 8, o.s2);
    wr(out, 12, o.s3);
    return out;
  }
  const blocks = Math.ceil(len / AES_BLOCK);
  const lastOff = (blocks - 1) * AES_BLOCK;
  const prevOff = lastOff - AES_BLOCK;
  const tail = len - lastOff;
  let p0 = 0;
  let p1 = 0;
  let p2 = 0;
  let p3 = 0;
  for (let off = 0; off < prevOff; off += AES_BLOCK) {
    const w0 = rd(src, off);
    const w1 = rd(src, off + 4);
    const w2 = rd(src, off + 8);
    const w3 = rd(src, off + 12);
    const o = unsafe.decrypt(xk, w0, w1, w2, w3);
    wr(out, off, o.s0 ^ p0);
    wr(out, off + 4, o.s1 ^ p1);
    wr(out, off + 8, o.s2 ^ p2);
    wr(out, off + 12, o.s3 ^ p3);
    p0 = w0;
    p1 = w1;
    p2 = w2;
    p3 = w3;
  }
  // The block at prevOff is the real last ciphertext block; decrypting it yields
  // (next-to-last ciphertext) XOR (zero-padded last plaintext).
  const d = new Uint8Array(AES_BLOCK);
  const o = unsafe.decrypt(
    xk,
    rd(src, prevOff),
    rd(src, prevOff + 4),
    rd(src, prevOff + 8),
    rd(src, prevOff + 12),
  );
  wr(d, 0, o.s0);
  wr(d, 4, o.s1);
  wr(d, 8, o.s2);
  wr(d, 12, o.s3);
  for (let i = 0; i < tail; i++) {
    const c = src[lastOff + i]!;
    out[lastOff + i] = d[i]! ^ c;
    d[i] = c; // rebuild the stolen next-to-last ciphertext block in d
  }
  const q = unsafe.decrypt(xk, rd(d, 0), rd(d, 4), rd(d, 8), rd(d, 12));
  wr(out, prevOff, q.s0 ^ p0);
  wr(out, prevOff + 4, q.s1 ^ p1);
  wr(out, prevOff + 8, q.s2 ^ p2);
  wr(out, prevOff + 12, q.s3 ^ p3);
  return out;
}

/** CBC over the zero-padded input, then the last two blocks swapped and the final one cut. */
function nativeCtsEncrypt(b: AesCbcBackend, key: AesKey, buf: Uint8Array, len: number): number {
  const blocks = Math.ceil(len / AES_BLOCK);
  const lastOff = (blocks - 1) * AES_BLOCK;
  const prevOff = lastOff - AES_BLOCK;
  const tail = len - lastOff;
  const padded = new Uint8Array(blocks * AES_BLOCK);
  padded.set(buf.subarray(0, len));
  const c = b.encrypt(key.raw, padded);
  buf.set(c.subarray(0, prevOff), 0);
  buf.set(c.subarray(lastOff, lastOff + AES_BLOCK), prevOff);
  buf.set(c.subarray(prevOff, prevOff + tail), lastOff);
  return len;
}

/**
 * The block at prevOff decrypts (ECB) to the zero-padded last plaintext XOR the stolen
 * next-to-last ciphertext block; that rebuilds the block, and CBC does the rest.
 */
function nativeCtsDecrypt(b: AesCbcBackend, key: AesKey, src: Uint8Array): Uint8Array {
  const len = src.length;
  const blocks = Math.ceil(len / AES_BLOCK);
  const lastOff = (blocks - 1) * AES_BLOCK;
  const prevOff = lastOff - AES_BLOCK;
  const tail = len - lastOff;
  // One block of CBC under the zero IV is ECB.
  const d = b.decrypt(key.raw, src.subarray(prevOff, lastOff)).slice();
  const cbc = new Uint8Array(lastOff);
  cbc.set(src.subarray(0, prevOff));
  cbc.set(src.subarray(lastOff, len), prevOff);
  cbc.set(d.subarray(tail), prevOff + tail);
  const p = b.decrypt(key.raw, cbc);
  const out = new Uint8Array(len);
  out.set(p.subarray(0, lastOff));
  for (let i = 0; i < tail; i++) out[lastOff + i] = d[i]! ^ src[lastOff + i]!;
  return out;
}
