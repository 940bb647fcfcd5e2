// Delegation (RFC 4121 §4.1.1, RFC 4120 §3.6): the forwarded TGT travels as a KRB-CRED in the
// 0x8003 checksum. Its EncKrbCredPart is encrypted in the ticket's session key with usage 14,
// which is what MIT sends and expects; an unencrypted part (etype 0) is accepted as well.
import {
  decodeEncKrbCredPart,
  decodeKrbCred,
  type EncKrbCredPart,
  encodeEncKrbCredPart,
  encodeKrbCred,
  encodeTicket,
} from '../../asn1/index.js';
import { type Ccache, type CcacheCredential, newCcache } from '../../ccache/ccache.js';
import { decrypt, encrypt, type Key } from '../../crypto/index.js';
import { Asn1Error, CryptoError, KerberosError } from '../../errors.js';
import type { KdcReply } from '../kdc-reply.js';
import { KeyUsage } from './constants.js';

const secs = (d: Date | undefined): number => (d === undefined ? 0 : Math.floor(d.getTime() / 1000));

/** KRB-CRED carrying `tgt` (a FORWARDED TGT from the KDC), sealed with the AP-REQ session key. */
export function buildKrbCred(tgt: KdcReply, sessionKey: Key, nowMs: number): Uint8Array {
  const part: EncKrbCredPart = {
    ticketInfo: [
      {
        key: tgt.sessionKey,
        prealm: tgt.client.realm,
        pname: tgt.client.name,
        flags: tgt.flags,
        authtime: tgt.authTime,
        ...(tgt.startTime ? { starttime: tgt.startTime } : {}),
        endtime: tgt.endTime,
        ...(tgt.renewTill ? { renewTill: tgt.renewTill } : {}),
        srealm: tgt.server.realm,
        sname: tgt.server.name,
      },
    ],
    timestamp: new Date(Math.floor(nowMs / 1000) * 1000),
    usec: (nowMs % 1000) * 1000,
  };
  return encodeKrbCred({
    pvno: 5,
    msgType: 22,
    tickets: [tgt.ticket],
    encPart: {
      etype: sessionKey.enctype,
      cipher: encrypt(sessionKey, KeyUsage.KRB_CRED_ENC_PART, encodeEncKrbCredPart(part)),
    },
  });
}

function bad(why: string, cause?: unknown): KerberosError {
  return new KerberosError(
    41,
    'KRB_AP_ERR_MODIFIED',
    `delegated credentials: ${why}`,
    cause === undefined ? {} : { cause },
  );
}

/**
 * Opens a KRB-CRED from the checksum with the first key that decrypts it (the session key, then
 * the initiator subkey for peers that use it) and returns the credentials as an MIT ccache.
 */
export function openKrbCred(bytes: Uint8Array, keys: readonly Key[]): Ccache {
  let cred: ReturnType<typeof decodeKrbCred>;
  try {
    cred = decodeKrbCred(bytes);
  } catch (e) {
    throw bad('the KRB-CRED does not decode', e);
  }
  let plain: Uint8Array | undefined;
  if (cred.encPart.etype === 0) plain = cred.encPart.cipher;
  for (const k of keys) {
    if (plain || k.enctype !== cred.encPart.etype) continue;
    try {
      plain = decrypt(k, KeyUsage.KRB_CRED_ENC_PART, cred.encPart.cipher);
    } catch (e) {
      if (!(e instanceof CryptoError)) throw e;
    }
  }
  if (!plain) throw bad('no session key decrypts the KRB-CRED');
  let part: EncKrbCredPart;
  try {
    part = decodeEncKrbCredPart(plain);
  } catch (e) {
    if (e instanceof Asn1Error) throw bad('the EncKrbCredPart does not decode', e);
    throw e;
  }
  if (part.ticketInfo.length !== cred.tickets.length || part.ticketInfo.length === 0) {
    throw bad(`${cred.tickets.length} tickets but ${part.ticketInfo.length} ticket-info entries`);
  }
  const first = part.ticketInfo[0];
  if (!first?.pname || first.prealm === undefined) throw bad('the ticket-info names no client');
  const ccache = newCcache({ realm: first.prealm, name: first.pname });
  part.ticketInfo.forEach((info, i) => {
    const ticket = cred.tickets[i];
    if (!ticket || !info.sname || info.srealm === undefined || !info.pname || info.prealm === undefined) {
      throw bad(`ticket-info ${i} lacks the client or server name`);
    }
    const c: CcacheCredential = {
      client: { realm: info.prealm, name: info.pname },
      server: { realm: info.srealm, name: info.sname },
      key: info.key,
      authTime: secs(info.authtime ?? info.starttime),
      startTime: secs(info.starttime ?? info.authtime),
      endTime: secs(info.endtime),
      renewTill: secs(info.renewTill),
      isSkey: false,
      flags: info.flags ?? 0,
      addresses: [],
      authData: [],
      ticket: encodeTicket(ticket),
      secondTicket: new Uint8Array(0),
    };
    ccache.credentials.push(c);
  });
  return ccache;
}
