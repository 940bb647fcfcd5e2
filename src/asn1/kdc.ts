// RFC 4120 §5.4: AS and TGS requests and replies.

import { Asn1Error } from '../errors.js';
import {
  type HostAddresses,
  type LastReq,
  type PaData,
  readEncryptedData,
  readEncryptionKey,
  readHostAddresses,
  readLastReq,
  readMethodData,
  readPrincipalName,
  readRealm,
  writeEncryptedData,
  writeEncryptionKey,
  writeHostAddresses,
  writeLastReq,
  writeMethodData,
  writePrincipalName,
  writeRealm,
} from './basic.js';
import {
  application,
  ctx,
  type Elem,
  expectTag,
  optCtx,
  readInt32,
  readInteger,
  readKerberosFlags,
  readKerberosTime,
  readUInt32,
  root,
  SeqCursor,
  seqOf,
  sequence,
  TagClass,
  writeInt32,
  writeInteger,
  writeKerberosFlags,
  writeKerberosTime,
  writeSeqOf,
  writeUInt32,
} from './der.js';
import { readTicket, type Ticket, writeTicket } from './ticket.js';
import type { EncryptedData, EncryptionKey, KerberosTime, PrincipalName, Realm } from './types.js';

export const MessageType = {
  AS_REQ: 10,
  AS_REP: 11,
  TGS_REQ: 12,
  TGS_REP: 13,
  AP_REQ: 14,
  AP_REP: 15,
  KRB_SAFE: 20,
  KRB_PRIV: 21,
  KRB_CRED: 22,
  KRB_ERROR: 30,
} as const;

/**
 * KDC-REQ-BODY ::= SEQUENCE {
 *   kdc-options [0] KDCOptions, cname [1] PrincipalName OPTIONAL, realm [2] Realm,
 *   sname [3] PrincipalName OPTIONAL, from [4] KerberosTime OPTIONAL, till [5] KerberosTime,
 *   rtime [6] KerberosTime OPTIONAL, nonce [7] UInt32, etype [8] SEQUENCE OF Int32,
 *   addresses [9] HostAddresses OPTIONAL, enc-authorization-data [10] EncryptedData OPTIONAL,
 *   additional-tickets [11] SEQUENCE OF Ticket OPTIONAL }
 *
 * MIT generates 31-bit nonces (so signed and unsigned encodings agree); do the same.
 */
export interface KdcReqBody {
  kdcOptions: number;
  cname?: PrincipalName;
  realm: Realm;
  sname?: PrincipalName;
  from?: KerberosTime;
  till: KerberosTime;
  rtime?: KerberosTime;
  nonce: number;
  etype: number[];
  addresses?: HostAddresses;
  encAuthorizationData?: EncryptedData;
  additionalTickets?: Ticket[];
}
export function readKdcReqBody(e: Elem): KdcReqBody {
  const s = new SeqCursor(e);
  const kdcOptions = readKerberosFlags(s.req(0, 'kdc-options'));
  const cname = s.opt(1, 'cname');
  const realm = readRealm(s.req(2, 'realm'));
  const sname = s.opt(3, 'sname');
  const from = s.opt(4, 'from');
  const till = readKerberosTime(s.req(5, 'till'));
  const rtime = s.opt(6, 'rtime');
  const nonce = readUInt32(s.req(7, 'nonce'));
  const etype = seqOf(s.req(8, 'etype')).map(readInt32);
  const addresses = s.opt(9, 'addresses');
  const encAd = s.opt(10, 'enc-authorization-data');
  const tickets = s.opt(11, 'additional-tickets');
  s.done();
  const out: KdcReqBody = { kdcOptions, realm, till, nonce, etype };
  if (cname) out.cname = readPrincipalName(cname);
  if (sname) out.sname = readPrincipalName(sname);
  if (from) out.from = readKerberosTime(from);
  if (rtime) out.rtime = readKerberosTime(rtime);
  if (addresses) out.addresses = readHostAddresses(addresses);
  if (encAd) out.encAuthorizationData = readEncryptedData(encAd);
  if (tickets) out.additionalTickets = seqOf(tickets).map(readTicket);
  // Keep key order stable for deepEqual-style comparisons regardless of presence.
  return out;
}
export function writeKdcReqBody(v: KdcReqBody): Uint8Array {
  return sequence([
    ctx(0, writeKerberosFlags(v.kdcOptions)),
    optCtx(1, v.cname, writePrincipalName),
    ctx(2, writeRealm(v.realm)),
    optCtx(3, v.sname, writePrincipalName),
    optCtx(4, v.from, writeKerberosTime),
    ctx(5, writeKerberosTime(v.till)),
    optCtx(6, v.rtime, writeKerberosTime),
    ctx(7, writeUInt32(v.nonce, 'KDC-REQ-BODY.nonce')),
    ctx(
      8,
      writeSeqOf(v.etype, (x) => writeInt32(x, 'KDC-REQ-BODY.etype')),
    ),
    optCtx(9, v.addresses, writeHostAddresses),
    optCtx(10, v.encAuthorizationData, writeEncryptedData),
    optCtx(11, v.additionalTickets, (t) => writeSeqOf(t, writeTicket)),
  ]);
}
/** The DER that the PA-TGS-REQ authenticator checksum covers (RFC 4120 §7.2.2 usage 6). */
export function encodeKdcReqBody(v: KdcReqBody): Uint8Array {
  return writeKdcReqBody(v);
}
export function decodeKdcReqBody(bytes: Uint8Array): KdcReqBody {
  return readKdcReqBody(root(bytes, 'KDC-REQ-BODY'));
}

