// RFC 4120 §5.8 KRB-CRED: how a forwarded TGT travels inside the GSS delegation checksum.

import {
  type HostAddresses,
  readEncryptedData,
  readEncryptionKey,
  readHostAddress,
  readHostAddresses,
  readPrincipalName,
  readRealm,
  writeEncryptedData,
  writeEncryptionKey,
  writeHostAddress,
  writeHostAddresses,
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
  seqOf,
  sequence,
  unwrapApplication,
  writeInteger,
  writeKerberosFlags,
  writeKerberosTime,
  writeMicroseconds,
  writeSeqOf,
  writeUInt32,
} from './der.js';
import { readTicket, type Ticket, writeTicket } from './ticket.js';
import type {
  EncryptedData,
  EncryptionKey,
  HostAddress,
  KerberosTime,
  PrincipalName,
  Realm,
} from './types.js';

/**
 * KRB-CRED ::= [APPLICATION 22] SEQUENCE {
 *   pvno [0] INTEGER (5), msg-type [1] INTEGER (22),
 *   tickets [2] SEQUENCE OF Ticket, enc-part [3] EncryptedData -- EncKrbCredPart }
 */
export interface KrbCred {
  pvno: number;
  msgType: number;
  tickets: Ticket[];
  encPart: EncryptedData;
}
export function readKrbCred(e: Elem): KrbCred {
  const s = new SeqCursor(unwrapApplication(e, 22));
  const pvno = readInteger(s.req(0, 'pvno'));
  const msgType = readInteger(s.req(1, 'msg-type'));
  const tickets = seqOf(s.req(2, 'tickets')).map(readTicket);
  const encPart = readEncryptedData(s.req(3, 'enc-part'));
  s.done();
  return { pvno, msgType, tickets, encPart };
}
export function encodeKrbCred(v: KrbCred): Uint8Array {
  return application(
    22,
    sequence([
      ctx(0, writeInteger(v.pvno, 'KRB-CRED.pvno')),
      ctx(1, writeInteger(v.msgType, 'KRB-CRED.msg-type')),
      ctx(2, writeSeqOf(v.tickets, writeTicket)),
      ctx(3, writeEncryptedData(v.encPart)),
    ]),
  );
}
export function decodeKrbCred(bytes: Uint8Array): KrbCred {
  return readKrbCred(root(bytes, 'KRB-CRED'));
}

/**
 * KrbCredInfo ::= SEQUENCE {
 *   key [0] EncryptionKey, prealm [1] Realm OPTIONAL, pname [2] PrincipalName OPTIONAL,
 *   flags [3] TicketFlags OPTIONAL, authtime [4] KerberosTime OPTIONAL,
 *   starttime [5] KerberosTime OPTIONAL, endtime [6] KerberosTime OPTIONAL,
 *   renew-till [7] KerberosTime OPTIONAL, srealm [8] Realm OPTIONAL,
 *   sname [9] PrincipalName OPTIONAL, caddr [10] HostAddresses OPTIONAL }
 */
