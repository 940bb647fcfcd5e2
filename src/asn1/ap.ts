// RFC 4120 §5.5: client/server authentication (AP-REQ, Authenticator, AP-REP, EncAPRepPart).

import {
  readAuthorizationData,
  readChecksum,
  readEncryptedData,
  readEncryptionKey,
  readPrincipalName,
  readRealm,
  writeAuthorizationData,
  writeChecksum,
  writeEncryptedData,
  writeEncryptionKey,
  writePrincipalName,
  writeRealm,
} from './basic.js';
import {
  application,
  ctx,
  type Elem,
  optCtx,
  readInteger,
  readKerberosFlags,
  readKerberosTime,
  readMicroseconds,
  readUInt32,
  root,
  SeqCursor,
  sequence,
  unwrapApplication,
  writeInteger,
  writeKerberosFlags,
  writeKerberosTime,
  writeMicroseconds,
  writeUInt32,
} from './der.js';
import { readTicket, type Ticket, writeTicket } from './ticket.js';
import type {
  AuthorizationData,
  Checksum,
  EncryptedData,
  EncryptionKey,
  KerberosTime,
  PrincipalName,
  Realm,
} from './types.js';

/**
 * AP-REQ ::= [APPLICATION 14] SEQUENCE {
 *   pvno [0] INTEGER (5), msg-type [1] INTEGER (14), ap-options [2] APOptions,
 *   ticket [3] Ticket, authenticator [4] EncryptedData -- Authenticator }
 */
export interface ApReq {
  pvno: number;
  msgType: number;
  apOptions: number;
  ticket: Ticket;
  authenticator: EncryptedData;
}
export function readApReq(e: Elem): ApReq {
  const s = new SeqCursor(unwrapApplication(e, 14));
  const pvno = readInteger(s.req(0, 'pvno'));
  const msgType = readInteger(s.req(1, 'msg-type'));
  const apOptions = readKerberosFlags(s.req(2, 'ap-options'));
  const ticket = readTicket(s.req(3, 'ticket'));
  const authenticator = readEncryptedData(s.req(4, 'authenticator'));
  s.done();
  return { pvno, msgType, apOptions, ticket, authenticator };
}
export function encodeApReq(v: ApReq): Uint8Array {
  return application(
    14,
    sequence([
      ctx(0, writeInteger(v.pvno, 'AP-REQ.pvno')),
      ctx(1, writeInteger(v.msgType, 'AP-REQ.msg-type')),
      ctx(2, writeKerberosFlags(v.apOptions)),
      ctx(3, writeTicket(v.ticket)),
      ctx(4, writeEncryptedData(v.authenticator)),
    ]),
  );
}
export function decodeApReq(bytes: Uint8Array): ApReq {
  return readApReq(root(bytes, 'AP-REQ'));
}

/**
 * Authenticator ::= [APPLICATION 2] SEQUENCE {
 *   authenticator-vno [0] INTEGER (5), crealm [1] Realm, cname [2] PrincipalName,
 *   cksum [3] Checksum OPTIONAL, cusec [4] Microseconds, ctime [5] KerberosTime,
 *   subkey [6] EncryptionKey OPTIONAL, seq-number [7] UInt32 OPTIONAL,
 *   authorization-data [8] AuthorizationData OPTIONAL }
 */