/**
 * KDC-REQ ::= SEQUENCE {
 *   pvno [1] INTEGER (5), msg-type [2] INTEGER (10 -- AS -- | 12 -- TGS --),
 *   padata [3] SEQUENCE OF PA-DATA OPTIONAL, req-body [4] KDC-REQ-BODY }
 * AS-REQ ::= [APPLICATION 10] KDC-REQ;  TGS-REQ ::= [APPLICATION 12] KDC-REQ
 *
 * `rawReqBody` (decode only) is the req-body DER exactly as received, for a KDC to verify the
 * PA-TGS-REQ checksum over what the client actually sent.
 */
export interface KdcReq {
  pvno: number;
  msgType: number;
  padata?: PaData[];
  reqBody: KdcReqBody;
  rawReqBody?: Uint8Array;
}
export type AsReq = KdcReq;
export type TgsReq = KdcReq;

function readKdcReq(e: Elem, appTag: number, name: string): KdcReq {
  const inner = unwrapApp(e, appTag, name);
  const s = new SeqCursor(inner);
  const pvno = readInteger(s.req(1, 'pvno'));
  const msgType = readInteger(s.req(2, 'msg-type'));
  const padata = s.opt(3, 'padata');
  const body = s.req(4, 'req-body');
  s.done();
  const out: KdcReq = { pvno, msgType, reqBody: readKdcReqBody(body) };
  if (padata) out.padata = readMethodData(padata);
  out.rawReqBody = body.node.bytes.slice();
  return out;
}
function writeKdcReq(v: KdcReq, appTag: number): Uint8Array {
  return application(
    appTag,
    sequence([
      ctx(1, writeInteger(v.pvno, 'KDC-REQ.pvno')),
      ctx(2, writeInteger(v.msgType, 'KDC-REQ.msg-type')),
      optCtx(3, v.padata, writeMethodData),
      ctx(4, writeKdcReqBody(v.reqBody)),
    ]),
  );
}

function unwrapApp(e: Elem, tag: number, name: string): Elem {
  const n = expectTag(e, TagClass.APPLICATION, tag, true);
  if (n.children.length !== 1) throw new Asn1Error(name, `[APPLICATION ${tag}] must hold one element`);
  return { node: n.children[0]!, field: name };
}

