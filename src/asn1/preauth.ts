// Pre-authentication payloads carried in PA-DATA (RFC 4120 §5.2.7, MS-KILE §2.2.3).

import {
  decodeEncryptedData,
  encodeEncryptedData,
  readChecksum,
  readPrincipalName,
  writeChecksum,
  writePrincipalName,
} from './basic.js';
import {
  ctx,
  decodeUtf8Lenient,
  type Elem,
  encodeUtf8,
  optCtx,
  readBoolean,
  readGeneralStringBytes,
  readInt32,
  readKerberosFlags,
  readKerberosString,
  readKerberosTime,
  readMicroseconds,
  readOctetString,
  root,
  SeqCursor,
  seqOf,
  sequence,
  writeBoolean,
  writeGeneralStringBytes,
  writeInt32,
  writeKerberosFlags,
  writeKerberosString,
  writeKerberosTime,
  writeMicroseconds,
  writeOctetString,
  writeSeqOf,
} from './der.js';
import type { Checksum, EncryptedData, KerberosTime, PrincipalName } from './types.js';

/** PA-DATA types used by this library (RFC 4120 §7.5.2, RFC 6113, MS-KILE). */
export const PaDataType = {
  TGS_REQ: 1,
  ENC_TIMESTAMP: 2,
  PW_SALT: 3,
  ETYPE_INFO: 11,
  PK_AS_REQ: 16,
  PK_AS_REP: 17,
  ETYPE_INFO2: 19,
  SVR_REFERRAL_INFO: 20,
  PAC_REQUEST: 128,
  FOR_USER: 129,
  FX_COOKIE: 133,
  FX_FAST: 136,
  FX_ERROR: 137,
  ENCRYPTED_CHALLENGE: 138,
  REQ_ENC_PA_REP: 149,
  PAC_OPTIONS: 167,
} as const;

/**
 * PA-ENC-TS-ENC ::= SEQUENCE {
 *   patimestamp [0] KerberosTime,
 *   pausec      [1] Microseconds OPTIONAL }
 * (PA-ENC-TIMESTAMP itself is an EncryptedData of this.)
 */
export interface PaEncTsEnc {
  patimestamp: KerberosTime;
  pausec?: number;
}
export function encodePaEncTsEnc(v: PaEncTsEnc): Uint8Array {
  return sequence([ctx(0, writeKerberosTime(v.patimestamp)), optCtx(1, v.pausec, writeMicroseconds)]);
}
export function decodePaEncTsEnc(bytes: Uint8Array): PaEncTsEnc {
  const s = new SeqCursor(root(bytes, 'PA-ENC-TS-ENC'));
  const patimestamp = readKerberosTime(s.req(0, 'patimestamp'));
  const us = s.opt(1, 'pausec');
  s.done();
  return us === undefined ? { patimestamp } : { patimestamp, pausec: readMicroseconds(us) };
}

/** PA-ENC-TIMESTAMP ::= EncryptedData -- PA-ENC-TS-ENC, key usage 1 (RFC 4120 §5.2.7.2) */
export function encodePaEncTimestamp(v: EncryptedData): Uint8Array {
  return encodeEncryptedData(v);
}
export function decodePaEncTimestamp(bytes: Uint8Array): EncryptedData {
  return decodeEncryptedData(bytes);
}

/**
 * ETYPE-INFO2-ENTRY ::= SEQUENCE {
 *   etype     [0] Int32,
 *   salt      [1] KerberosString OPTIONAL,
 *   s2kparams [2] OCTET STRING OPTIONAL }
 *
 * Salts are fed to string-to-key as bytes, and a KDC may hand out bytes that are not UTF-8, so
 * the decoder keeps `saltBytes` (use these for string-to-key) and `salt` as their UTF-8 reading
 * (U+FFFD where invalid, display only). The encoder writes `saltBytes` when given, else `salt`.
 */
export interface EtypeInfo2Entry {
  etype: number;
  salt?: string;
  saltBytes?: Uint8Array;
  s2kparams?: Uint8Array;
}
export type EtypeInfo2 = EtypeInfo2Entry[];

function saltOut(v: { salt?: string; saltBytes?: Uint8Array }): Uint8Array | undefined {
  return v.saltBytes ?? (v.salt === undefined ? undefined : encodeUtf8(v.salt));
}

