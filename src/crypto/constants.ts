// IANA Kerberos numbers (RFC 3961 §8, RFC 3962 §7, RFC 8009 §9, RFC 4757, RFC 6803 §8, MIT krb5.h).

/** Encryption type numbers. Only 17, 18, 19, 20, 23, 25 and 26 are implemented; the rest are named for klist. */
export const Enctype = {
  DES_CBC_CRC: 1,
  DES_CBC_MD4: 2,
  DES_CBC_MD5: 3,
  DES_CBC_RAW: 4,
  DES3_CBC_SHA: 5,
  DES3_CBC_RAW: 6,
  DES_HMAC_SHA1: 8,
  DES3_CBC_SHA1: 16,
  AES128_CTS_HMAC_SHA1_96: 17,
  AES256_CTS_HMAC_SHA1_96: 18,
  AES128_CTS_HMAC_SHA256_128: 19,
  AES256_CTS_HMAC_SHA384_192: 20,
  RC4_HMAC: 23,
  RC4_HMAC_EXP: 24,
  CAMELLIA128_CTS_CMAC: 25,
  CAMELLIA256_CTS_CMAC: 26,
} as const;

/** Checksum type numbers (RFC 3961 §8, RFC 3962, RFC 8009, RFC 4757). */
export const CksumType = {
  CRC32: 1,
  RSA_MD4: 2,
  RSA_MD4_DES: 3,
  DES_MAC: 4,
  RSA_MD5: 7,
  RSA_MD5_DES: 8,
  NIST_SHA: 9,
  HMAC_SHA1_DES3_KD: 12,
  SHA1: 14,
  HMAC_SHA1_96_AES128: 15,
  HMAC_SHA1_96_AES256: 16,
  CMAC_CAMELLIA128: 17,
  CMAC_CAMELLIA256: 18,
  HMAC_SHA256_128_AES128: 19,
  HMAC_SHA384_192_AES256: 20,
  /** RFC 4757 §4 (MIT `hmac-md5-rc4`); negative: Microsoft's private range. */
  HMAC_MD5: -138,
} as const;

/**
 * MIT krb5 1.20's built-in `DEFAULT` enctype list, in preference order (what `permitted_enctypes`,
 * `default_tkt_enctypes` and `default_tgs_enctypes` mean when unset). Observed from the etype field
 * of an AS-REQ sent by MIT kinit 1.20.1 with an empty [libdefaults].
 */
export const MIT_DEFAULT_ENCTYPES: readonly number[] = Object.freeze([18, 17, 20, 19, 16, 23, 25, 26]);
