// Core Kerberos value shapes (RFC 4120 §5.2), shared by every layer above asn1.
// The codecs for these live beside them in src/asn1; the ccache and keytab formats reuse the
// same shapes so a principal read from a ccache can go straight into an AS-REQ.

/** Realm ::= KerberosString */
export type Realm = string;

/**
 * PrincipalName ::= SEQUENCE {
 *   name-type   [0] Int32,
 *   name-string [1] SEQUENCE OF KerberosString }
 */
export interface PrincipalName {
  nameType: number;
  nameString: string[];
}

/**
 * EncryptionKey ::= SEQUENCE {
 *   keytype  [0] Int32,
 *   keyvalue [1] OCTET STRING }
 */
export interface EncryptionKey {
  keytype: number;
  keyvalue: Uint8Array;
}

/**
 * HostAddress ::= SEQUENCE {
 *   addr-type [0] Int32,
 *   address   [1] OCTET STRING }
 */
export interface HostAddress {
  addrType: number;
  address: Uint8Array;
}

/**
 * AuthorizationData ::= SEQUENCE OF SEQUENCE {
 *   ad-type [0] Int32,
 *   ad-data [1] OCTET STRING }
 */
export interface AuthorizationDataEntry {
  adType: number;
  adData: Uint8Array;
}
export type AuthorizationData = AuthorizationDataEntry[];

/**
 * Checksum ::= SEQUENCE {
 *   cksumtype [0] Int32,
 *   checksum  [1] OCTET STRING }
 */
export interface Checksum {
  cksumtype: number;
  checksum: Uint8Array;
}

/**
 * EncryptedData ::= SEQUENCE {
 *   etype  [0] Int32,
 *   kvno   [1] UInt32 OPTIONAL,
 *   cipher [2] OCTET STRING }
 */
export interface EncryptedData {
  etype: number;
  kvno?: number;
  cipher: Uint8Array;
}

/**
 * KerberosTime ::= GeneralizedTime -- "YYYYMMDDHHMMSSZ", whole seconds only.
 * Represented as a JS Date whose milliseconds are always 0.
 */
export type KerberosTime = Date;

/** Name types (RFC 4120 §6.2, RFC 6806). */
export const NameType = {
  UNKNOWN: 0,
  PRINCIPAL: 1,
  SRV_INST: 2,
  SRV_HST: 3,
  SRV_XHST: 4,
  UID: 5,
  X500_PRINCIPAL: 6,
  SMTP_NAME: 7,
  ENTERPRISE: 10,
  WELLKNOWN: 11,
} as const;
