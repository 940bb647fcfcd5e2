// What AS and TGS exchanges share (RFC 4120 §3.1.5, §3.3.4): KDC options, nonces, reading a
// KDC's answer as a reply or a KRB-ERROR, checking the decrypted EncKDCRepPart against the
// request, and turning the result into a ccache credential.
import {
  decodeEncKdcRepPart,
  decodeKerberosMessage,
  type EncKdcRepPart,
  encodeTicket,
  type KdcRep,
  type KrbError,
  type Ticket,
} from '../asn1/index.js';
import type { EncryptionKey, PrincipalName } from '../asn1/types.js';
import type { CcacheCredential } from '../ccache/ccache.js';
import type { Principal } from '../ccache/principal-text.js';
import { unparsePrincipal } from '../ccache/principal-text.js';
import { decrypt, type Key, randomUint32 } from '../crypto/index.js';
import { CredentialsError, CryptoError, KerberosError } from '../errors.js';
import { kerberosErrorFrom } from './krb-error.js';

const bit = (n: number): number => (1 << (31 - n)) >>> 0;

/** KDCOptions (RFC 4120 §5.4.1, RFC 6806 §11 canonicalize), as uint32 with bit n = 1 << (31 - n). */
export const KdcOption = {
  FORWARDABLE: bit(1),
  FORWARDED: bit(2),
  PROXIABLE: bit(3),
  PROXY: bit(4),
  ALLOW_POSTDATE: bit(5),
  POSTDATED: bit(6),
  RENEWABLE: bit(8),
  /** S4U2Proxy (MS-SFU §2.2.3): the client of the new ticket is the additional ticket's. */
  CNAME_IN_ADDL_TKT: bit(14),
  CANONICALIZE: bit(15),
  DISABLE_TRANSITED_CHECK: bit(26),
  RENEWABLE_OK: bit(27),
  ENC_TKT_IN_SKEY: bit(28),
  RENEW: bit(30),
  VALIDATE: bit(31),
} as const;

/** A 31-bit random nonce: MIT's choice, so signed and unsigned decoders agree. */
export function makeNonce(): number {
  return randomUint32() & 0x7fffffff;
}

/** A ticket with everything the client learnt about it from the KDC's encrypted reply. */
export interface KdcReply {
  client: Principal;
  server: Principal;
  ticket: Ticket;
  /** Exact DER of the ticket, as the KDC sent it (what ccaches and AP-REQs carry). */
  ticketBytes: Uint8Array;
  sessionKey: EncryptionKey;
  flags: number;
  authTime: Date;
  startTime: Date | undefined;
  endTime: Date;
  renewTill: Date | undefined;
  encPart: EncKdcRepPart;
}

export type KdcAnswer = { kind: 'rep'; rep: KdcRep } | { kind: 'error'; error: KrbError };

/** Reads a KDC's reply bytes as the expected KDC-REP or a KRB-ERROR; anything else is an error. */
export function readKdcAnswer(bytes: Uint8Array, expect: 'as-rep' | 'tgs-rep'): KdcAnswer {
  const msg = decodeKerberosMessage(bytes);
  if (msg.type === 'krb-error') return { kind: 'error', error: msg.value };
  if (msg.type === expect) return { kind: 'rep', rep: msg.value };
  throw new KerberosError(
    40,
    'KRB_AP_ERR_MSG_TYPE',
    `KDC answered with ${msg.type} where ${expect} was expected`,
  );
}

export function sameName(a: PrincipalName, b: PrincipalName): boolean {
  return a.nameString.length === b.nameString.length && a.nameString.every((s, i) => s === b.nameString[i]);
}

export interface ReplyExpectations {
  nonce: number;
  client: Principal;
  server: Principal;
  /** With canonicalize an AS reply may rename the client (RFC 6806 §6) and the krbtgt realm. */
  canonicalize: boolean;
  /** The client must be the one asked for even with canonicalize (TGS: the TGT's client). */
  pinClient?: boolean;
  /** TGS referrals: the server may be krbtgt/OTHER@THIS instead of the service asked for. */
  allowReferral?: boolean;
  /**
   * Cross-realm path: asked for krbtgt/FAR@HERE, a TGT krbtgt/NEARER@HERE for a realm closer on
   * the path is also an answer (MIT's alternate TGT); the caller checks NEARER is on the path.
   */
  alternateTgt?: boolean;
  /** The enctypes the request offered: the session key must be one of them (as MIT checks). */
  etypes?: readonly number[];
}

/**
 * Decrypts a KDC-REP's enc-part with `key`/`usage` and checks it answers our request: the
 * nonce (replay protection, RFC 4120 §3.1.5) and, unless canonicalizing, the names.
 */