function readEtypeInfo2Entry(e: Elem): EtypeInfo2Entry {
  const s = new SeqCursor(e);
  const etype = readInt32(s.req(0, 'etype'));
  const salt = s.opt(1, 'salt');
  const params = s.opt(2, 's2kparams');
  s.done();
  const out: EtypeInfo2Entry = { etype };
  if (salt !== undefined) {
    out.saltBytes = readGeneralStringBytes(salt);
    out.salt = decodeUtf8Lenient(out.saltBytes);
  }
  if (params !== undefined) out.s2kparams = readOctetString(params);
  return out;
}
function writeEtypeInfo2Entry(v: EtypeInfo2Entry): Uint8Array {
  return sequence([
    ctx(0, writeInt32(v.etype, 'ETYPE-INFO2-ENTRY.etype')),
    optCtx(1, saltOut(v), writeGeneralStringBytes),
    optCtx(2, v.s2kparams, writeOctetString),
  ]);
}
// ETYPE-INFO2 ::= SEQUENCE SIZE (1..MAX) OF ETYPE-INFO2-ENTRY (an empty one is accepted: harmless)
export function encodeEtypeInfo2(v: EtypeInfo2): Uint8Array {
  return writeSeqOf(v, writeEtypeInfo2Entry);
}
export function decodeEtypeInfo2(bytes: Uint8Array): EtypeInfo2 {
  return seqOf(root(bytes, 'ETYPE-INFO2')).map(readEtypeInfo2Entry);
}

/**
 * ETYPE-INFO-ENTRY ::= SEQUENCE {
 *   etype [0] Int32,
 *   salt  [1] OCTET STRING OPTIONAL }
 * The pre-RFC 4120 form, still sent by old KDCs for DES/RC4.
 */
export interface EtypeInfoEntry {
  etype: number;
  salt?: Uint8Array;
}
export type EtypeInfo = EtypeInfoEntry[];
function readEtypeInfoEntry(e: Elem): EtypeInfoEntry {
  const s = new SeqCursor(e);
  const etype = readInt32(s.req(0, 'etype'));
  const salt = s.opt(1, 'salt');
  s.done();
  return salt === undefined ? { etype } : { etype, salt: readOctetString(salt) };
}
export function encodeEtypeInfo(v: EtypeInfo): Uint8Array {
  return writeSeqOf(v, (x) =>
    sequence([ctx(0, writeInt32(x.etype, 'ETYPE-INFO-ENTRY.etype')), optCtx(1, x.salt, writeOctetString)]),
  );
}
export function decodeEtypeInfo(bytes: Uint8Array): EtypeInfo {
  return seqOf(root(bytes, 'ETYPE-INFO')).map(readEtypeInfoEntry);
}

/** KERB-PA-PAC-REQUEST ::= SEQUENCE { include-pac [0] BOOLEAN } (MS-KILE §2.2.3) */
export interface PaPacRequest {
  includePac: boolean;
}
export function encodePaPacRequest(v: PaPacRequest): Uint8Array {
  return sequence([ctx(0, writeBoolean(v.includePac))]);
}
export function decodePaPacRequest(bytes: Uint8Array): PaPacRequest {
  const s = new SeqCursor(root(bytes, 'KERB-PA-PAC-REQUEST'));
  const includePac = readBoolean(s.req(0, 'include-pac'));
  s.done();
  return { includePac };
}

/**
 * PA-FOR-USER (MS-SFU §2.2.1), the S4U2Self request: which user the service asks a ticket for.
 *   PA-FOR-USER ::= SEQUENCE { userName [0] PrincipalName, userRealm [1] Realm,
 *                              cksum [2] Checksum, auth-package [3] KerberosString }
 */
export interface PaForUser {
  userName: PrincipalName;
  userRealm: string;
  cksum: Checksum;
  authPackage: string;
}
export function encodePaForUser(v: PaForUser): Uint8Array {
  return sequence([
    ctx(0, writePrincipalName(v.userName)),
    ctx(1, writeKerberosString(v.userRealm)),
    ctx(2, writeChecksum(v.cksum)),
    ctx(3, writeKerberosString(v.authPackage)),
  ]);
}
export function decodePaForUser(bytes: Uint8Array): PaForUser {
  const s = new SeqCursor(root(bytes, 'PA-FOR-USER'));
  const userName = readPrincipalName(s.req(0, 'userName'));
  const userRealm = readKerberosString(s.req(1, 'userRealm'));
  const cksum = readChecksum(s.req(2, 'cksum'));
  const authPackage = readKerberosString(s.req(3, 'auth-package'));
  s.done();
  return { userName, userRealm, cksum, authPackage };
}

/**
 * PA-PAC-OPTIONS (MS-KILE §2.2.10): SEQUENCE { flags [0] PAC-OptionsFlags }, KerberosFlags whose
 * bit 3 asks for resource-based constrained delegation in an S4U2Proxy request.
 */
export const PacOption = {
  CLAIMS: 0x80000000,
  BRANCH_AWARE: 0x40000000,
  FORWARD_TO_FULL_DC: 0x20000000,
  RESOURCE_BASED_CONSTRAINED_DELEGATION: 0x10000000,
} as const;
export function encodePaPacOptions(flags: number): Uint8Array {
  return sequence([ctx(0, writeKerberosFlags(flags >>> 0))]);
}
export function decodePaPacOptions(bytes: Uint8Array): number {
  const s = new SeqCursor(root(bytes, 'PA-PAC-OPTIONS'));
  const flags = readKerberosFlags(s.req(0, 'flags'));
  s.done();
  return flags;
}