export interface Authenticator {
  authenticatorVno: number;
  crealm: Realm;
  cname: PrincipalName;
  cksum?: Checksum;
  cusec: number;
  ctime: KerberosTime;
  subkey?: EncryptionKey;
  seqNumber?: number;
  authorizationData?: AuthorizationData;
}
export function encodeAuthenticator(v: Authenticator): Uint8Array {
  return application(
    2,
    sequence([
      ctx(0, writeInteger(v.authenticatorVno, 'Authenticator.authenticator-vno')),
      ctx(1, writeRealm(v.crealm)),
      ctx(2, writePrincipalName(v.cname)),
      optCtx(3, v.cksum, writeChecksum),
      ctx(4, writeMicroseconds(v.cusec, 'Authenticator.cusec')),
      ctx(5, writeKerberosTime(v.ctime)),
      optCtx(6, v.subkey, writeEncryptionKey),
      optCtx(7, v.seqNumber, (n) => writeUInt32(n, 'Authenticator.seq-number')),
      optCtx(8, v.authorizationData, writeAuthorizationData),
    ]),
  );
}
export function decodeAuthenticator(bytes: Uint8Array): Authenticator {
  const s = new SeqCursor(unwrapApplication(root(bytes, 'Authenticator'), 2));
  const authenticatorVno = readInteger(s.req(0, 'authenticator-vno'));
  const crealm = readRealm(s.req(1, 'crealm'));
  const cname = readPrincipalName(s.req(2, 'cname'));
  const cksum = s.opt(3, 'cksum');
  const cusec = readMicroseconds(s.req(4, 'cusec'));
  const ctime = readKerberosTime(s.req(5, 'ctime'));
  const subkey = s.opt(6, 'subkey');
  const seq = s.opt(7, 'seq-number');
  const ad = s.opt(8, 'authorization-data');
  s.done();
  const out: Authenticator = { authenticatorVno, crealm, cname, cusec, ctime };
  if (cksum) out.cksum = readChecksum(cksum);
  if (subkey) out.subkey = readEncryptionKey(subkey);
  if (seq) out.seqNumber = readUInt32(seq);
  if (ad) out.authorizationData = readAuthorizationData(ad);
  return out;
}

/**
 * AP-REP ::= [APPLICATION 15] SEQUENCE {
 *   pvno [0] INTEGER (5), msg-type [1] INTEGER (15), enc-part [2] EncryptedData -- EncAPRepPart }
 */
export interface ApRep {
  pvno: number;
  msgType: number;
  encPart: EncryptedData;
}
export function readApRep(e: Elem): ApRep {
  const s = new SeqCursor(unwrapApplication(e, 15));
  const pvno = readInteger(s.req(0, 'pvno'));
  const msgType = readInteger(s.req(1, 'msg-type'));
  const encPart = readEncryptedData(s.req(2, 'enc-part'));
  s.done();
  return { pvno, msgType, encPart };
}
export function encodeApRep(v: ApRep): Uint8Array {
  return application(
    15,
    sequence([
      ctx(0, writeInteger(v.pvno, 'AP-REP.pvno')),
      ctx(1, writeInteger(v.msgType, 'AP-REP.msg-type')),
      ctx(2, writeEncryptedData(v.encPart)),
    ]),
  );
}
export function decodeApRep(bytes: Uint8Array): ApRep {
  return readApRep(root(bytes, 'AP-REP'));
}

/**
 * EncAPRepPart ::= [APPLICATION 27] SEQUENCE {
 *   ctime [0] KerberosTime, cusec [1] Microseconds,
 *   subkey [2] EncryptionKey OPTIONAL, seq-number [3] UInt32 OPTIONAL }
 */
export interface EncApRepPart {
  ctime: KerberosTime;
  cusec: number;
  subkey?: EncryptionKey;
  seqNumber?: number;
}
export function encodeEncApRepPart(v: EncApRepPart): Uint8Array {
  return application(
    27,
    sequence([
      ctx(0, writeKerberosTime(v.ctime)),
      ctx(1, writeMicroseconds(v.cusec, 'EncAPRepPart.cusec')),
      optCtx(2, v.subkey, writeEncryptionKey),
      optCtx(3, v.seqNumber, (n) => writeUInt32(n, 'EncAPRepPart.seq-number')),
    ]),
  );
}
export function decodeEncApRepPart(bytes: Uint8Array): EncApRepPart {
  const s = new SeqCursor(unwrapApplication(root(bytes, 'EncAPRepPart'), 27));
  const ctime = readKerberosTime(s.req(0, 'ctime'));
  const cusec = readMicroseconds(s.req(1, 'cusec'));
  const subkey = s.opt(2, 'subkey');
  const seq = s.opt(3, 'seq-number');
  s.done();
  const out: EncApRepPart = { ctime, cusec };
  if (subkey) out.subkey = readEncryptionKey(subkey);
  if (seq) out.seqNumber = readUInt32(seq);
  return out;
}