export function openKdcRep(
  rep: KdcRep,
  keys: readonly { key: Key; usage: number }[],
  expect: ReplyExpectations,
): KdcReply {
  let plain: Uint8Array | undefined;
  let lastError: unknown;
  for (const { key, usage } of keys) {
    if (key.enctype !== rep.encPart.etype) {
      lastError = new CryptoError(
        'UNSUPPORTED_ENCTYPE',
        `reply encrypted with enctype ${rep.encPart.etype}, our key is enctype ${key.enctype}`,
      );
      continue;
    }
    try {
      plain = decrypt(key, usage, rep.encPart.cipher);
      break;
    } catch (e) {
      lastError = e;
    }
  }
  if (plain === undefined) {
    if (lastError instanceof CryptoError && lastError.code === 'INTEGRITY') {
      throw new KerberosError(31, 'KRB_AP_ERR_BAD_INTEGRITY', 'cannot decrypt the KDC reply: wrong key', {
        hint: 'the password or keytab key does not match the KDC (wrong password, or a stale keytab)',
        cause: lastError,
      });
    }
    throw lastError ?? new KerberosError(31, 'KRB_AP_ERR_BAD_INTEGRITY', 'no key to decrypt the KDC reply');
  }
  const enc = decodeEncKdcRepPart(plain);
  if (enc.nonce !== expect.nonce) {
    throw new KerberosError(
      41,
      'KRB_AP_ERR_MODIFIED',
      'KDC reply nonce does not match the request (possible replay)',
    );
  }
  if (expect.etypes !== undefined && !expect.etypes.includes(enc.key.keytype)) {
    // A KDC (or someone in the path) must not hand us a session key of an enctype we did not
    // ask for: that is how a downgrade to a weak or disabled enctype would look.
    throw new CredentialsError(
      'SESSION_ENCTYPE_NOT_REQUESTED',
      `the KDC issued a session key of enctype ${enc.key.keytype}, which the request did not offer (${expect.etypes.join(', ')})`,
      {
        hint: "the KDC ignored the requested enctypes; check default_tkt_enctypes/default_tgs_enctypes and the KDC's supported_enctypes",
      },
    );
  }
  const client: Principal = { realm: rep.crealm, name: rep.cname };
  const server: Principal = { realm: enc.srealm, name: enc.sname };
  if (!expect.canonicalize || expect.pinClient) {
    if (rep.crealm !== expect.client.realm || !sameName(rep.cname, expect.client.name)) {
      throw new KerberosError(
        41,
        'KRB_AP_ERR_MODIFIED',
        `KDC reply is for client ${unparsePrincipal(client)}, not ${unparsePrincipal(expect.client)}`,
      );
    }
  }
  if (!serverAccepted(server, expect)) {
    throw new KerberosError(
      41,
      'KRB_AP_ERR_MODIFIED',
      `KDC reply is for server ${unparsePrincipal(server)}, not ${unparsePrincipal(expect.server)}`,
    );
  }
  // The ticket's own sname must agree with the encrypted part, or the unencrypted ticket was swapped.
  if (rep.ticket.realm !== enc.srealm || !sameName(rep.ticket.sname, enc.sname)) {
    throw new KerberosError(
      41,
      'KRB_AP_ERR_MODIFIED',
      'KDC reply ticket and encrypted part name different servers',
    );
  }
  return {
    client,
    server,
    ticket: rep.ticket,
    ticketBytes: rep.ticket.raw ?? encodeTicket(rep.ticket),
    sessionKey: enc.key,
    flags: enc.flags,
    authTime: enc.authtime,
    startTime: enc.starttime,
    endTime: enc.endtime,
    renewTill: enc.renewTill,
    encPart: enc,
  };
}

const isTgs = (p: Principal): boolean => p.name.nameString.length === 2 && p.name.nameString[0] === 'krbtgt';

/**
 * The server of a reply must be the one asked for. Two exceptions, both TGTs: a referral
 * (krbtgt/OTHER@ASKED, RFC 6806 §8) issued by the realm we asked, when referrals are allowed or
 * canonicalize was requested; and, for a canonicalized request for a TGT, the KDC's spelling of
 * its realm. Anything else means the reply was not for our request.
 */
function serverAccepted(server: Principal, expect: ReplyExpectations): boolean {
  if (server.realm === expect.server.realm && sameName(server.name, expect.server.name)) return true;
  if (!isTgs(server)) return false;
  if (expect.alternateTgt && isTgs(expect.server) && server.realm === expect.server.realm) return true;
  if (
    (expect.allowReferral || expect.canonicalize) &&
    !isTgs(expect.server) &&
    server.realm === expect.server.realm
  )
    return true;
  if (expect.canonicalize && isTgs(expect.server)) {
    const asked = `${expect.server.name.nameString[1]}@${expect.server.realm}`.toUpperCase();
    return `${server.name.nameString[1]}@${server.realm}`.toUpperCase() === asked;
  }
  return false;
}

/** Turns a KDC-KRB-ERROR into our typed error. */
export function kdcError(error: KrbError, context: string): KerberosError {
  return kerberosErrorFrom(error, context);
}

const secs = (d: Date | undefined): number => (d === undefined ? 0 : Math.floor(d.getTime() / 1000));

/** The ccache entry MIT would store for this reply. */
export function toCcacheCredential(reply: KdcReply): CcacheCredential {
  return {
    client: reply.client,
    server: reply.server,
    key: reply.sessionKey,
    authTime: secs(reply.authTime),
    startTime: secs(reply.startTime ?? reply.authTime),
    endTime: secs(reply.endTime),
    renewTill: secs(reply.renewTill),
    isSkey: false,
    flags: reply.flags,
    addresses: reply.encPart.caddr ?? [],
    authData: [],
    ticket: reply.ticketBytes,
    secondTicket: new Uint8Array(0),
  };
}