export function encodeAsReq(v: AsReq): Uint8Array {
  return writeKdcReq(v, MessageType.AS_REQ);
}
export function decodeAsReq(bytes: Uint8Array): AsReq {
  return readKdcReq(root(bytes, 'AS-REQ'), MessageType.AS_REQ, 'AS-REQ');
}
export function encodeTgsReq(v: TgsReq): Uint8Array {
  return writeKdcReq(v, MessageType.TGS_REQ);
}
export function decodeTgsReq(bytes: Uint8Array): TgsReq {
  return readKdcReq(root(bytes, 'TGS-REQ'), MessageType.TGS_REQ, 'TGS-REQ');
}
export function readAsReq(e: Elem): AsReq {
  return readKdcReq(e, MessageType.AS_REQ, e.field);
}
export function readTgsReq(e: Elem): TgsReq {
  return readKdcReq(e, MessageType.TGS_REQ, e.field);
}

/**
 * KDC-REP ::= SEQUENCE {
 *   pvno [0] INTEGER (5), msg-type [1] INTEGER (11 -- AS -- | 13 -- TGS --),
 *   padata [2] SEQUENCE OF PA-DATA OPTIONAL, crealm [3] Realm, cname [4] PrincipalName,
 *   ticket [5] Ticket, enc-part [6] EncryptedData }
 * AS-REP ::= [APPLICATION 11] KDC-REP;  TGS-REP ::= [APPLICATION 13] KDC-REP
 */
export interface KdcRep {
  pvno: number;
  msgType: number;
  padata?: PaData[];
  crealm: Realm;
  cname: PrincipalName;
  ticket: Ticket;
  encPart: EncryptedData;
}
export type AsRep = KdcRep;
export type TgsRep = KdcRep;

function readKdcRep(e: Elem, appTag: number, name: string): KdcRep {
  const s = new SeqCursor(unwrapApp(e, appTag, name));
  const pvno = readInteger(s.req(0, 'pvno'));
  const msgType = readInteger(s.req(1, 'msg-type'));
  const padata = s.opt(2, 'padata');
  const crealm = readRealm(s.req(3, 'crealm'));
  const cname = readPrincipalName(s.req(4, 'cname'));
  const ticket = readTicket(s.req(5, 'ticket'));
  const encPart = readEncryptedData(s.req(6, 'enc-part'));
  s.done();
  const out: KdcRep = { pvno, msgType, crealm, cname, ticket, encPart };
  if (padata) out.padata = readMethodData(padata);
  return out;
}
function writeKdcRep(v: KdcRep, appTag: number): Uint8Array {
  return application(
    appTag,
    sequence([
      ctx(0, writeInteger(v.pvno, 'KDC-REP.pvno')),
      ctx(1, writeInteger(v.msgType, 'KDC-REP.msg-type')),
      optCtx(2, v.padata, writeMethodData),
      ctx(3, writeRealm(v.crealm)),
      ctx(4, writePrincipalName(v.cname)),
      ctx(5, writeTicket(v.ticket)),
      ctx(6, writeEncryptedData(v.encPart)),
    ]),
  );
}
export function encodeAsRep(v: AsRep): Uint8Array {
  return writeKdcRep(v, MessageType.AS_REP);
}
export function decodeAsRep(bytes: Uint8Array): AsRep {
  return readKdcRep(root(bytes, 'AS-REP'), MessageType.AS_REP, 'AS-REP');
}
export function encodeTgsRep(v: TgsRep): Uint8Array {
  return writeKdcRep(v, MessageType.TGS_REP);
}
export function decodeTgsRep(bytes: Uint8Array): TgsRep {
  return readKdcRep(root(bytes, 'TGS-REP'), MessageType.TGS_REP, 'TGS-REP');
}
export function readAsRep(e: Elem): AsRep {
  return readKdcRep(e, MessageType.AS_REP, e.field);
}
export function readTgsRep(e: Elem): TgsRep {
  return readKdcRep(e, MessageType.TGS_REP, e.field);
}

/**
 * EncKDCRepPart ::= SEQUENCE {
 *   key [0] EncryptionKey, last-req [1] LastReq, nonce [2] UInt32,
 *   key-expiration [3] KerberosTime OPTIONAL, flags [4] TicketFlags, authtime [5] KerberosTime,
 *   starttime [6] KerberosTime OPTIONAL, endtime [7] KerberosTime,
 *   renew-till [8] KerberosTime OPTIONAL, srealm [9] Realm, sname [10] PrincipalName,
 *   caddr [11] HostAddresses OPTIONAL,
 *   encrypted-pa-data [12] SEQUENCE OF PA-DATA OPTIONAL -- RFC 6806 §11 }
 * EncASRepPart ::= [APPLICATION 25] EncKDCRepPart; EncTGSRepPart ::= [APPLICATION 26] EncKDCRepPart
 *
 * Some KDCs (older Windows) put [APPLICATION 26] in AS replies; MIT accepts either tag, so does
 * decodeEncKdcRepPart, recording the tag seen in `appTag`.
 */
