// RFC 4120 §5.2 basic types and §5.2.7 PA-DATA containers. Each type has an internal
// `readX(elem)` / `writeX(value)` pair used by the message codecs, and a public
// `decodeX(bytes)` / `encodeX(value)` pair for standalone DER.

import { Asn1Error } from '../errors.js';
import {
  ctx,
  type Elem,
  optCtx,
  readGeneralStringBytes,
  readInt32,
  readKerberosFlags,
  readKerberosString,
  readKerberosTime,
  readOctetString,
  readUInt32,
  root,
  SeqCursor,
  seqOf,
  sequence,
  writeInt32,
  writeKerberosFlags,
  writeKerberosString,
  writeKerberosTime,
  writeKvno,
  writeOctetString,
  writeSeqOf,
} from './der.js';
import type {
  AuthorizationData,
  AuthorizationDataEntry,
  Checksum,
  EncryptedData,
  EncryptionKey,
  HostAddress,
  KerberosTime,
  PrincipalName,
  Realm,
} from './types.js';

// Realm ::= KerberosString
export const readRealm = readKerberosString;
export const writeRealm = writeKerberosString;
export function encodeRealm(v: Realm): Uint8Array {
  return writeRealm(v);
}
export function decodeRealm(bytes: Uint8Array): Realm {
  return readRealm(root(bytes, 'Realm'));
}

// KerberosTime ::= GeneralizedTime
export function encodeKerberosTime(v: KerberosTime): Uint8Array {
  return writeKerberosTime(v);
}
export function decodeKerberosTime(bytes: Uint8Array): KerberosTime {
  return readKerberosTime(root(bytes, 'KerberosTime'));
}

// KerberosFlags ::= BIT STRING (SIZE (32..MAX)) — uint32, RFC bit n = (1 << (31 - n)) >>> 0.
export function encodeKerberosFlags(v: number): Uint8Array {
  return writeKerberosFlags(v);
}
export function decodeKerberosFlags(bytes: Uint8Array): number {
  return readKerberosFlags(root(bytes, 'KerberosFlags'));
}

/** The uint32 mask of RFC 4120 flag bit `n` (0 = reserved/most significant). */
export function flagBit(n: number): number {
  return (1 << (31 - n)) >>> 0;
}

// PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF KerberosString }
export function readPrincipalName(e: Elem): PrincipalName {
  const s = new SeqCursor(e);
  const nameType = readInt32(s.req(0, 'name-type'));
  const nameString = seqOf(s.req(1, 'name-string')).map(readKerberosString);
  s.done();
  return { nameType, nameString };
}
export function writePrincipalName(v: PrincipalName): Uint8Array {
  return sequence([
    ctx(0, writeInt32(v.nameType, 'PrincipalName.name-type')),
    ctx(1, writeSeqOf(v.nameString, writeKerberosString)),
  ]);
}
export function encodePrincipalName(v: PrincipalName): Uint8Array {
  return writePrincipalName(v);
}
export function decodePrincipalName(bytes: Uint8Array): PrincipalName {
  return readPrincipalName(root(bytes, 'PrincipalName'));
}

// HostAddress ::= SEQUENCE { addr-type [0] Int32, address [1] OCTET STRING }
export function readHostAddress(e: Elem): HostAddress {
  const s = new SeqCursor(e);
  const addrType = readInt32(s.req(0, 'addr-type'));
  const address = readOctetString(s.req(1, 'address'));
  s.done();
  return { addrType, address };
}
export function writeHostAddress(v: HostAddress): Uint8Array {
  return sequence([
    ctx(0, writeInt32(v.addrType, 'HostAddress.addr-type')),
    ctx(1, writeOctetString(v.address)),
  ]);
}
export function encodeHostAddress(v: HostAddress): Uint8Array {
  return writeHostAddress(v);
}
export function decodeHostAddress(bytes: Uint8Array): HostAddress {
  return readHostAddress(root(bytes, 'HostAddress'));
}

// HostAddresses ::= SEQUENCE OF HostAddress
export type HostAddresses = HostAddress[];
export function readHostAddresses(e: Elem): HostAddresses {
  return seqOf(e).map(readHostAddress);
}
export function writeHostAddresses(v: HostAddresses): Uint8Array {
  return writeSeqOf(v, writeHostAddress);
}
export function encodeHostAddresses(v: HostAddresses): Uint8Array {
  return writeHostAddresses(v);
}
export function decodeHostAddresses(bytes: Uint8Array): HostAddresses {
  return readHostAddresses(root(bytes, 'HostAddresses'));
}

