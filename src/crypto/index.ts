// Public API of src/crypto: RFC 3961 operations over the registered enctypes.

import { CryptoError } from '../errors.js';
import { pbkdf2Step, pbkdf2StepSync } from './pbkdf2.js';
import { randomBytes } from './random.js';
import { getEnctype } from './registry.js';
import type { EnctypeProfile, Key, StringToKeyPlan } from './types.js';
import { MAX_PBKDF2_ITERATIONS, toBytes } from './util.js';

export {
  type AesCbcBackend,
  aesReady,
  loadPureAes,
  type PureAes,
  setAesCbcBackend,
  setPureAes,
} from './aes-cts.js';
export { checksumSize, makeChecksum, verifyChecksum } from './checksum.js';
export { CksumType, Enctype, MIT_DEFAULT_ENCTYPES } from './constants.js';
export { type HmacBackend, type HmacHash, setHmacBackend } from './key-cache.js';
export { nfold } from './nfold.js';
export {
  hmacMd5Checksum,
  rc4HmacGssSealCrypt,
  rc4HmacGssSeqCrypt,
  rc4HmacProfile,
} from './rc4-hmac.js';
export {
  ENCTYPE_FAMILIES,
  enctypeDisplayName,
  enctypeFromName,
  enctypeName,
  expandEnctypeName,
  getEnctype,
  isEnctypeSupported,
  isEnctypeWeak,
  supportedEnctypes,
} from './registry.js';
export type { EnctypeProfile, Key, Pbkdf2Hash, StringToKeyPlan } from './types.js';
export { constantTimeEqual, MAX_PBKDF2_ITERATIONS } from './util.js';

function profileOf(key: Key): EnctypeProfile {
  // Policy (allow_weak_crypto) is applied when enctypes are chosen; a key we already hold is used.
  return getEnctype(key.enctype, { allowWeak: true });
}

/** A protocol key; the bytes are copied so later changes to `bytes` cannot affect it. */
export function makeKey(enctype: number, bytes: Uint8Array): Key {
  const p = getEnctype(enctype, { allowWeak: true });
  if (bytes.length !== p.keyBytes) {
    throw new CryptoError('BAD_LENGTH', `${p.name} key must be ${p.keyBytes} bytes, got ${bytes.length}`, {
      hint: 'the keytab or KDC reply carries a key that does not match its enctype',
    });
  }
  return Object.freeze({ enctype, bytes: bytes.slice() });
}

export interface StringToKeyOptions {
  /**
   * Accept s2kparams iteration counts below the enctype's default (4096 for RFC 3962, 32768 for
   * RFC 8009). Off by default, as in MIT: a spoofed etype-info2 must not make the key cheap to
   * brute-force from an encrypted timestamp. Tests with RFC vectors turn it on.
   */
  allowLowIterations?: boolean;
  /**
   * Most PBKDF2 iterations to run (default DEFAULT_MAX_S2K_ITERATIONS, 2^20). A KDC names the
   * count before anything is authenticated, so this bounds what a spoofed reply can cost. May be
   * raised up to MAX_PBKDF2_ITERATIONS (2^24 - 1), MIT's own limit; beyond that MIT derives no key.
   */
  maxIterations?: number;
}

/**
 * Default cap on string-to-key PBKDF2 iterations: 256 times RFC 3962's default, 32 times RFC
 * 8009's, and far above what MIT, Heimdal and Active Directory KDCs hand out (4096 / 32768).
 * A realm that really uses more raises it (`maxIterations`, krb5.conf `spnego_max_s2k_iterations`).
 */
export const DEFAULT_MAX_S2K_ITERATIONS = 1 << 20;

function iterations(params: Uint8Array): number {
  return params.length === 4
    ? ((params[0]! << 24) | (params[1]! << 16) | (params[2]! << 8) | params[3]!) >>> 0
    : 0;
}

function checkMaxIterations(max: number): number {
  if (!Number.isInteger(max) || max < 1 || max > MAX_PBKDF2_ITERATIONS) {
    throw new CryptoError(
      'BAD_PARAMS',
      `maxIterations must be an integer in 1..${MAX_PBKDF2_ITERATIONS} (MIT's limit), got ${max}`,
    );
  }
  return max;
}