export interface EncKdcRepPart {
  key: EncryptionKey;
  lastReq: LastReq;
  nonce: number;
  keyExpiration?: KerberosTime;
  flags: number;
  authtime: KerberosTime;
  starttime?: KerberosTime;
  endtime: KerberosTime;
  renewTill?: KerberosTime;
  srealm: Realm;
  sname: PrincipalName;
  caddr?: HostAddresses;
  encryptedPaData?: PaData[];
  appTag?: 25 | 26;
}
export function decodeEncKdcRepPart(bytes: Uint8Array): EncKdcRepPart {
  const e = root(bytes, 'EncKDCRepPart');
  const tag = e.node.cls === TagClass.APPLICATION && e.node.tag === 26 ? 26 : 25;
  const s = new SeqCursor(unwrapApp(e, tag, 'EncKDCRepPart'));
  const key = readEncryptionKey(s.req(0, 'key'));
  const lastReq = readLastReq(s.req(1, 'last-req'));
  const nonce = readUInt32(s.req(2, 'nonce'));
  const keyExpiration = s.opt(3, 'key-expiration');
  const flags = readKerberosFlags(s.req(4, 'flags'));
  const authtime = readKerberosTime(s.req(5, 'authtime'));
  const starttime = s.opt(6, 'starttime');
  const endtime = readKerberosTime(s.req(7, 'endtime'));
  const renewTill = s.opt(8, 'renew-till');
  const srealm = readRealm(s.req(9, 'srealm'));
  const sname = readPrincipalName(s.req(10, 'sname'));
  const caddr = s.opt(11, 'caddr');
  const encPa = s.opt(12, 'encrypted-pa-data');
  s.done();
  const out: EncKdcRepPart = { key, lastReq, nonce, flags, authtime, endtime, srealm, sname, appTag: tag };
  if (keyExpiration) out.keyExpiration = readKerberosTime(keyExpiration);
  if (starttime) out.starttime = readKerberosTime(starttime);
  if (renewTill) out.renewTill = readKerberosTime(renewTill);
  if (caddr) out.caddr = readHostAddresses(caddr);
  if (encPa) out.encryptedPaData = readMethodData(encPa);
  return out;
}
function writeEncKdcRepPart(v: EncKdcRepPart, tag: number): Uint8Array {
  return application(
    tag,
    sequence([
      ctx(0, writeEncryptionKey(v.key)),
      ctx(1, writeLastReq(v.lastReq)),
      ctx(2, writeUInt32(v.nonce, 'EncKDCRepPart.nonce')),
      optCtx(3, v.keyExpiration, writeKerberosTime),
      ctx(4, writeKerberosFlags(v.flags)),
      ctx(5, writeKerberosTime(v.authtime)),
      optCtx(6, v.starttime, writeKerberosTime),
      ctx(7, writeKerberosTime(v.endtime)),
      optCtx(8, v.renewTill, writeKerberosTime),
      ctx(9, writeRealm(v.srealm)),
      ctx(10, writePrincipalName(v.sname)),
      optCtx(11, v.caddr, writeHostAddresses),
      optCtx(12, v.encryptedPaData, writeMethodData),
    ]),
  );
}
export function encodeEncAsRepPart(v: EncKdcRepPart): Uint8Array {
  return writeEncKdcRepPart(v, 25);
}
export function encodeEncTgsRepPart(v: EncKdcRepPart): Uint8Array {
  return writeEncKdcRepPart(v, 26);
}
/** Re-encodes with the tag it was decoded with (`appTag`, default 25). */
export function encodeEncKdcRepPart(v: EncKdcRepPart): Uint8Array {
  return writeEncKdcRepPart(v, v.appTag ?? 25);
}
