// RFC 3962: aes128-cts-hmac-sha1-96 (17) and aes256-cts-hmac-sha1-96 (18), built on the RFC 3961
// §5.3 simplified profile: DK key derivation, AES-CTS, HMAC-SHA1 truncated to 96 bits, and the
// checksums hmac-sha1-96-aes128 (15) / hmac-sha1-96-aes256 (16).

import { sha1 } from '@noble/hashes/legacy.js';
import { CryptoError } from '../errors.js';
import { AES_BLOCK, AesKey, aesEncryptBlock, ctsDecrypt, ctsEncryptInPlace } from './aes-cts.js';
import { KeyedHmac, KeyStateCache, UsageMap } from './key-cache.js';
import { nfold } from './nfold.js';
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

/** RFC 3962 §6: HMAC-SHA1 truncated to 96 bits. */
const MAC_BYTES = 12;
/** RFC 3962 §4: default s2kparams 00 00 10 00. */
const DEFAULT_ITERATIONS = 4096;
const KERBEROS = new TextEncoder().encode('kerberos');
const PRF_CONSTANT = new TextEncoder().encode('prf');

/**
 * RFC 3961 §5.1 DR with AES as E (one block in, one block out, so CTS is plain AES): n-fold the
 * constant to a block, then encrypt repeatedly, concatenating outputs until there are enough
 * bits. random-to-key is the identity for AES (RFC 3962 §6), so DK = DR.
 */
export function deriveKeyAes(base: Uint8Array, constant: Uint8Array): Uint8Array {
  const k = new AesKey(base);
  const out = new Uint8Array(base.length);
  let block = constant.length === AES_BLOCK ? constant : foldedConstant(constant);
  for (let off = 0; off < out.length; off += AES_BLOCK) {
    block = aesEncryptBlock(k, block);
    out.set(block.subarray(0, out.length - off), off);
  }
  return out;
}

// Every fresh session key (one per accepted ticket) derives Kc/Ke/Ki from the same few usage
// constants: n-fold each constant once, not once per key.
const folded = new Map<string, Uint8Array>();
function foldedConstant(constant: Uint8Array): Uint8Array {
  let id = '';
  for (const b of constant) id += String.fromCharCode(b);
  let f = folded.get(id);
  if (f === undefined) {
    f = nfold(constant, AES_BLOCK);
    if (folded.size < 1024) folded.set(id, f);
  }
  return f;
}

interface UsageKeys {
  ke?: AesKey;
  ki?: KeyedHmac;
  kc?: KeyedHmac;
}

class KeyState {
  readonly usages = new UsageMap<UsageKeys>();
  #prf: AesKey | undefined;
  constructor(readonly base: Uint8Array) {}
  keys(usage: number): UsageKeys {
    return this.usages.get(usage, () => ({}));
  }
  ke(usage: number): AesKey {
    const u = this.keys(usage);
    u.ke ??= new AesKey(deriveKeyAes(this.base, usageConstant(usage, KE)));
    return u.ke;
  }
  ki(usage: number): KeyedHmac {
    const u = this.keys(usage);
    u.ki ??= new KeyedHmac(sha1, deriveKeyAes(this.base, usageConstant(usage, KI)));
    return u.ki;
  }
  kc(usage: number): KeyedHmac {
    const u = this.keys(usage);
    u.kc ??= new KeyedHmac(sha1, deriveKeyAes(this.base, usageConstant(usage, KC)));
    return u.kc;
  }
  prfKey(): AesKey {
    this.#prf ??= new AesKey(deriveKeyAes(this.base, PRF_CONSTANT));
    return this.#prf;
  }
}

const cache = new KeyStateCache((bytes) => new KeyState(bytes));

function makeProfile(
  id: 17 | 18,
  keyBytes: 16 | 32,
): EnctypeProfile & {
  checksum(key: Key, usage: number, data: Uint8Array): Uint8Array;
} {
  const name = id === 17 ? 'aes128-cts-hmac-sha1-96' : 'aes256-cts-hmac-sha1-96';
  const state = (key: Key): KeyState => {
    checkKeyLength(key.bytes, keyBytes, name);
    return cache.get(key);
  };
  return {
    id,
    name,
    aliases: id === 17 ? ['aes128-cts', 'aes128-sha1'] : ['aes256-cts', 'aes256-sha1'],
    keyBytes,
    seedBytes: keyBytes,
    checksumType: id === 17 ? 15 : 16,
    weak: false,
    defaultS2kParams: new Uint8Array([0, 0, 0x10, 0]),

    stringToKeyPlan(salt, params) {
      return {
        pbkdf2: {
          hash: 'SHA-1',
          salt,
          iterations: pbkdf2Iterations(params, DEFAULT_ITERATIONS),
          dkLen: keyBytes,
        },
        finish: (tkey) => deriveKeyAes(tkey, KERBEROS), // RFC 3962 §4: key = DK(tkey, "kerberos")
      };
    },

    randomToKey(seed) {
      checkKeyLength(seed, keyBytes, `${name} random-to-key seed:`);
      return seed.slice();
    },

    // RFC 3961 §5.3: C = E(Ke, conf | plaintext), H = HMAC(Ki, conf | plaintext)[0..96 bits].
    encrypt(key, usage, plaintext, confounder) {
      checkUsage(usage);
      const st = state(key);
      const conf = confounder ?? randomBytes(AES_BLOCK);
      checkKeyLength(conf, AES_BLOCK, 'confounder:');
      const n = AES_BLOCK + plaintext.length;
      const out = new Uint8Array(n + MAC_BYTES);
      out.set(conf);
      out.set(plaintext, AES_BLOCK);
      const mac = st.ki(usage).mac(MAC_BYTES, out.subarray(0, n));
      ctsEncryptInPlace(st.ke(usage), out, n);
      out.set(mac, n);
      return out;
    },

    decrypt(key, usage, ciphertext) {
      checkUsage(usage);
      const st = state(key);
      if (ciphertext.length < AES_BLOCK + MAC_BYTES) {
        throw new CryptoError(
          'BAD_LENGTH',
          `${name} ciphertext of ${ciphertext.length} bytes is shorter than 28`,
        );
      }
      const n = ciphertext.length - MAC_BYTES;
      const plain = ctsDecrypt(st.ke(usage), ciphertext.subarray(0, n));
      const mac = st.ki(usage).mac(MAC_BYTES, plain);
      if (!constantTimeEqual(mac, ciphertext.subarray(n))) {
        throw new CryptoError('INTEGRITY', `${name} decryption failed integrity check (usage ${usage})`, {
          hint: 'wrong key (password, keytab kvno) or tampered data',
        });
      }
      return plain.slice(AES_BLOCK);
    },

    // RFC 3962 §6: PRF = E(DK(key, "prf"), truncate-to-block(SHA1(input))), one block of AES.
    prf(key, input) {
      const st = state(key);
      return aesEncryptBlock(st.prfKey(), sha1(input).subarray(0, AES_BLOCK));
    },

    // RFC 3962 §7: hmac-sha1-96-aesNNN = HMAC-SHA1(Kc, data) truncated to 96 bits.
    checksum(key, usage, data) {
      checkUsage(usage);
      return state(key).kc(usage).mac(MAC_BYTES, data);
    },
  };
}

export const aes128CtsHmacSha1Profile = makeProfile(17, 16);
export const aes256CtsHmacSha1Profile = makeProfile(18, 32);
