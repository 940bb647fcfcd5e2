// RFC 6803: camellia128-cts-cmac (25) and camellia256-cts-cmac (26), with the checksums
// cmac-camellia128 (17) / cmac-camellia256 (18). The RFC 3961 §5.3 simplified profile (MAC, then
// encrypt, as RFC 3962) with three changes: Camellia in CBC-CS3 instead of AES, CMAC (RFC 4493)
// instead of HMAC-SHA1 (full 128 bits), and key derivation by SP 800-108 feedback mode with CMAC
// instead of n-fold DK. String-to-key is RFC 3962's PBKDF2-HMAC-SHA1 (RFC 6803 §3 keeps SHA-1, and
// MIT 1.20 does too), with the salt prefixed by the enctype name as RFC 8009 later did.
import { CryptoError } from '../errors.js';
import {
  CAMELLIA_BLOCK,
  CamelliaKey,
  camelliaDecryptBlockInto,
  camelliaEncryptBlockInto,
} from './camellia.js';
import { KeyStateCache, UsageMap } from './key-cache.js';
import { randomBytes } from './random.js';
import type { EnctypeProfile, Key } from './types.js';
import {
  checkKeyLength,
  checkUsage,
  constantTimeEqual,
  KC,
  KE,
  KI,
  pbkdf2Iterations,
  usageConstant,
} from './util.js';

const B = CAMELLIA_BLOCK;
const enc = new TextEncoder();
const KERBEROS = enc.encode('kerberos');
const PRF_CONSTANT = enc.encode('prf');
/** RFC 6803 §3: default s2kparams 00 00 80 00 (32768 iterations). */
const DEFAULT_ITERATIONS = 32768;
/** RFC 6803 §3: the MAC and checksum are the whole CMAC output. */
const MAC_BYTES = 16;

