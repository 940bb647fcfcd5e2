// RFC 4120 §5.3 Ticket and EncTicketPart.

import {
  type HostAddresses,
  readAuthorizationData,
  readEncryptedData,
  readEncryptionKey,
  readHostAddresses,
  readPrincipalName,
  readRealm,
  writeAuthorizationData,
  writeEncryptedData,
  writeEncryptionKey,
  writeHostAddresses,
  writePrincipalName,
  writeRealm,
} from './basic.js';
import {
  application,
  ctx,
  type Elem,
  optCtx,
  readInt32,
  readInteger,
  readKerberosFlags,
  readKerberosTime,
  readOctetString,
  root,
  SeqCursor,
  sequence,
  unwrapApplication,
  writeInt32,
  writeInteger,
  writeKerberosFlags,
  writeKerberosTime,
  writeOctetString,
} from './der.js';
import type {
  AuthorizationData,
  EncryptedData,
  EncryptionKey,
  KerberosTime,
  PrincipalName,
  Realm,
} from './types.js';

/**
 * Ticket ::= [APPLICATION 1] SEQUENCE {
 *   tkt-vno  [0] INTEGER (5),
 *   realm    [1] Realm,
 *   sname    [2] PrincipalName,
 *   enc-part [3] EncryptedData }
 *
 * `raw` is the exact DER the ticket was decoded from (ccaches store raw ticket bytes, and a KDC's
 * ticket must be forwarded untouched). encodeTicket emits `raw` as long as it still describes the
 * same fields; a changed field makes it re-encode from the fields instead.
 */
export interface Ticket {
  tktVno: number;
  realm: Realm;
  sname: PrincipalName;
  encPart: EncryptedData;
  raw?: Uint8Array;
}

export function readTicket(e: Elem): Ticket {
  const raw = e.node.bytes.slice();
  const s = new SeqCursor(unwrapApplication(e, 1));
  const tktVno = readInteger(s.req(0, 'tkt-vno'));
  const realm = readRealm(s.req(1, 'realm'));
  const sname = readPrincipalName(s.req(2, 'sname'));
  const encPart = readEncryptedData(s.req(3, 'enc-part'));
  s.done();
  return { tktVno, realm, sname, encPart, raw };
}