// EncryptionKey ::= SEQUENCE { keytype [0] Int32, keyvalue [1] OCTET STRING }
export function readEncryptionKey(e: Elem): EncryptionKey {
  const s = new SeqCursor(e);
  const keytype = readInt32(s.req(0, 'keytype'));
  const keyvalue = readOctetString(s.req(1, 'keyvalue'));
  s.done();
  return { keytype, keyvalue };
}
export function writeEncryptionKey(v: EncryptionKey): Uint8Array {
  return sequence([
    ctx(0, writeInt32(v.keytype, 'EncryptionKey.keytype')),
    ctx(1, writeOctetString(v.keyvalue)),
  ]);
}
export function encodeEncryptionKey(v: EncryptionKey): Uint8Array {
  return writeEncryptionKey(v);
}
export function decodeEncryptionKey(bytes: Uint8Array): EncryptionKey {
  return readEncryptionKey(root(bytes, 'EncryptionKey'));
}

// EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL, cipher [2] OCTET STRING }
// kvno: MIT and Windows encode it as a signed 32-bit INTEGER (an RODC's kvno >= 2^31 is negative
// on the wire); it is read back to uint32 (readUInt32) and written signed (writeKvno).
export function readEncryptedData(e: Elem): EncryptedData {
  const s = new SeqCursor(e);
  const etype = readInt32(s.req(0, 'etype'));
  const kvnoE = s.opt(1, 'kvno');
  const cipher = readOctetString(s.req(2, 'cipher'));
  s.done();
  const out: EncryptedData = { etype, cipher };
  if (kvnoE !== undefined) out.kvno = readUInt32(kvnoE);
  return out;
}
export function writeEncryptedData(v: EncryptedData): Uint8Array {
  return sequence([
    ctx(0, writeInt32(v.etype, 'EncryptedData.etype')),
    optCtx(1, v.kvno, (k) => writeKvno(k, 'EncryptedData.kvno')),
    ctx(2, writeOctetString(v.cipher)),
  ]);
}
export function encodeEncryptedData(v: EncryptedData): Uint8Array {
  return writeEncryptedData(v);
}
export function decodeEncryptedData(bytes: Uint8Array): EncryptedData {
  return readEncryptedData(root(bytes, 'EncryptedData'));
}

// Checksum ::= SEQUENCE { cksumtype [0] Int32, checksum [1] OCTET STRING }
export function readChecksum(e: Elem): Checksum {
  const s = new SeqCursor(e);
  const cksumtype = readInt32(s.req(0, 'cksumtype'));
  const checksum = readOctetString(s.req(1, 'checksum'));
  s.done();
  return { cksumtype, checksum };
}
export function writeChecksum(v: Checksum): Uint8Array {
  return sequence([
    ctx(0, writeInt32(v.cksumtype, 'Checksum.cksumtype')),
    ctx(1, writeOctetString(v.checksum)),
  ]);
}
export function encodeChecksum(v: Checksum): Uint8Array {
  return writeChecksum(v);
}
export function decodeChecksum(bytes: Uint8Array): Checksum {
  return readChecksum(root(bytes, 'Checksum'));
}

// AuthorizationData ::= SEQUENCE OF SEQUENCE { ad-type [0] Int32, ad-data [1] OCTET STRING }
// AD-IF-RELEVANT ::= AuthorizationData (RFC 4120 §5.2.6.1), so it shares these codecs.
function readAdEntry(e: Elem): AuthorizationDataEntry {
  const s = new SeqCursor(e);
  const adType = readInt32(s.req(0, 'ad-type'));
  const adData = readOctetString(s.req(1, 'ad-data'));
  s.done();
  return { adType, adData };
}
function writeAdEntry(v: AuthorizationDataEntry): Uint8Array {
  return sequence([
    ctx(0, writeInt32(v.adType, 'AuthorizationData.ad-type')),
    ctx(1, writeOctetString(v.adData)),
  ]);
}
export function readAuthorizationData(e: Elem): AuthorizationData {
  return seqOf(e).map(readAdEntry);
}
export function writeAuthorizationData(v: AuthorizationData): Uint8Array {
  return writeSeqOf(v, writeAdEntry);
}
export function encodeAuthorizationData(v: AuthorizationData): Uint8Array {
  return writeAuthorizationData(v);
}
export function decodeAuthorizationData(bytes: Uint8Array): AuthorizationData {
  return readAuthorizationData(root(bytes, 'AuthorizationData'));
}
/** AD-IF-RELEVANT (ad-type 1) content. */
export const encodeAdIfRelevant = encodeAuthorizationData;
export function decodeAdIfRelevant(bytes: Uint8Array): AuthorizationData {
  return readAuthorizationData(root(bytes, 'AD-IF-RELEVANT'));
}

