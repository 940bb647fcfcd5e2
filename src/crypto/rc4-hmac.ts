// RC4-HMAC, enctype 23 (RFC 4757), and its checksum type -138 (KERB_CHECKSUM_HMAC_MD5).
// Byte-for-byte as MIT krb5 1.20 does it, which is what the vectors in test/vectors were made with.
import { hmac } from '@noble/hashes/hmac.js';
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { CryptoError } from '../errors.js';
import { KeyedHmac, KeyStateCache, UsageMap } from './key-cache.js';
import { md4 } from './md4.js';
import { randomBytes } from './random.js';
import { Rc4, rc4 } from './rc4.js';
import type { EnctypeProfile, Key } from './types.js';
import { checkUsage, constantTimeEqual } from './util.js';

const KEY_BYTES = 16;
const CKSUM_BYTES = 16; // an HMAC-MD5 output
const CONFOUNDER_BYTES = 8;
// RFC 4757 §4: the ASCII string including its terminating zero octet.
const SIGNATURE_KEY = new TextEncoder().encode('signaturekey\0');

/**
 * RFC 4757 §3 numbers some messages differently from RFC 4120. MIT and Heimdal translate only
 * usage 3 (AS-REP enc-part, which Windows encrypts like a TGS-REP: 8) and MIT also 23 (RFC 4121
 * acceptor sign: 13). RFC 4757 would send 9 (TGS-REP under the authenticator subkey) to 8 as well,
 * but MIT encrypts with 9 and only falls back to 8 when decrypting; `decrypt` does the same.
 */
function msUsage(usage: number): number {
  checkUsage(usage);
  if (usage === 3) return 8;
  if (usage === 23) return 13;
  return usage;
}

// RFC 4757 §3: "T = the message type, encoded as a little-endian four byte integer".
function le32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
}

function checkKey(bytes: Uint8Array): void {
  if (bytes.length !== KEY_BYTES) {
    throw new CryptoError('BAD_LENGTH', `rc4-hmac key must be ${KEY_BYTES} bytes, got ${bytes.length}`);
  }
}

// K1 = HMAC-MD5(key, T) depends only on (key, usage) and both repeat across messages, so K1 is
// derived once, kept as a keyed HMAC (it keys both HMACs of every message), and bounded per key.
const usageMacs = new KeyStateCache((bytes) => ({ bytes, usages: new UsageMap<KeyedHmac>() }));

function usageMac(key: Key, ms: number): KeyedHmac {
  const state = usageMacs.get(key);
  return state.usages.get(ms, () => new KeyedHmac(md5, hmac(md5, state.bytes, le32(ms))));
}

// RFC 4757 §5 DECRYPT (non-export, so K2 = K1): undefined when the checksum does not verify.
function open(k1: KeyedHmac, ciphertext: Uint8Array): Uint8Array | undefined {
  const checksum = ciphertext.subarray(0, CKSUM_BYTES);
  const k3 = k1.mac(CKSUM_BYTES, checksum);
  const confounded = rc4(k3, ciphertext.subarray(CKSUM_BYTES));
  if (!constantTimeEqual(k1.mac(CKSUM_BYTES, confounded), checksum)) return undefined;
  return confounded.slice(CONFOUNDER_BYTES);
}

/**
 * RFC 4757 §2: K = MD4(UTF-16LE(password)), the NT hash; the salt plays no part. `password` is
 * UTF-8 and must be valid UTF-8 (MIT rejects it too, rather than hashing a replacement
 * character that would match no Windows key). Non-BMP characters become surrogate pairs, as
 * Windows stores them.
 */
function ntHash(password: Uint8Array): Uint8Array {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(password);
  } catch (cause) {
    throw new CryptoError('BAD_PARAMS', 'password is not valid UTF-8', {
      cause,
      hint: 'pass the password as UTF-8 bytes (e.g. new TextEncoder().encode(password))',
    });
  }
  // JS strings are UTF-16 code units already; write each as two little-endian octets.
  const utf16 = new Uint8Array(text.length * 2);
  const view = new DataView(utf16.buffer);
  for (let i = 0; i < text.length; i++) view.setUint16(2 * i, text.charCodeAt(i), true);
  const key = md4(utf16);
  utf16.fill(0);
  return key;
}

