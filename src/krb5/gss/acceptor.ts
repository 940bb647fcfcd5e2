// The acceptor side of the Kerberos mechanism (RFC 4121 §4.1, RFC 4120 §3.2.3): decrypt the
// ticket with the keytab, check the authenticator, remember it in the replay cache, read the
// 0x8003 checksum (flags, channel bindings, delegated KRB-CRED) and answer with an AP-REP when
// the client asked for mutual authentication. Every refusal is a KerberosError naming why.
import {
  type ApReq,
  type Authenticator,
  type AuthorizationData,
  decodeAdIfRelevant,
  decodeApReq,
  decodeAuthenticator,
  decodeEncTicketPart,
  type EncTicketPart,
  encodeApRep,
  encodeEncApRepPart,
  type Ticket,
} from '../../asn1/index.js';
import type { Ccache } from '../../ccache/ccache.js';
import { TicketFlag } from '../../ccache/flags.js';
import type { Keytab, KeytabEntry } from '../../ccache/keytab.js';
import { type Principal, principalsEqual, unparsePrincipal } from '../../ccache/principal-text.js';
import {
  aesReady,
  constantTimeEqual,
  decrypt,
  Enctype,
  encrypt,
  enctypeName,
  generateRandomKey,
  isEnctypeSupported,
  type Key,
  makeKey,
} from '../../crypto/index.js';
import { Asn1Error, CryptoError, KerberosError } from '../../errors.js';
import { krbErrorHint, krbErrorName } from '../krb-error.js';
import { channelBindingHash, decodeGssChecksum } from './checksum.js';
import { ApOption, CKSUMTYPE_GSSAPI, GssFlag, KeyUsage, TokenId } from './constants.js';
import { openKrbCred } from './delegation.js';
import { GssError } from './errors.js';
import { decodeKrb5Token, encodeKrb5Token } from './framing.js';
import { randomSeq } from './initiator.js';
import { MessageProtection } from './per-message.js';
import { defaultReplayCache, type ReplayCache, replayTag } from './replay-cache.js';
import { type Capaths, checkTransited, needsTransitCheck } from './transited.js';

export interface Krb5AcceptorOptions {
  keytab: Keytab;
  /**
   * Accept only tickets for this service. Default: any ticket a keytab key of its enctype opens,
   * whatever name it carries (as MIT with no acceptor name: AD aliases and port SPNs share a key).
   */
  principal?: Principal;
  /** Allowed clock difference, seconds (default 300, MIT's clockskew). */
  clockskew?: number;
  /** application_data of the channel bindings; checked when the client sent bindings too. */
  channelBindings?: Uint8Array;
  /** Where seen authenticators are recorded (default: an in-memory cache shared by the process). */
  replayCache?: ReplayCache;
  /**
   * Decides whether this service takes the ticket's client at all. Runs once the authenticator
   * checked out and before it is recorded, so clients a service refuses (a `realms` or
   * `principals` filter) cost no replay-cache room. Only `true` admits.
   */
  admitClient?: (client: Principal) => boolean | Promise<boolean>;
  /**
   * krb5.conf [capaths] (client realm → server realm → intermediate realms), for checking the
   * transited path of cross-realm tickets the KDC did not check; without an entry for a pair,
   * the realm hierarchy decides (as MIT).
   */
  capaths?: Capaths | (() => Promise<Capaths | undefined>);
  /** ms since the epoch (default Date.now). */
  now?: () => number;
}

export interface Krb5Accepted {
  client: Principal;
  server: Principal;
  /**
   * Context flags: the GSS flags the client asked for (RFC 4121 §4.1.1.1) that an initiator may
   * set, plus DELEG when credentials were delegated and CHANNEL_BOUND when the client's channel
   * bindings matched ours (as MIT's ret_flags).
   */
  flags: number;
  /**
   * True when the client sent channel bindings equal to `channelBindings`. A client that sends
   * none is accepted (as MIT does) unless it asserted KERB_AP_OPTIONS_CBT, so a service that
   * requires binding must check this.
   */
  channelBound: boolean;
  ticketFlags: number;
  authTime: Date;
  endTime: Date;
  /** The AP-REP token (02 00) to return, when mutual authentication was asked. */
  token: Uint8Array | undefined;
  /** Delegated credentials (the client's forwarded TGT), as a ccache. */
  delegated: Ccache | undefined;
  messages: MessageProtection;
  /** The kvno and enctype of the keytab key that opened the ticket. */
  key: { kvno: number; enctype: number };
  /** The client's ticket as it came (the evidence for S4U2Proxy, MS-SFU §3.2.5.2). */
  ticket: Ticket;
}

