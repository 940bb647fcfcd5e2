// RFC 3961 §3: what every encryption type provides. Profiles (RFC 3962 AES-SHA1, RFC 8009
// AES-SHA2, RFC 4757 RC4-HMAC, RFC 6803 Camellia) implement this; src/crypto/registry.ts maps ids to them.

/** A protocol key bound to its enctype. Derived per-usage keys are cached inside the profile. */
export interface Key {
  readonly enctype: number;
  readonly bytes: Uint8Array;
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

  stringToKey(password: Uint8Array, salt: Uint8Array, params?: Uint8Array): Uint8Array;
  randomToKey(seed: Uint8Array): Uint8Array;
  /** `confounder` is for tests with fixed vectors only; normally random. */
  encrypt(key: Key, usage: number, plaintext: Uint8Array, confounder?: Uint8Array): Uint8Array;
  /** Throws CryptoError `INTEGRITY` when the MAC does not verify, `BAD_LENGTH` when too short. */
  decrypt(key: Key, usage: number, ciphertext: Uint8Array): Uint8Array;
  prf(key: Key, input: Uint8Array): Uint8Array;
}