export interface KrbCredInfo {
  key: EncryptionKey;
  prealm?: Realm;
  pname?: PrincipalName;
  flags?: number;
  authtime?: KerberosTime;
  starttime?: KerberosTime;
  endtime?: KerberosTime;
  renewTill?: KerberosTime;
  srealm?: Realm;
  sname?: PrincipalName;
  caddr?: HostAddresses;
}
function readKrbCredInfo(e: Elem): KrbCredInfo {
  const s = new SeqCursor(e);
  const out: KrbCredInfo = { key: readEncryptionKey(s.req(0, 'key')) };
  const prealm = s.opt(1, 'prealm');
  const pname = s.opt(2, 'pname');
  const flags = s.opt(3, 'flags');
  const authtime = s.opt(4, 'authtime');
  const starttime = s.opt(5, 'starttime');
  const endtime = s.opt(6, 'endtime');
  const renewTill = s.opt(7, 'renew-till');
  const srealm = s.opt(8, 'srealm');
  const sname = s.opt(9, 'sname');
  const caddr = s.opt(10, 'caddr');
  s.done();
  if (prealm) out.prealm = readRealm(prealm);
  if (pname) out.pname = readPrincipalName(pname);
  if (flags) out.flags = readKerberosFlags(flags);
  if (authtime) out.authtime = readKerberosTime(authtime);
  if (starttime) out.starttime = readKerberosTime(starttime);
  if (endtime) out.endtime = readKerberosTime(endtime);
  if (renewTill) out.renewTill = readKerberosTime(renewTill);
  if (srealm) out.srealm = readRealm(srealm);
  if (sname) out.sname = readPrincipalName(sname);
  if (caddr) out.caddr = readHostAddresses(caddr);
  return out;
}
function writeKrbCredInfo(v: KrbCredInfo): Uint8Array {
  return sequence([
    ctx(0, writeEncryptionKey(v.key)),
    optCtx(1, v.prealm, writeRealm),
    optCtx(2, v.pname, writePrincipalName),
    optCtx(3, v.flags, writeKerberosFlags),
    optCtx(4, v.authtime, writeKerberosTime),
    optCtx(5, v.starttime, writeKerberosTime),
    optCtx(6, v.endtime, writeKerberosTime),
    optCtx(7, v.renewTill, writeKerberosTime),
    optCtx(8, v.srealm, writeRealm),
    optCtx(9, v.sname, writePrincipalName),
    optCtx(10, v.caddr, writeHostAddresses),
  ]);
}

/**
 * EncKrbCredPart ::= [APPLICATION 29] SEQUENCE {
 *   ticket-info [0] SEQUENCE OF KrbCredInfo, nonce [1] UInt32 OPTIONAL,
 *   timestamp [2] KerberosTime OPTIONAL, usec [3] Microseconds OPTIONAL,
 *   s-address [4] HostAddress OPTIONAL, r-address [5] HostAddress OPTIONAL }
 */
export interface EncKrbCredPart {
  ticketInfo: KrbCredInfo[];
  nonce?: number;
  timestamp?: KerberosTime;
  usec?: number;
  sAddress?: HostAddress;
  rAddress?: HostAddress;
}
export function encodeEncKrbCredPart(v: EncKrbCredPart): Uint8Array {
  return application(
    29,
    sequence([
      ctx(0, writeSeqOf(v.ticketInfo, writeKrbCredInfo)),
      optCtx(1, v.nonce, (n) => writeUInt32(n, 'EncKrbCredPart.nonce')),
      optCtx(2, v.timestamp, writeKerberosTime),
      optCtx(3, v.usec, (n) => writeMicroseconds(n, 'EncKrbCredPart.usec')),
      optCtx(4, v.sAddress, writeHostAddress),
      optCtx(5, v.rAddress, writeHostAddress),
    ]),
  );
}
export function decodeEncKrbCredPart(bytes: Uint8Array): EncKrbCredPart {
  const s = new SeqCursor(unwrapApplication(root(bytes, 'EncKrbCredPart'), 29));
  const out: EncKrbCredPart = { ticketInfo: seqOf(s.req(0, 'ticket-info')).map(readKrbCredInfo) };
  const nonce = s.opt(1, 'nonce');
  const timestamp = s.opt(2, 'timestamp');
  const usec = s.opt(3, 'usec');
  const sAddress = s.opt(4, 's-address');
  const rAddress = s.opt(5, 'r-address');
  s.done();
  if (nonce) out.nonce = readUInt32(nonce);
  if (timestamp) out.timestamp = readKerberosTime(timestamp);
  if (usec) out.usec = readMicroseconds(usec);
  if (sAddress) out.sAddress = readHostAddress(sAddress);
  if (rAddress) out.rAddress = readHostAddress(rAddress);
  return out;
}