function writeTicketFields(v: Ticket): Uint8Array {
  return application(
    1,
    sequence([
      ctx(0, writeInteger(v.tktVno, 'Ticket.tkt-vno')),
      ctx(1, writeRealm(v.realm)),
      ctx(2, writePrincipalName(v.sname)),
      ctx(3, writeEncryptedData(v.encPart)),
    ]),
  );
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameTicket(a: Ticket, b: Ticket): boolean {
  return (
    a.tktVno === b.tktVno &&
    a.realm === b.realm &&
    a.sname.nameType === b.sname.nameType &&
    a.sname.nameString.length === b.sname.nameString.length &&
    a.sname.nameString.every((s, i) => s === b.sname.nameString[i]) &&
    a.encPart.etype === b.encPart.etype &&
    a.encPart.kvno === b.encPart.kvno &&
    bytesEqual(a.encPart.cipher, b.encPart.cipher)
  );
}

export function writeTicket(v: Ticket): Uint8Array {
  if (v.raw !== undefined) {
    try {
      if (sameTicket(readTicket(root(v.raw, 'Ticket')), v)) return v.raw.slice();
    } catch {
      // A raw that no longer parses is ignored: the fields are the truth.
    }
  }
  return writeTicketFields(v);
}
export function encodeTicket(v: Ticket): Uint8Array {
  return writeTicket(v);
}
export function decodeTicket(bytes: Uint8Array): Ticket {
  return readTicket(root(bytes, 'Ticket'));
}

/** TransitedEncoding ::= SEQUENCE { tr-type [0] Int32, contents [1] OCTET STRING } */
export interface TransitedEncoding {
  trType: number;
  contents: Uint8Array;
}
export function readTransitedEncoding(e: Elem): TransitedEncoding {
  const s = new SeqCursor(e);
  const trType = readInt32(s.req(0, 'tr-type'));
  const contents = readOctetString(s.req(1, 'contents'));
  s.done();
  return { trType, contents };
}
export function writeTransitedEncoding(v: TransitedEncoding): Uint8Array {
  return sequence([
    ctx(0, writeInt32(v.trType, 'TransitedEncoding.tr-type')),
    ctx(1, writeOctetString(v.contents)),
  ]);
}
export function encodeTransitedEncoding(v: TransitedEncoding): Uint8Array {
  return writeTransitedEncoding(v);
}
export function decodeTransitedEncoding(bytes: Uint8Array): TransitedEncoding {
  return readTransitedEncoding(root(bytes, 'TransitedEncoding'));
}

/**
 * EncTicketPart ::= [APPLICATION 3] SEQUENCE {
 *   flags [0] TicketFlags, key [1] EncryptionKey, crealm [2] Realm, cname [3] PrincipalName,
 *   transited [4] TransitedEncoding, authtime [5] KerberosTime, starttime [6] KerberosTime OPTIONAL,
 *   endtime [7] KerberosTime, renew-till [8] KerberosTime OPTIONAL,
 *   caddr [9] HostAddresses OPTIONAL, authorization-data [10] AuthorizationData OPTIONAL }
 */
export interface EncTicketPart {
  flags: number;
  key: EncryptionKey;
  crealm: Realm;
  cname: PrincipalName;
  transited: TransitedEncoding;
  authtime: KerberosTime;
  starttime?: KerberosTime;
  endtime: KerberosTime;
  renewTill?: KerberosTime;
  caddr?: HostAddresses;
  authorizationData?: AuthorizationData;
}
export function readEncTicketPart(e: Elem): EncTicketPart {
  const s = new SeqCursor(unwrapApplication(e, 3));
  const flags = readKerberosFlags(s.req(0, 'flags'));
  const key = readEncryptionKey(s.req(1, 'key'));
  const crealm = readRealm(s.req(2, 'crealm'));
  const cname = readPrincipalName(s.req(3, 'cname'));
  const transited = readTransitedEncoding(s.req(4, 'transited'));
  const authtime = readKerberosTime(s.req(5, 'authtime'));
  const starttime = s.opt(6, 'starttime');
  const endtime = readKerberosTime(s.req(7, 'endtime'));
  const renewTill = s.opt(8, 'renew-till');
  const caddr = s.opt(9, 'caddr');
  const ad = s.opt(10, 'authorization-data');
  s.done();
  const out: EncTicketPart = { flags, key, crealm, cname, transited, authtime, endtime };
  if (starttime) out.starttime = readKerberosTime(starttime);
  if (renewTill) out.renewTill = readKerberosTime(renewTill);
  if (caddr) out.caddr = readHostAddresses(caddr);
  if (ad) out.authorizationData = readAuthorizationData(ad);
  return out;
}
export function encodeEncTicketPart(v: EncTicketPart): Uint8Array {
  return application(
    3,
    sequence([
      ctx(0, writeKerberosFlags(v.flags)),
      ctx(1, writeEncryptionKey(v.key)),
      ctx(2, writeRealm(v.crealm)),
      ctx(3, writePrincipalName(v.cname)),
      ctx(4, writeTransitedEncoding(v.transited)),
      ctx(5, writeKerberosTime(v.authtime)),
      optCtx(6, v.starttime, writeKerberosTime),
      ctx(7, writeKerberosTime(v.endtime)),
      optCtx(8, v.renewTill, writeKerberosTime),
      optCtx(9, v.caddr, writeHostAddresses),
      optCtx(10, v.authorizationData, writeAuthorizationData),
    ]),
  );
}
export function decodeEncTicketPart(bytes: Uint8Array): EncTicketPart {
  return readEncTicketPart(root(bytes, 'EncTicketPart'));
}
