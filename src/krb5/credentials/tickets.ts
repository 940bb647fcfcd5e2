// The shapes a credential takes on its way through Credentials: a ccache entry (as stored),
// a KDC reply (as received), a TGT ready to present in a TGS-REQ, and a service ticket ready
// for an AP-REQ; plus the conversions between them.
import { decodeTicket, type Ticket } from '../../asn1/index.js';
import type { EncryptionKey } from '../../asn1/types.js';
import type { CcacheCredential } from '../../ccache/ccache.js';
import type { Principal } from '../../ccache/principal-text.js';
import { type Key, makeKey } from '../../crypto/index.js';
import type { KdcReply } from '../kdc-reply.js';
import type { TgtCredential } from '../tgs.js';

/** A service ticket ready for an AP-REQ. */
export interface ServiceTicket {
  client: Principal;
  server: Principal;
  ticket: Ticket;
  ticketBytes: Uint8Array;
  sessionKey: Key;
  flags: number;
  authTime: Date;
  startTime: Date;
  endTime: Date;
  renewTill: Date | undefined;
}

export const toDate = (s: number): Date => new Date(s * 1000);
export const secs = (d: Date): number => Math.floor(d.getTime() / 1000);

/** `krbtgt/REALM`: a ticket-granting service name (RFC 4120 §7.3). */
export function isTgsName(p: Principal): boolean {
  return p.name.nameString.length === 2 && p.name.nameString[0] === 'krbtgt';
}

export function keyOf(k: EncryptionKey): Key {
  return makeKey(k.keytype, k.keyvalue);
}

export function credToTicket(c: CcacheCredential): ServiceTicket {
  return {
    client: c.client,
    server: c.server,
    ticket: decodeTicket(c.ticket),
    ticketBytes: c.ticket,
    sessionKey: makeKey(c.key.keytype, c.key.keyvalue),
    flags: c.flags,
    authTime: toDate(c.authTime),
    startTime: toDate(c.startTime || c.authTime),
    endTime: toDate(c.endTime),
    renewTill: c.renewTill ? toDate(c.renewTill) : undefined,
  };
}

export function replyToTicket(r: KdcReply): ServiceTicket {
  return {
    client: r.client,
    server: r.server,
    ticket: r.ticket,
    ticketBytes: r.ticketBytes,
    sessionKey: keyOf(r.sessionKey),
    flags: r.flags,
    authTime: r.authTime,
    startTime: r.startTime ?? r.authTime,
    endTime: r.endTime,
    renewTill: r.renewTill,
  };
}

/** A TGT (referral or cross-realm) obtained from a TGS reply, ready to present. */
export function tgtOfReply(reply: KdcReply): TgtCredential {
  return {
    client: reply.client,
    server: reply.server,
    ticket: reply.ticket,
    sessionKey: keyOf(reply.sessionKey),
    flags: reply.flags,
    ...(reply.renewTill === undefined ? {} : { renewTill: reply.renewTill }),
  };
}

/** A TGT held in a ccache, ready to present. */
export function tgtOfCred(c: CcacheCredential): TgtCredential {
  return {
    client: c.client,
    server: c.server,
    ticket: decodeTicket(c.ticket),
    sessionKey: makeKey(c.key.keytype, c.key.keyvalue),
    flags: c.flags,
    ...(c.renewTill ? { renewTill: toDate(c.renewTill) } : {}),
  };
}
