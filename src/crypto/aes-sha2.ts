// RFC 8009: aes128-cts-hmac-sha256-128 (19) and aes256-cts-hmac-sha384-192 (20), with the
// checksums hmac-sha256-128-aes128 (19) / hmac-sha384-192-aes256 (20). Unlike RFC 3962 these
// MAC the ciphertext (encrypt-then-MAC), derive keys with KDF-HMAC-SHA2 (SP 800-108 counter mode)
// instead of DK, and salt PBKDF2 with the enctype name.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import type { CHash } from '@noble/hashes/utils.js';
import { CryptoError } from '../errors.js';
import { AES_BLOCK, AesKey, ctsDecrypt, ctsEncryptInPlace } from './aes-cts.js';
import { KeyedHmac, KeyStateCache, UsageMap } from './key-cache.js';
import { randomBytes } from './random.js';
import type { EnctypeProfile, Key, Pbkdf2Hash } from './types.js';
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

const enc = new TextEncoder();
const KERBEROS = enc.encode('kerberos');
const PRF_LABEL = enc.encode('prf');
/** RFC 8009 §4: default s2kparams 00 00 80 00. */
const DEFAULT_ITERATIONS = 32768;
/** RFC 8009 §5: the cipher state (IV) is all zeros and is MACed in front of the ciphertext. */
const ZERO_IV = new Uint8Array(AES_BLOCK);

/**
 * RFC 8009 §3: KDF-HMAC-SHA2(key, label, [context,] k) = first k bits of
 * HMAC(key, 00000001 | label | 0x00 | context | k as 32-bit big-endian). k never exceeds the hash
 * output here (at most 384 bits), so one counter block is enough.
 */
export function kdfHmacSha2(
  hash: CHash,
  key: Uint8Array,
  label: Uint8Array,
  context: Uint8Array,
  bits: number,
): Uint8Array {
  const msg = new Uint8Array(4 + label.length + 1 + context.length + 4);
  msg[3] = 1;
  msg.set(label, 4);
  msg.set(context, 5 + label.length);
  new DataView(msg.buffer).setUint32(msg.length - 4, bits);
  return hmac(hash, key, msg).slice(0, bits / 8);
}

interface Params {
  id: 19 | 20;
  name: string;
  alias: string;
  hash: CHash;
  /** The same hash by its WebCrypto name, for PBKDF2 off the event loop. */
  pbkdf2Hash: Pbkdf2Hash;
  keyBytes: 16 | 32;
  /** MAC / checksum length: 128 bits for SHA-256, 192 bits for SHA-384 (RFC 8009 §5). */
  macBytes: 16 | 24;
  /** PRF output: the full hash (RFC 8009 §5). */
  prfBits: 256 | 384;
}

interface UsageKeys {
  ke?: AesKey;
  ki?: KeyedHmac;
  kc?: KeyedHmac;
}

