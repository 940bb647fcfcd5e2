// Checksum dispatch (RFC 3961 §4 get_mic / verify_mic).
//
// Supported checksum types:
//    7  rsa-md5 (unkeyed, RFC 3961 §6.1.3): Windows puts it over TGS-REQ bodies    — no key
//   14  sha1 (unkeyed NIST SHA-1, RFC 3961 §8; MIT "sha1")        — no key
//   15  hmac-sha1-96-aes128      (RFC 3962)                          — key of enctype 17
//   16  hmac-sha1-96-aes256      (RFC 3962)                          — key of enctype 18
//   19  hmac-sha256-128-aes128   (RFC 8009)                          — key of enctype 19
//   20  hmac-sha384-192-aes256   (RFC 8009)                          — key of enctype 20
//  -138 hmac-md5 (RFC 4757 §4, MIT "hmac-md5-rc4")                  — any key (used with rc4-hmac)
// Everything else (CRC32, rsa-md4, DES and DES3 MACs…) is CryptoError
// UNSUPPORTED_CKSUMTYPE: no KDC we target requires them, and the keyed ones need enctypes we do
// not implement.
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { CryptoError } from '../errors.js';
import { aes128CtsHmacSha1Profile, aes256CtsHmacSha1Profile } from './aes-sha1.js';
import { aes128CtsHmacSha256Profile, aes256CtsHmacSha384Profile } from './aes-sha2.js';
import { camellia128CtsCmacProfile, camellia256CtsCmacProfile } from './camellia-cmac.js';
import { hmacMd5Checksum } from './rc4-hmac.js';
import type { Key } from './types.js';
import { checkUsage, constantTimeEqual } from './util.js';

interface ChecksumProfile {
  readonly id: number;
  readonly name: string;
  readonly size: number;
  /** The enctype the key must have; undefined = unkeyed, null = any key. */
  readonly enctype: number | undefined | null;
  compute(key: Key | undefined, usage: number, data: Uint8Array): Uint8Array;
}

const CHECKSUMS = new Map<number, ChecksumProfile>();

function keyedBy(
  id: number,
  name: string,
  size: number,
  profile: { id: number; checksum(key: Key, usage: number, data: Uint8Array): Uint8Array },
): ChecksumProfile {
  return {
    id,
    name,
    size,
    enctype: profile.id,
    compute: (key, usage, data) => profile.checksum(key!, usage, data),
  };
}

for (const c of [
  {
    id: 7,
    name: 'rsa-md5',
    size: 16,
    enctype: undefined,
    compute: (_k: unknown, _u: number, d: Uint8Array) => md5(d),
  },
  {
    id: 14,
    name: 'sha1',
    size: 20,
    enctype: undefined,
    compute: (_k: unknown, _u: number, d: Uint8Array) => sha1(d),
  },
  keyedBy(15, 'hmac-sha1-96-aes128', 12, aes128CtsHmacSha1Profile),
  keyedBy(16, 'hmac-sha1-96-aes256', 12, aes256CtsHmacSha1Profile),
  keyedBy(17, 'cmac-camellia128', 16, camellia128CtsCmacProfile),
  keyedBy(18, 'cmac-camellia256', 16, camellia256CtsCmacProfile),
  keyedBy(19, 'hmac-sha256-128-aes128', 16, aes128CtsHmacSha256Profile),
  keyedBy(20, 'hmac-sha384-192-aes256', 24, aes256CtsHmacSha384Profile),
  // RFC 4757 §4: keyed with the raw key bytes whatever the key's enctype (MIT ties it to no enctype).
  {
    id: -138,
    name: 'hmac-md5',
    size: 16,
    enctype: null,
    compute: (k, u, d) => hmacMd5Checksum(k!.bytes, u, d),
  },
] satisfies ChecksumProfile[]) {
  CHECKSUMS.set(c.id, c);
}

/** Adds a checksum implemented elsewhere (hmac-md5 from the rc4-hmac module). */
export function registerChecksum(c: ChecksumProfile): void {
  CHECKSUMS.set(c.id, c);
}

function find(cksumtype: number): ChecksumProfile {
  const c = CHECKSUMS.get(cksumtype);
  if (c === undefined) {
    throw new CryptoError('UNSUPPORTED_CKSUMTYPE', `checksum type ${cksumtype} is not supported`, {
      hint: 'supported: rsa-md5 (7), sha1 (14), hmac-sha1-96-aes128/256 (15/16), cmac-camellia128/256 (17/18), hmac-sha256-128-aes128 (19), hmac-sha384-192-aes256 (20), hmac-md5 (-138)',
    });
  }
  return c;
}

function lookup(cksumtype: number, key: Key | undefined): ChecksumProfile {
  const c = find(cksumtype);
  if (c.enctype !== undefined) {
    if (key === undefined) throw new CryptoError('BAD_PARAMS', `checksum type ${c.name} needs a key`);
    // RFC 3961 §4: a keyed checksum belongs to one cryptosystem; MIT refuses other keys too.
    if (c.enctype !== null && key.enctype !== c.enctype) {
      throw new CryptoError(
        'UNSUPPORTED_CKSUMTYPE',
        `checksum type ${c.name} cannot be made with a key of enctype ${key.enctype}`,
      );
    }
  }
  return c;
}

/** Size in bytes of a supported checksum type's output. */
export function checksumSize(cksumtype: number): number {
  return find(cksumtype).size;
}

export function makeChecksum(
  cksumtype: number,
  key: Key | undefined,
  usage: number,
  data: Uint8Array,
): Uint8Array {
  checkUsage(usage);
  return lookup(cksumtype, key).compute(key, usage, data);
}

/** Constant-time; a checksum of the wrong length is simply false. */
export function verifyChecksum(
  cksumtype: number,
  key: Key | undefined,
  usage: number,
  data: Uint8Array,
  checksum: Uint8Array,
): boolean {
  return constantTimeEqual(makeChecksum(cksumtype, key, usage, data), checksum);
}