/**
 * PA-DATA ::= SEQUENCE {
 *   -- NOTE: first tag is [1], not [0]
 *   padata-type  [1] Int32,
 *   padata-value [2] OCTET STRING }
 */
export interface PaData {
  padataType: number;
  padataValue: Uint8Array;
}
export function readPaData(e: Elem): PaData {
  const s = new SeqCursor(e);
  const padataType = readInt32(s.req(1, 'padata-type'));
  const padataValue = readOctetString(s.req(2, 'padata-value'));
  s.done();
  return { padataType, padataValue };
}
export function writePaData(v: PaData): Uint8Array {
  return sequence([
    ctx(1, writeInt32(v.padataType, 'PA-DATA.padata-type')),
    ctx(2, writeOctetString(v.padataValue)),
  ]);
}
export function encodePaData(v: PaData): Uint8Array {
  return writePaData(v);
}
export function decodePaData(bytes: Uint8Array): PaData {
  return readPaData(root(bytes, 'PA-DATA'));
}

// METHOD-DATA ::= SEQUENCE OF PA-DATA
export type MethodData = PaData[];
export function readMethodData(e: Elem): MethodData {
  return seqOf(e).map(readPaData);
}
export function writeMethodData(v: MethodData): Uint8Array {
  return writeSeqOf(v, writePaData);
}
export function encodeMethodData(v: MethodData): Uint8Array {
  return writeMethodData(v);
}
export function decodeMethodData(bytes: Uint8Array): MethodData {
  return readMethodData(root(bytes, 'METHOD-DATA'));
}

/**
 * TYPED-DATA ::= SEQUENCE SIZE (1..MAX) OF SEQUENCE {
 *   data-type  [0] Int32,
 *   data-value [1] OCTET STRING OPTIONAL }
 */
export interface TypedDataEntry {
  dataType: number;
  dataValue?: Uint8Array;
}
export type TypedData = TypedDataEntry[];
function readTypedDataEntry(e: Elem): TypedDataEntry {
  const s = new SeqCursor(e);
  const dataType = readInt32(s.req(0, 'data-type'));
  const v = s.opt(1, 'data-value');
  s.done();
  return v === undefined ? { dataType } : { dataType, dataValue: readOctetString(v) };
}
function writeTypedDataEntry(v: TypedDataEntry): Uint8Array {
  return sequence([
    ctx(0, writeInt32(v.dataType, 'TYPED-DATA.data-type')),
    optCtx(1, v.dataValue, writeOctetString),
  ]);
}
export function readTypedData(e: Elem): TypedData {
  const items = seqOf(e);
  if (items.length === 0) throw new Asn1Error(e.field, 'TYPED-DATA must not be empty');
  return items.map(readTypedDataEntry);
}
export function encodeTypedData(v: TypedData): Uint8Array {
  return writeSeqOf(v, writeTypedDataEntry);
}
export function decodeTypedData(bytes: Uint8Array): TypedData {
  return readTypedData(root(bytes, 'TYPED-DATA'));
}

/** LastReq ::= SEQUENCE OF SEQUENCE { lr-type [0] Int32, lr-value [1] KerberosTime } */
export interface LastReqEntry {
  lrType: number;
  lrValue: KerberosTime;
}
export type LastReq = LastReqEntry[];
function readLastReqEntry(e: Elem): LastReqEntry {
  const s = new SeqCursor(e);
  const lrType = readInt32(s.req(0, 'lr-type'));
  const lrValue = readKerberosTime(s.req(1, 'lr-value'));
  s.done();
  return { lrType, lrValue };
}
function writeLastReqEntry(v: LastReqEntry): Uint8Array {
  return sequence([ctx(0, writeInt32(v.lrType, 'LastReq.lr-type')), ctx(1, writeKerberosTime(v.lrValue))]);
}
export function readLastReq(e: Elem): LastReq {
  return seqOf(e).map(readLastReqEntry);
}
export function writeLastReq(v: LastReq): Uint8Array {
  return writeSeqOf(v, writeLastReqEntry);
}
export function encodeLastReq(v: LastReq): Uint8Array {
  return writeLastReq(v);
}
export function decodeLastReq(bytes: Uint8Array): LastReq {
  return readLastReq(root(bytes, 'LastReq'));
}

/** Raw KerberosString bytes, for salts that may not be UTF-8. */
export const readKerberosStringBytes = readGeneralStringBytes;