/** Validates everything a KDC can choose (enctype, params, iteration count) before any work. */
function plan(
  enctype: number,
  salt: string | Uint8Array,
  params: Uint8Array | undefined,
  opts: StringToKeyOptions,
): StringToKeyPlan {
  const p = getEnctype(enctype, { allowWeak: true });
  const def = p.defaultS2kParams;
  if (params !== undefined && def !== undefined && params.length === 4 && opts.allowLowIterations !== true) {
    const count = iterations(params);
    if (count !== 0 && count < iterations(def)) {
      throw new CryptoError('BAD_PARAMS', `${p.name} s2kparams ask for only ${count} PBKDF2 iterations`, {
        hint: `fewer than the default ${iterations(def)}; a KDC should not send this (possible spoofed reply)`,
      });
    }
  }
  const planned = p.stringToKeyPlan(toBytes(salt), params);
  const max = checkMaxIterations(opts.maxIterations ?? DEFAULT_MAX_S2K_ITERATIONS);
  if (planned.pbkdf2 !== undefined && planned.pbkdf2.iterations > max) {
    throw new CryptoError(
      'S2K_ITERATIONS_LIMIT',
      `${p.name} string-to-key asks for ${planned.pbkdf2.iterations} PBKDF2 iterations, over the limit of ${max}`,
      {
        hint: `a KDC (or someone spoofing one) asked for an unusually costly key derivation; if your realm really uses this count, raise the limit with the maxIterations / maxStringToKeyIterations option or krb5.conf [libdefaults] spnego_max_s2k_iterations (at most ${MAX_PBKDF2_ITERATIONS})`,
      },
    );
  }
  return planned;
}

/**
 * RFC 3961 string-to-key; strings are UTF-8. `params` is the etype-info2 s2kparams, if any.
 * Asynchronous: PBKDF2 runs through WebCrypto (native, off the JavaScript thread) where present,
 * else through @noble's pbkdf2Async, which yields to the event loop; the iteration count is
 * capped (`maxIterations`). Parameters are checked before any work and fail with CryptoError
 * `BAD_PARAMS` or `S2K_ITERATIONS_LIMIT`.
 */
export async function stringToKey(
  enctype: number,
  password: string | Uint8Array,
  salt: string | Uint8Array,
  params?: Uint8Array,
  opts: StringToKeyOptions = {},
): Promise<Key> {
  const planned = plan(enctype, salt, params, opts);
  const pw = toBytes(password);
  const input = planned.pbkdf2 === undefined ? pw : await pbkdf2Step(planned.pbkdf2, pw);
  return Object.freeze({ enctype, bytes: planned.finish(input) });
}

/**
 * string-to-key on the calling thread, for parameters you chose yourself (a KDC deriving its own
 * principals' keys, as MiniKdc does). Same checks and cap as `stringToKey`; never feed it
 * parameters from a KDC reply, use `stringToKey` there.
 */
export function stringToKeySync(
  enctype: number,
  password: string | Uint8Array,
  salt: string | Uint8Array,
  params?: Uint8Array,
  opts: StringToKeyOptions = {},
): Key {
  const planned = plan(enctype, salt, params, opts);
  const pw = toBytes(password);
  const input = planned.pbkdf2 === undefined ? pw : pbkdf2StepSync(planned.pbkdf2, pw);
  return Object.freeze({ enctype, bytes: planned.finish(input) });
}

export function randomToKey(enctype: number, seed: Uint8Array): Key {
  return Object.freeze({ enctype, bytes: getEnctype(enctype, { allowWeak: true }).randomToKey(seed) });
}

/** A fresh random key (crypto.getRandomValues, pooled in random.ts). */
export function generateRandomKey(enctype: number): Key {
  const p = getEnctype(enctype, { allowWeak: true });
  return Object.freeze({ enctype, bytes: p.randomToKey(randomBytes(p.seedBytes)) });
}

/** `confounder` is for fixed test vectors only; leave it out. */
export function encrypt(key: Key, usage: number, plaintext: Uint8Array, confounder?: Uint8Array): Uint8Array {
  return profileOf(key).encrypt(key, usage, plaintext, confounder);
}

/** CryptoError `INTEGRITY` on a bad MAC (wrong key or tampering), `BAD_LENGTH` if too short. */
export function decrypt(key: Key, usage: number, ciphertext: Uint8Array): Uint8Array {
  return profileOf(key).decrypt(key, usage, ciphertext);
}

/** The required checksum type of an enctype (RFC 3961 §4), e.g. 16 for aes256-cts-hmac-sha1-96. */
export function checksumTypeFor(enctype: number): number {
  return getEnctype(enctype, { allowWeak: true }).checksumType;
}

/** RFC 3961 §3 pseudo-random function (RFC 3962 §6, RFC 8009 §5, RFC 4757). */
export function prf(key: Key, input: Uint8Array): Uint8Array {
  return profileOf(key).prf(key, input);
}
export { randomBytes, randomUint32 } from './random.js';