/** MIT `arcfour-hmac` (aka `rc4-hmac`, `arcfour-hmac-md5`): RFC 4757 encryption type 23. */
export const rc4HmacProfile: EnctypeProfile = {
  id: 23,
  name: 'arcfour-hmac',
  aliases: ['rc4-hmac', 'arcfour-hmac-md5'],
  keyBytes: KEY_BYTES,
  seedBytes: KEY_BYTES,
  checksumType: -138,
  weak: false,
  defaultS2kParams: undefined,

  // RFC 4757 §2: the NT hash of the password (ntHash above).
  stringToKeyPlan(_salt: Uint8Array, params?: Uint8Array) {
    // No s2kparams are defined for this enctype; MIT refuses any, so a KDC sending some is wrong.
    if (params !== undefined && params.length !== 0) {
      throw new CryptoError('BAD_PARAMS', 'rc4-hmac string-to-key takes no s2kparams');
    }
    // One MD4 over the password: cheap whatever the KDC says, so nothing to move off the loop.
    return { finish: ntHash };
  },

  // RFC 4757 defines none; MIT's random-to-key for arcfour is the identity on 16 bytes.
  randomToKey(seed: Uint8Array): Uint8Array {
    checkKey(seed);
    return seed.slice();
  },

  // RFC 4757 §5 ENCRYPT (non-export): checksum | RC4(K3, confounder | plaintext).
  encrypt(key: Key, usage: number, plaintext: Uint8Array, confounder?: Uint8Array): Uint8Array {
    checkKey(key.bytes);
    const conf = confounder ?? randomBytes(CONFOUNDER_BYTES);
    if (conf.length !== CONFOUNDER_BYTES) {
      throw new CryptoError('BAD_LENGTH', `confounder must be ${CONFOUNDER_BYTES} bytes, got ${conf.length}`);
    }
    const k1 = usageMac(key, msUsage(usage));
    const checksum = k1.mac(CKSUM_BYTES, conf, plaintext);
    const stream = new Rc4(k1.mac(CKSUM_BYTES, checksum));
    const out = new Uint8Array(CKSUM_BYTES + CONFOUNDER_BYTES + plaintext.length);
    out.set(checksum);
    out.set(stream.update(conf), CKSUM_BYTES);
    out.set(stream.update(plaintext), CKSUM_BYTES + CONFOUNDER_BYTES);
    return out;
  },

  decrypt(key: Key, usage: number, ciphertext: Uint8Array): Uint8Array {
    checkKey(key.bytes);
    const ms = msUsage(usage);
    if (ciphertext.length < CKSUM_BYTES + CONFOUNDER_BYTES) {
      throw new CryptoError(
        'BAD_LENGTH',
        `rc4-hmac ciphertext must be at least ${CKSUM_BYTES + CONFOUNDER_BYTES} bytes, got ${ciphertext.length}`,
      );
    }
    const plain =
      open(usageMac(key, ms), ciphertext) ?? (usage === 9 ? open(usageMac(key, 8), ciphertext) : undefined);
    if (plain === undefined) {
      throw new CryptoError('INTEGRITY', 'rc4-hmac checksum did not verify (wrong key or tampered data)', {
        hint: 'KRB_AP_ERR_BAD_INTEGRITY: the key does not match the one the peer used',
      });
    }
    return plain;
  },

  // RFC 4757 defines no PRF; MIT (and RFC 6113 users such as FAST) take HMAC-SHA1(key, input).
  prf(key: Key, input: Uint8Array): Uint8Array {
    checkKey(key.bytes);
    return hmac(sha1, key.bytes, input);
  },
};

/**
 * Checksum type -138, KERB_CHECKSUM_HMAC_MD5 (RFC 4757 §4): Ksign = HMAC-MD5(key, "signaturekey\0"),
 * then HMAC-MD5(Ksign, MD5(T | data)). T is the translated usage, as MIT computes it. Any key
 * length: HMAC takes one, and MS-SFU's PA-FOR-USER keys it with the (AES) TGT session key, as
 * MIT and Windows do; only an empty key is refused.
 */
export function hmacMd5Checksum(key: Uint8Array, usage: number, data: Uint8Array): Uint8Array {
  if (key.length === 0) throw new CryptoError('BAD_LENGTH', 'hmac-md5 checksum key is empty');
  const ksign = hmac(md5, key, SIGNATURE_KEY);
  const tmp = md5
    .create()
    .update(le32(msUsage(usage)))
    .update(data)
    .digest();
  return hmac(md5, ksign, tmp);
}

// RFC 4757 §7.3: the GSS-API per-message keys of rc4-hmac contexts. Both steps are RC4 streams,
// so each function both encrypts and decrypts. The intermediate HMAC-MD5(key, 0 as LE32) depends
// on the key only and is kept with it.
const gssBase = new KeyStateCache((bytes) => {
  const xored = bytes.map((b) => b ^ 0xf0);
  return {
    seq: new KeyedHmac(md5, hmac(md5, bytes, le32(0))),
    seal: new KeyedHmac(md5, hmac(md5, xored, le32(0))),
  };
});

/**
 * SND_SEQ of an RFC 4757 §7 token: RC4 keyed by HMAC-MD5(HMAC-MD5(Kss, 0), SGN_CKSUM) over the
 * 8 octets (sequence number big-endian, then four direction octets).
 */
export function rc4HmacGssSeqCrypt(key: Key, checksum: Uint8Array, data: Uint8Array): Uint8Array {
  checkKey(key.bytes);
  return rc4(gssBase.get(key).seq.mac(CKSUM_BYTES, checksum), data);
}

/**
 * The confounder and data of a sealed RFC 4757 §7 Wrap token: RC4 keyed by
 * HMAC-MD5(HMAC-MD5(Kss XOR F0…F0, 0), sequence number as 4 big-endian octets).
 */
export function rc4HmacGssSealCrypt(key: Key, seq: number, data: Uint8Array): Uint8Array {
  checkKey(key.bytes);
  const be = Uint8Array.of(seq >>> 24, (seq >>> 16) & 0xff, (seq >>> 8) & 0xff, seq & 0xff);
  return rc4(gssBase.get(key).seal.mac(CKSUM_BYTES, be), data);
}
