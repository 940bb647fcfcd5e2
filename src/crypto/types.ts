// RFC 3961 §3: what every encryption type provides. Profiles (RFC 3962 AES-SHA1, RFC 8009
// AES-SHA2, RFC 4757 RC4-HMAC, RFC 6803 Camellia) implement this; src/crypto/registry.ts maps ids to them.

/** A protocol key bound to its enctype. Derived per-usage keys are cached inside the profile. */
export interface Key {
  readonly enctype: number;
  readonly bytes: Uint8Array;
}

/** The PBKDF2 hashes string-to-key uses (RFC 3962, RFC 8009, RFC 6803), by their WebCrypto names. */
export type Pbkdf2Hash = 'SHA-1' | 'SHA-256' | 'SHA-384';

/** One PBKDF2 run over the password; `iterations` already checked against the hard limit. */
export interface Pbkdf2Step {
  hash: Pbkdf2Hash;
  salt: Uint8Array;
  iterations: number;
  dkLen: number;
}

/**
 * RFC 3961 string-to-key split at its one costly step, so that step can run off the event loop
 * (src/crypto/pbkdf2.ts) while the profile keeps the cheap, enctype-specific rest. An enctype
 * with PBKDF2 (AES, Camellia) names the step and finishes from its output; one without (RC4)
 * finishes from the password.
 */
export interface StringToKeyPlan {
  pbkdf2?: Pbkdf2Step;
  /** The key bytes from PBKDF2's output (or from the password when there is no `pbkdf2`). */
  finish(input: Uint8Array): Uint8Array;
}

export interface EnctypeProfile {
  /** IANA etype number, e.g. 18. */
  readonly id: number;
  /** MIT's name, e.g. `aes256-cts-hmac-sha1-96`. */
  readonly name: string;
  /** Other names MIT accepts in krb5.conf, e.g. `aes256-cts`, `arcfour-hmac`. */
  readonly aliases: readonly string[];
  /** Protocol key length in bytes. */
  readonly keyBytes: number;
  /** random-to-key input length in bytes. */
  readonly seedBytes: number;
  /** The checksum type this enctype requires (RFC 3961 §4 "required checksum mechanism"). */
  readonly checksumType: number;
  /** Weak by MIT's definition (only usable with allow_weak_crypto). rc4-hmac is not weak in MIT 1.20. */
  readonly weak: boolean;
  /** Default s2kparams when none is given (e.g. 00001000 for AES-SHA1). */
  readonly defaultS2kParams: Uint8Array | undefined;

  /** Validates `params` and plans string-to-key; src/crypto/index.ts runs the plan. */
  stringToKeyPlan(salt: Uint8Array, params?: Uint8Array): StringToKeyPlan;
  randomToKey(seed: Uint8Array): Uint8Array;
  /** `confounder` is for tests with fixed vectors only; normally random. */
  encrypt(key: Key, usage: number, plaintext: Uint8Array, confounder?: Uint8Array): Uint8Array;
  /** Throws CryptoError `INTEGRITY` when the MAC does not verify, `BAD_LENGTH` when too short. */
  decrypt(key: Key, usage: number, ciphertext: Uint8Array): Uint8Array;
  prf(key: Key, input: Uint8Array): Uint8Array;
}