function makeProfile(
  p: Params,
): EnctypeProfile & { checksum(key: Key, usage: number, data: Uint8Array): Uint8Array } {
  const { id, name, hash, pbkdf2Hash, keyBytes, macBytes } = p;
  const saltPrefix = enc.encode(`${name}\0`);
  const derive = (base: Uint8Array, usage: number, kind: number, bytes: number): Uint8Array =>
    kdfHmacSha2(hash, base, usageConstant(usage, kind), new Uint8Array(0), bytes * 8);

  class KeyState {
    readonly usages = new UsageMap<UsageKeys>();
    constructor(readonly base: Uint8Array) {}
    #keys(usage: number): UsageKeys {
      return this.usages.get(usage, () => ({}));
    }
    // RFC 8009 §5: Ke is as long as the key; Ki and Kc are as long as the MAC.
    ke(usage: number): AesKey {
      const u = this.#keys(usage);
      u.ke ??= new AesKey(derive(this.base, usage, KE, keyBytes));
      return u.ke;
    }
    ki(usage: number): KeyedHmac {
      const u = this.#keys(usage);
      u.ki ??= new KeyedHmac(hash, derive(this.base, usage, KI, macBytes));
      return u.ki;
    }
    kc(usage: number): KeyedHmac {
      const u = this.#keys(usage);
      u.kc ??= new KeyedHmac(hash, derive(this.base, usage, KC, macBytes));
      return u.kc;
    }
  }
  const cache = new KeyStateCache((bytes) => new KeyState(bytes));
  const state = (key: Key): KeyState => {
    checkKeyLength(key.bytes, keyBytes, name);
    return cache.get(key);
  };

  return {
    id,
    name,
    aliases: [p.alias],
    keyBytes,
    seedBytes: keyBytes,
    checksumType: id,
    weak: false,
    defaultS2kParams: new Uint8Array([0, 0, 0x80, 0]),

    // RFC 8009 §4: saltp = enctype-name | 0x00 | salt; tkey = PBKDF2-HMAC-SHA2(password, saltp);
    // base-key = KDF-HMAC-SHA2(tkey, "kerberos", keylength).
    stringToKeyPlan(salt, params) {
      const iterations = pbkdf2Iterations(params, DEFAULT_ITERATIONS);
      const saltp = new Uint8Array(saltPrefix.length + salt.length);
      saltp.set(saltPrefix);
      saltp.set(salt, saltPrefix.length);
      return {
        pbkdf2: { hash: pbkdf2Hash, salt: saltp, iterations, dkLen: keyBytes },
        finish: (tkey) => kdfHmacSha2(hash, tkey, KERBEROS, new Uint8Array(0), keyBytes * 8),
      };
    },

    randomToKey(seed) {
      checkKeyLength(seed, keyBytes, `${name} random-to-key seed:`);
      return seed.slice();
    },

    // RFC 8009 §5: C = E(Ke, N | plaintext, IV = 0); H = HMAC(Ki, IV | C) truncated; out = C | H.
    encrypt(key, usage, plaintext, confounder) {
      checkUsage(usage);
      const st = state(key);
      const conf = confounder ?? randomBytes(AES_BLOCK);
      checkKeyLength(conf, AES_BLOCK, 'confounder:');
      const n = AES_BLOCK + plaintext.length;
      const out = new Uint8Array(n + macBytes);
      out.set(conf);
      out.set(plaintext, AES_BLOCK);
      ctsEncryptInPlace(st.ke(usage), out, n);
      out.set(st.ki(usage).mac(macBytes, ZERO_IV, out.subarray(0, n)), n);
      return out;
    },

    // The MAC covers the ciphertext, so it is checked before anything is decrypted.
    decrypt(key, usage, ciphertext) {
      checkUsage(usage);
      const st = state(key);
      if (ciphertext.length < AES_BLOCK + macBytes) {
        throw new CryptoError(
          'BAD_LENGTH',
          `${name} ciphertext of ${ciphertext.length} bytes is shorter than ${AES_BLOCK + macBytes}`,
        );
      }
      const n = ciphertext.length - macBytes;
      const c = ciphertext.subarray(0, n);
      const mac = st.ki(usage).mac(macBytes, ZERO_IV, c);
      if (!constantTimeEqual(mac, ciphertext.subarray(n))) {
        throw new CryptoError('INTEGRITY', `${name} decryption failed integrity check (usage ${usage})`, {
          hint: 'wrong key (password, keytab kvno) or tampered data',
        });
      }
      return ctsDecrypt(st.ke(usage), c).slice(AES_BLOCK);
    },

    // RFC 8009 §5: PRF = KDF-HMAC-SHA2(base-key, "prf", input, 256 | 384).
    prf(key, input) {
      return kdfHmacSha2(hash, state(key).base, PRF_LABEL, input, p.prfBits);
    },

    // RFC 8009 §5: checksum = HMAC(Kc, data) truncated to 128 | 192 bits.
    checksum(key, usage, data) {
      checkUsage(usage);
      return state(key).kc(usage).mac(macBytes, data);
    },
  };
}

export const aes128CtsHmacSha256Profile = makeProfile({
  id: 19,
  name: 'aes128-cts-hmac-sha256-128',
  alias: 'aes128-sha2',
  hash: sha256,
  pbkdf2Hash: 'SHA-256',
  keyBytes: 16,
  macBytes: 16,
  prfBits: 256,
});

export const aes256CtsHmacSha384Profile = makeProfile({
  id: 20,
  name: 'aes256-cts-hmac-sha384-192',
  alias: 'aes256-sha2',
  hash: sha384,
  pbkdf2Hash: 'SHA-384',
  keyBytes: 32,
  macBytes: 24,
  prfBits: 384,
});