function krbError(code: number, message: string, cause?: unknown): KerberosError {
  const hint = krbErrorHint(code);
  return new KerberosError(code, krbErrorName(code), message, {
    ...(hint === undefined ? {} : { hint }),
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The flags MIT's acceptor takes from the checksum (accept_sec_context.c INITIATOR_FLAGS). */
const INITIATOR_FLAGS =
  GssFlag.INTEG |
  GssFlag.CONF |
  GssFlag.MUTUAL |
  GssFlag.REPLAY |
  GssFlag.SEQUENCE |
  0x1000 /* DCE_STYLE */ |
  0x2000 /* IDENTIFY */ |
  0x4000; /* EXTENDED_ERROR */

const AD_IF_RELEVANT = 1;
/** KERB-AUTH-DATA-AP-OPTIONS (MS-KILE): a 4-byte little-endian set of AP options. */
const AD_AP_OPTIONS = 143;
const KERB_AP_OPTIONS_CBT = 0x4000;

/** The AP-options authorization data entries, at top level or inside AD-IF-RELEVANT containers. */
function findApOptions(ad: AuthorizationData, out: Uint8Array[], depth = 0): Uint8Array[] {
  for (const e of ad) {
    if (e.adType === AD_AP_OPTIONS) out.push(e.adData);
    else if (e.adType === AD_IF_RELEVANT && depth < 8) {
      let inner: AuthorizationData;
      try {
        inner = decodeAdIfRelevant(e.adData);
      } catch (err) {
        if (err instanceof Asn1Error)
          throw krbError(40, 'the authenticator carries an undecodable AD-IF-RELEVANT', err);
        throw err;
      }
      findApOptions(inner, out, depth + 1);
    }
  }
  return out;
}

/**
 * Whether the client asserts KERB_AP_OPTIONS_CBT (MS-KILE): it then promises channel
 * bindings, and an acceptor that has some must not take an authenticator without them (MIT 1.19+).
 */
function clientAssertsCbt(ad: AuthorizationData | undefined): boolean {
  if (ad === undefined) return false;
  const found = findApOptions(ad, []);
  if (found.length === 0) return false;
  const v = found[0];
  if (found.length > 1 || v === undefined || v.length !== 4)
    throw krbError(40, 'malformed KERB-AUTH-DATA-AP-OPTIONS in the authenticator');
  const opts = ((v[0] ?? 0) | ((v[1] ?? 0) << 8) | ((v[2] ?? 0) << 16) | ((v[3] ?? 0) << 24)) >>> 0;
  return (opts & KERB_AP_OPTIONS_CBT) !== 0;
}

function sameComponents(e: KeytabEntry, p: Principal): boolean {
  return principalsEqual(e.principal, p);
}

/**
 * One Key per keytab entry, so the derived ticket-usage keys (and AES schedules) are computed once
 * per service key, not once per request; entries go with their keytab.
 */
const serviceKeys = new WeakMap<KeytabEntry, Key>();
/** Bounds the work a ticket can cost against a huge keytab (each try is one decryption). */
const MAX_KEYS_TRIED = 64;
function serviceKey(entry: KeytabEntry): Key {
  let k = serviceKeys.get(entry);
  if (k === undefined) {
    k = makeKey(entry.key.keytype, entry.key.keyvalue);
    serviceKeys.set(entry, k);
  }
  return k;
}

/**
 * Finds the keytab key that opens the ticket: keys of the ticket's enctype and kvno first, then
 * — as MIT does — every other key of that enctype, so a keytab whose kvno numbering drifted (or
 * holds the old and new keys) still works. `pinned`: only the ticket's own name's keys.
 */
function openTicket(
  apReq: ApReq,
  keytab: Keytab,
  server: Principal,
  pinned: boolean,
): { part: EncTicketPart; entry: KeytabEntry } {
  const enc = apReq.ticket.encPart;
  const name = unparsePrincipal(server);
  const mine = keytab.entries.filter((e) => sameComponents(e, server));
  // Unpinned, as MIT's rd_req with no server: any key of the ticket's enctype may open it, so a
  // ticket for another SPN of the same account (an alias, a port SPN, another case of the name,
  // all sharing the account's key in AD) is accepted as mod_auth_gssapi accepts it. The ticket's
  // own name's keys go first; the others follow.
  const candidates = pinned ? mine : [...mine, ...keytab.entries.filter((e) => !sameComponents(e, server))];
  if (candidates.length === 0) {
    throw krbError(45, `no key for ${name} in the keytab`);
  }
  const sameType = candidates.filter((e) => e.key.keytype === enc.etype);
  if (sameType.length === 0 || !isEnctypeSupported(enc.etype)) {
    throw krbError(
      45,
      `the ticket for ${name} is encrypted with ${enctypeName(enc.etype)}, and the keytab has no such key${pinned || mine.length > 0 ? ` for it` : ''} (it has ${[...new Set(candidates.map((e) => enctypeName(e.key.keytype)))].join(', ')})`,
    );
  }
  const kvnoMatches = (e: KeytabEntry): boolean =>
    enc.kvno === undefined || e.kvno === enc.kvno || e.kvno === 0;
  // Keys of the ticket's kvno first (the ticket's name's, then the others'), then the rest, as a
  // keytab whose kvno numbering drifted (or holds the old and new keys) still works.
  const ordered = [...sameType.filter(kvnoMatches), ...sameType.filter((e) => !kvnoMatches(e))];
  if (ordered.length > MAX_KEYS_TRIED) ordered.length = MAX_KEYS_TRIED;
  for (const entry of ordered) {
    let plain: Uint8Array;
    try {
      plain = decrypt(serviceKey(entry), KeyUsage.TICKET, enc.cipher);
    } catch (e) {
      if (e instanceof CryptoError) continue;
      throw e;
    }
    try {
      return { part: decodeEncTicketPart(plain), entry };
    } catch (e) {
      throw krbError(41, `the ticket for ${name} decrypts but does not decode`, e);
    }
  }
  const kvnos = [...new Set(sameType.map((e) => e.kvno))].join(', ');
  if (enc.kvno !== undefined && !sameType.some((e) => e.kvno === enc.kvno)) {
    throw krbError(
      44,
      `wrong key version: the ticket for ${name} is for kvno ${enc.kvno}, the keytab has kvno ${kvnos}`,
    );
  }
  if (mine.length === 0) {
    throw krbError(
      45,
      `no key for ${name} in the keytab, and no other key of ${enctypeName(enc.etype)} kvno ${enc.kvno ?? '?'} opens its ticket`,
    );
  }
  throw krbError(
    31,
    `no key in the keytab decrypts the ticket for ${name} (kvno ${enc.kvno ?? '?'}, keytab kvno ${kvnos})`,
  );
}

/** A client the service's own filter refused (before any replay-cache room was taken). */
export class ClientRejectedError extends GssError {}

/**
 * Accepts an AP-REQ token (01 00); rejects with KerberosError (or GssError for a malformed
 * token, ClientRejectedError when `admitClient` refuses, ReplayCacheError when the cache cannot
 * record). Async because a replay cache may be shared (a file, Redis).
 */
export async function acceptApReq(token: Uint8Array, o: Krb5AcceptorOptions): Promise<Krb5Accepted> {
  await aesReady();
  const now = (o.now ?? Date.now)();
  const skewMs = (o.clockskew ?? 300) * 1000;
  const t = decodeKrb5Token(token);
  if (t.tokId !== TokenId.AP_REQ)
    throw new GssError(
      'DEFECTIVE_TOKEN',
      `expected an AP-REQ token (01 00), got TOK_ID ${t.tokId.toString(16).padStart(4, '0')}`,
    );
  let apReq: ApReq;
  try {
    apReq = decodeApReq(t.body);
  } catch (e) {
    if (e instanceof Asn1Error)
      throw new GssError('DEFECTIVE_TOKEN', `the AP-REQ does not decode: ${e.message}`, { cause: e });
    throw e;
  }
  if (apReq.pvno !== 5 || apReq.msgType !== 14)
    throw krbError(39, `AP-REQ with pvno ${apReq.pvno}, msg-type ${apReq.msgType}`);
  if ((apReq.apOptions & ApOption.USE_SESSION_KEY) !== 0)
    throw krbError(66, 'user-to-user AP-REQ: this acceptor has no TGT to offer');
  const server: Principal = { realm: apReq.ticket.realm, name: apReq.ticket.sname };
  if (o.principal && !principalsEqual(o.principal, server)) {
    throw krbError(
      35,
      `the ticket is for ${unparsePrincipal(server)}, this service is ${unparsePrincipal(o.principal)}`,
    );
  }
  const { part: tkt, entry } = openTicket(apReq, o.keytab, server, o.principal !== undefined);
  const sessionKey = makeKey(tkt.key.keytype, tkt.key.keyvalue);
  const client: Principal = { realm: tkt.crealm, name: tkt.cname };
  const start = (tkt.starttime ?? tkt.authtime).getTime();
  if ((tkt.flags & TicketFlag.INVALID) !== 0 || start - skewMs > now) {
    throw krbError(
      33,
      `the ticket of ${unparsePrincipal(client)} is not yet valid (starts ${new Date(start).toISOString()})`,
    );
  }
  if (tkt.endtime.getTime() + skewMs < now) {
    throw krbError(32, `the ticket of ${unparsePrincipal(client)} expired at ${tkt.endtime.toISOString()}`);
  }
  // RFC 4120 §2.7: a path the KDC did not vouch for must run only through trusted realms.
  if (needsTransitCheck(tkt.transited, tkt.flags)) {
    const capaths = typeof o.capaths === 'function' ? await o.capaths() : o.capaths;
    checkTransited(tkt.transited, client.realm, server.realm, false, capaths);
  }

  let auth: Authenticator;
  try {
    if (apReq.authenticator.etype !== sessionKey.enctype)
      throw new CryptoError('INTEGRITY', 'authenticator enctype differs from the session key');
    auth = decodeAuthenticator(
      decrypt(sessionKey, KeyUsage.AP_REQ_AUTHENTICATOR, apReq.authenticator.cipher),
    );
  } catch (e) {
    if (e instanceof CryptoError)
      throw krbError(
        31,
        `the authenticator of ${unparsePrincipal(client)} does not decrypt with the ticket's session key`,
        e,
      );
    if (e instanceof Asn1Error) throw krbError(41, 'the authenticator does not decode', e);
    throw e;
  }
  const claimed: Principal = { realm: auth.crealm, name: auth.cname };
  if (!principalsEqual(claimed, client)) {
    throw krbError(
      36,
      `the authenticator names ${unparsePrincipal(claimed)}, the ticket ${unparsePrincipal(client)}`,
    );
  }
  const ctimeMs = auth.ctime.getTime() + Math.floor(auth.cusec / 1000);
  if (Math.abs(ctimeMs - now) > skewMs) {
    throw krbError(
      37,
      `the authenticator of ${unparsePrincipal(client)} is ${Math.round((now - ctimeMs) / 1000)} s off this server's clock (clockskew ${skewMs / 1000} s)`,
    );
  }
  if (!auth.cksum || auth.cksum.cksumtype !== CKSUMTYPE_GSSAPI) {
    throw krbError(
      50,
      `the authenticator checksum is ${auth.cksum ? `type ${auth.cksum.cksumtype}` : 'missing'}, the GSS-API needs 0x8003`,
    );
  }
  const ck = decodeGssChecksum(auth.cksum.checksum);
  let channelBound = false;
  if (o.channelBindings !== undefined) {
    channelBound = constantTimeEqual(ck.bindingHash, channelBindingHash(o.channelBindings));
    if (!channelBound && ck.bindingHash.some((b) => b !== 0)) {
      throw new GssError(
        'BAD_BINDINGS',
        `the channel bindings of ${unparsePrincipal(client)} do not match this connection`,
        {
          hint: 'the client authenticated a different TLS channel (a proxy in between?)',
        },
      );
    }
    if (!channelBound && clientAssertsCbt(auth.authorizationData)) {
      throw new GssError(
        'BAD_BINDINGS',
        `${unparsePrincipal(client)} promised channel bindings (KERB_AP_OPTIONS_CBT) but sent none`,
        { hint: 'the authenticator was made for use outside this TLS channel' },
      );
    }
  }
  // The service's client filter, once the authenticator proved the client holds the ticket (so
  // a predicate with side effects never runs for a forgery) and before it is recorded: a client
  // the service refuses takes no replay-cache room and costs no AP-REP or delegation work.
  if (o.admitClient && (await o.admitClient(client)) !== true) {
    throw new ClientRejectedError(
      'REJECTED_CLIENT',
      `client ${unparsePrincipal(client)} is not accepted by this service`,
    );
  }
  // Replay check last, so only authenticators that passed every other check take cache room.
  const cache = o.replayCache ?? defaultReplayCache;
  if (!(await cache.checkAndStore(replayTag(apReq.authenticator.cipher), ctimeMs + skewMs, now))) {
    throw krbError(34, `replayed authenticator from ${unparsePrincipal(client)}`);
  }

  const initiatorKey = auth.subkey ? makeKey(auth.subkey.keytype, auth.subkey.keyvalue) : sessionKey;
  let delegated: Ccache | undefined;
  if ((ck.flags & GssFlag.DELEG) !== 0 && ck.delegation) {
    delegated = openKrbCred(ck.delegation, auth.subkey ? [sessionKey, initiatorKey] : [sessionKey]);
    // RFC 4121 §4.1.1: the KRB-CRED carries the initiator's own credentials. Another principal's
    // would have the service act as someone other than the client it authenticated.
    const foreign = [delegated.defaultPrincipal, ...delegated.credentials.map((c) => c.client)].find(
      (p) => !principalsEqual(p, client),
    );
    if (foreign) {
      throw krbError(
        36,
        `the delegated credentials are for ${unparsePrincipal(foreign)}, the ticket for ${unparsePrincipal(client)}`,
      );
    }
  }
  const peerSeq = auth.seqNumber ?? 0;
  const mutual = (apReq.apOptions & ApOption.MUTUAL_REQUIRED) !== 0 || (ck.flags & GssFlag.MUTUAL) !== 0;
  let replyToken: Uint8Array | undefined;
  let acceptorKey: Key | undefined;
  let ourSeq = peerSeq;
  if (mutual) {
    // As MIT (accept_sec_context.c): no acceptor subkey for an rc4-hmac context, whose RFC 4757
    // tokens cannot say which key protects them.
    if (initiatorKey.enctype !== Enctype.RC4_HMAC) acceptorKey = generateRandomKey(initiatorKey.enctype);
    ourSeq = randomSeq();
    const part = encodeEncApRepPart({
      ctime: auth.ctime,
      cusec: auth.cusec,
      ...(acceptorKey ? { subkey: { keytype: acceptorKey.enctype, keyvalue: acceptorKey.bytes } } : {}),
      seqNumber: ourSeq,
    });
    const rep = encodeApRep({
      pvno: 5,
      msgType: 15,
      encPart: { etype: sessionKey.enctype, cipher: encrypt(sessionKey, KeyUsage.AP_REP_ENC_PART, part) },
    });
    replyToken = encodeKrb5Token(TokenId.AP_REP, rep, t.oid);
  }
  return {
    client,
    server,
    flags:
      (ck.flags & INITIATOR_FLAGS) |
      (delegated ? GssFlag.DELEG : 0) |
      (channelBound ? GssFlag.CHANNEL_BOUND : 0),
    channelBound,
    ticketFlags: tkt.flags,
    authTime: tkt.authtime,
    endTime: tkt.endtime,
    token: replyToken,
    delegated,
    messages: new MessageProtection({
      isAcceptor: true,
      initiatorKey,
      acceptorKey,
      sendSeq: ourSeq,
      recvSeq: peerSeq,
      replayDetection: (ck.flags & GssFlag.REPLAY) !== 0,
      sequenceDetection: (ck.flags & GssFlag.SEQUENCE) !== 0,
      oid: t.oid,
    }),
    key: { kvno: entry.kvno, enctype: entry.key.keytype },
    ticket: apReq.ticket,
  };
}