/** CMAC (RFC 4493) with one Camellia key: the subkeys K1, K2 are computed once. */
export class CamelliaCmac {
  readonly #key: CamelliaKey;
  readonly #k1 = new Uint8Array(B);
  readonly #k2 = new Uint8Array(B);
  constructor(key: CamelliaKey) {
    this.#key = key;
    const l = new Uint8Array(B);
    camelliaEncryptBlockInto(key, l, 0, l, 0);
    double(l, this.#k1);
    double(this.#k1, this.#k2);
  }

  /** CMAC over `a | b` (b optional), 16 bytes. */
  mac(a: Uint8Array, b?: Uint8Array): Uint8Array {
    let m = a;
    if (b !== undefined && b.length > 0) {
      m = new Uint8Array(a.length + b.length);
      m.set(a);
      m.set(b, a.length);
    }
    const x = new Uint8Array(B);
    // All blocks but the last go through plain CBC-MAC; the last (complete, or padded with
    // 80 00…) is XORed with K1 or K2 first (RFC 4493 §2.4).
    const blocks = Math.max(1, Math.ceil(m.length / B));
    const lastOff = (blocks - 1) * B;
    for (let off = 0; off < lastOff; off += B) {
      for (let i = 0; i < B; i++) x[i]! ^= m[off + i]!;
      camelliaEncryptBlockInto(this.#key, x, 0, x, 0);
    }
    const rest = m.length - lastOff;
    const sub = rest === B ? this.#k1 : this.#k2;
    for (let i = 0; i < B; i++) {
      const v = i < rest ? m[lastOff + i]! : i === rest ? 0x80 : 0;
      x[i]! ^= v ^ sub[i]!;
    }
    camelliaEncryptBlockInto(this.#key, x, 0, x, 0);
    return x;
  }
}

/** Doubling in GF(2^128) with R = 0x87 (RFC 4493 §2.3). */
function double(src: Uint8Array, dst: Uint8Array): void {
  const carry = src[0]! >>> 7;
  for (let i = 0; i < B - 1; i++) dst[i] = ((src[i]! << 1) | (src[i + 1]! >>> 7)) & 0xff;
  dst[B - 1] = ((src[B - 1]! << 1) & 0xff) ^ (carry * 0x87);
}

/**
 * RFC 6803 §2: KDF-FEEDBACK-CMAC — SP 800-108 feedback mode with CMAC as the PRF:
 * K(0) = zeros, K(i) = CMAC(key, K(i-1) | i | constant | 0x00 | k), DR = the first k bits of
 * K(1) | K(2) | …; random-to-key is the identity, so DK = DR.
 */
export function deriveKeyCamellia(base: Uint8Array, constant: Uint8Array, bytes = base.length): Uint8Array {
  const cmac = new CamelliaCmac(new CamelliaKey(base));
  const tail = new Uint8Array(4 + constant.length + 1 + 4);
  tail.set(constant, 4);
  new DataView(tail.buffer).setUint32(tail.length - 4, bytes * 8);
  const out = new Uint8Array(bytes);
  let prev: Uint8Array = new Uint8Array(B);
  for (let i = 1, off = 0; off < bytes; i++, off += B) {
    new DataView(tail.buffer).setUint32(0, i);
    prev = cmac.mac(prev, tail);
    out.set(prev.subarray(0, bytes - off), off);
  }
  return out;
}

/**
 * CBC-CS3 with a zero IV over `buf[0, len)` in place (RFC 6803 §4 uses RFC 3962's CTS with
 * Camellia). One block or less is a single (zero-padded) block; the caller leaves room for it.
 */
export function camelliaCtsEncryptInPlace(key: CamelliaKey, buf: Uint8Array, len: number): void {
  if (len <= B) {
    buf.fill(0, len, B);
    camelliaEncryptBlockInto(key, buf, 0, buf, 0);
    return;
  }
  const lastOff = (Math.ceil(len / B) - 1) * B;
  const tail = len - lastOff;
  for (let off = 0; off < lastOff; off += B) {
    if (off > 0) for (let i = 0; i < B; i++) buf[off + i]! ^= buf[off - B + i]!;
    camelliaEncryptBlockInto(key, buf, off, buf, off);
  }
  // Last plaintext block, zero-padded, chained on the next-to-last ciphertext block; then the two
  // final ciphertext blocks swap places and the (now last) one is cut to the tail length.
  const prevOff = lastOff - B;
  const last = new Uint8Array(B);
  for (let i = 0; i < B; i++) last[i] = (i < tail ? buf[lastOff + i]! : 0) ^ buf[prevOff + i]!;
  camelliaEncryptBlockInto(key, last, 0, last, 0);
  buf.copyWithin(lastOff, prevOff, prevOff + tail);
  buf.set(last, prevOff);
}

export function camelliaCtsDecrypt(key: CamelliaKey, src: Uint8Array): Uint8Array {
  const len = src.length;
  if (len < B) {
    throw new CryptoError('BAD_LENGTH', `Camellia-CTS ciphertext must be at least 16 bytes, got ${len}`);
  }
  const out = new Uint8Array(len);
  if (len === B) {
    camelliaDecryptBlockInto(key, src, 0, out, 0);
    return out;
  }
  const lastOff = (Math.ceil(len / B) - 1) * B;
  const prevOff = lastOff - B;
  const tail = len - lastOff;
  for (let off = 0; off < prevOff; off += B) {
    camelliaDecryptBlockInto(key, src, off, out, off);
    if (off > 0) for (let i = 0; i < B; i++) out[off + i]! ^= src[off - B + i]!;
  }
  // The block at prevOff is the real last ciphertext block: decrypting it gives the stolen
  // next-to-last ciphertext block XOR the zero-padded last plaintext.
  const d = new Uint8Array(B);
  camelliaDecryptBlockInto(key, src, prevOff, d, 0);
  for (let i = 0; i < tail; i++) {
    const c = src[lastOff + i]!;
    out[lastOff + i] = d[i]! ^ c;
    d[i] = c;
  }
  camelliaDecryptBlockInto(key, d, 0, out, prevOff);
  if (prevOff > 0) for (let i = 0; i < B; i++) out[prevOff + i]! ^= src[prevOff - B + i]!;
  return out;
}

interface UsageKeys {
  ke?: CamelliaKey;
  ki?: CamelliaCmac;
  kc?: CamelliaCmac;
}

class KeyState {
  readonly usages = new UsageMap<UsageKeys>();
  #prf: CamelliaCmac | undefined;
  constructor(readonly base: Uint8Array) {}
  #keys(usage: number): UsageKeys {
    return this.usages.get(usage, () => ({}));
  }
  ke(usage: number): CamelliaKey {
    const u = this.#keys(usage);
    u.ke ??= new CamelliaKey(deriveKeyCamellia(this.base, usageConstant(usage, KE)));
    return u.ke;
  }
  ki(usage: number): CamelliaCmac {
    const u = this.#keys(usage);
    u.ki ??= new CamelliaCmac(new CamelliaKey(deriveKeyCamellia(this.base, usageConstant(usage, KI))));
    return u.ki;
  }
  kc(usage: number): CamelliaCmac {
    const u = this.#keys(usage);
    u.kc ??= new CamelliaCmac(new CamelliaKey(deriveKeyCamellia(this.base, usageConstant(usage, KC))));
    return u.kc;
  }
  prf(): CamelliaCmac {
    this.#prf ??= new CamelliaCmac(new CamelliaKey(deriveKeyCamellia(this.base, PRF_CONSTANT)));
    return this.#prf;
  }
}

const cache = new KeyStateCache((bytes) => new KeyState(bytes));

function makeProfile(
  id: 25 | 26,
  keyBytes: 16 | 32,
): EnctypeProfile & { checksum(key: Key, usage: number, data: Uint8Array): Uint8Array } {
  const name = id === 25 ? 'camellia128-cts-cmac' : 'camellia256-cts-cmac';
  const saltPrefix = enc.encode(`${name}\0`);
  const state = (key: Key): KeyState => {
    checkKeyLength(key.bytes, keyBytes, name);
    return cache.get(key);
  };
  const pbkdf2Input = (salt: Uint8Array, params?: Uint8Array) => {
    const saltp = new Uint8Array(saltPrefix.length + salt.length);
    saltp.set(saltPrefix);
    saltp.set(salt, saltPrefix.length);
    return {
      hash: 'SHA-1' as const,
      salt: saltp,
      iterations: pbkdf2Iterations(params, DEFAULT_ITERATIONS),
      dkLen: keyBytes,
    };
  };
  const fromPbkdf2 = (tkey: Uint8Array): Uint8Array => {
    checkKeyLength(tkey, keyBytes, `${name} PBKDF2 output:`);
    return deriveKeyCamellia(tkey, KERBEROS);
  };
  return {
    id,
    name,
    aliases: [id === 25 ? 'camellia128-cts' : 'camellia256-cts'],
    keyBytes,
    seedBytes: keyBytes,
    checksumType: id === 25 ? 17 : 18,
    weak: false,
    defaultS2kParams: new Uint8Array([0, 0, 0x80, 0]),

    // RFC 6803 §3: saltp = enctype-name | 0x00 | salt; tkey = PBKDF2-HMAC-SHA1(password, saltp);
    // key = DK(tkey, "kerberos"). PBKDF2 itself is run (off the event loop) by src/crypto/index.ts.
    stringToKeyPlan(salt, params) {
      return { pbkdf2: pbkdf2Input(salt, params), finish: fromPbkdf2 };
    },

    randomToKey(seed) {
      checkKeyLength(seed, keyBytes, `${name} random-to-key seed:`);
      return seed.slice();
    },

    // RFC 3961 §5.3 with RFC 6803's E and H: C = E(Ke, conf | plaintext), H = CMAC(Ki, conf | plaintext).
    encrypt(key, usage, plaintext, confounder) {
      checkUsage(usage);
      const st = state(key);
      const conf = confounder ?? randomBytes(B);
      checkKeyLength(conf, B, 'confounder:');
      const n = B + plaintext.length;
      const out = new Uint8Array(n + MAC_BYTES);
      out.set(conf);
      out.set(plaintext, B);
      const mac = st.ki(usage).mac(out.subarray(0, n));
      camelliaCtsEncryptInPlace(st.ke(usage), out, n);
      out.set(mac, n);
      return out;
    },

    decrypt(key, usage, ciphertext) {
      checkUsage(usage);
      const st = state(key);
      if (ciphertext.length < B + MAC_BYTES) {
        throw new CryptoError(
          'BAD_LENGTH',
          `${name} ciphertext of ${ciphertext.length} bytes is shorter than ${B + MAC_BYTES}`,
        );
      }
      const n = ciphertext.length - MAC_BYTES;
      const plain = camelliaCtsDecrypt(st.ke(usage), ciphertext.subarray(0, n));
      if (!constantTimeEqual(st.ki(usage).mac(plain), ciphertext.subarray(n))) {
        throw new CryptoError('INTEGRITY', `${name} decryption failed integrity check (usage ${usage})`, {
          hint: 'wrong key (password, keytab kvno) or tampered data',
        });
      }
      return plain.slice(B);
    },

    // RFC 6803 §3: PRF = CMAC(DK(key, "prf"), input), one block.
    prf(key, input) {
      return state(key).prf().mac(input);
    },

    // RFC 6803 §3: cmac-camelliaNNN = CMAC(Kc, data), 128 bits.
    checksum(key, usage, data) {
      checkUsage(usage);
      return state(key).kc(usage).mac(data);
    },
  };
}

export const camellia128CtsCmacProfile = makeProfile(25, 16);
export const camellia256CtsCmacProfile = makeProfile(26, 32);
