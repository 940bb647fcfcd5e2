// The TGS exchange, KDC side (RFC 4120 §3.3.2-3.3.3): the PA-TGS-REQ AP-REQ is verified in
// full (TGT under the krbtgt key, authenticator, its keyed checksum over the req-body exactly
// as sent), then a service ticket, a forwarded TGT, a renewed ticket or a referral TGT
// (RFC 6806 §8) is issued, encrypted to the authenticator subkey when there is one.
import {
  type Authenticator,
  decodeApReq,
  decodeAuthenticator,
  decodeEncTicketPart,
  decodePaForUser,
  decodePaPacOptions,
  type EncTicketPart,
  encodeEncTgsRepPart,
  encodeEncTicketPart,
  encodeTgsRep,
  type KdcReq,
  MessageType,
  PacOption,
  PaDataType,
  type Ticket,
} from '../../asn1/index.js';
import { NameType, type PrincipalName } from '../../asn1/types.js';
import { TicketFlag } from '../../ccache/flags.js';
import { unparsePrincipal } from '../../ccache/principal-text.js';
import {
  decrypt,
  encrypt,
  generateRandomKey,
  type Key,
  makeKey,
  verifyChecksum,
} from '../../crypto/index.js';
import { KdcOption, sameName } from '../../krb5/kdc-reply.js';
import { forUserChecksumInput } from '../../krb5/s4u.js';
import { sessionEnctype } from './as.js';
import { type KdcContext, KdcErr, KdcFailure, requestedEnd, secondsOf } from './context.js';
import { keyFor, type PrincipalKey, type PrincipalRecord } from './database.js';

const USAGE_TICKET = 2;
const USAGE_TGS_REQ_CKSUM = 6;
const USAGE_TGS_REQ_AUTH = 7;
const USAGE_TGS_REP_SESSION = 8;
const USAGE_TGS_REP_SUBKEY = 9;
/**
 * Checksums that cannot protect a req-body: CRC32 (1) is not collision-proof and the DES MACs
 * (4, 8) need keys we do not have. The unkeyed collision-proof ones (rsa-md5 7, sha1 14) are
 * taken, as MIT's KDC takes them (kdc_util.c comp_cksum): the authenticator that carries them is
 * encrypted, and Windows clients put rsa-md5 over their TGS-REQ bodies.
 */
const REFUSED_CKSUMS = new Set([1, 3, 4, 5, 8, 9]);
const UNKEYED_CKSUMS = new Set([7, 14]);

const isTgs = (n: PrincipalName): boolean => n.nameString.length === 2 && n.nameString[0] === 'krbtgt';

interface VerifiedTgsReq {
  ticket: Ticket;
  ticketServer: PrincipalRecord;
  tgt: EncTicketPart;
  sessionKey: Key;
  auth: Authenticator;
}

function decryptOr(code: number, what: string, f: () => Uint8Array): Uint8Array {
  try {
    return f();
  } catch {
    throw new KdcFailure(code, `cannot decrypt the ${what}`);
  }
}

/** Opens the AP-REQ of PA-TGS-REQ and checks it against the request it came with. */
function verifyApReq(
  ctx: KdcContext,
  req: KdcReq,
  onClient: (c: NonNullable<KdcFailure['client']>) => void,
): VerifiedTgsReq {
  const pa = req.padata?.find((p) => p.padataType === PaDataType.TGS_REQ);
  if (!pa) throw new KdcFailure(KdcErr.PADATA_TYPE_NOSUPP, 'TGS-REQ without PA-TGS-REQ');
  const apReq = decodeApReq(pa.padataValue);
  const ticket = apReq.ticket;
  const ticketServer = ctx.db.get(ticket.sname, ticket.realm);
  if (!ticketServer)
    throw new KdcFailure(KdcErr.S_PRINCIPAL_UNKNOWN, 'no key for the ticket in the PA-TGS-REQ');
  const tk = keyFor(ticketServer, ticket.encPart.etype);
  if (!tk)
    throw new KdcFailure(KdcErr.NOKEY, `no key of enctype ${ticket.encPart.etype} for the presented ticket`);
  if (ticket.encPart.kvno !== undefined && ticket.encPart.kvno !== ticketServer.kvno) {
    throw new KdcFailure(
      KdcErr.BADKEYVER,
      `ticket kvno ${ticket.encPart.kvno}, key kvno ${ticketServer.kvno}`,
    );
  }
  const tgt = decodeEncTicketPart(
    decryptOr(KdcErr.BAD_INTEGRITY, 'ticket', () => decrypt(tk.key, USAGE_TICKET, ticket.encPart.cipher)),
  );
  onClient({ crealm: tgt.crealm, cname: tgt.cname });
  const sessionKey = makeKey(tgt.key.keytype, tgt.key.keyvalue);
  if (apReq.authenticator.etype !== sessionKey.enctype)
    throw new KdcFailure(KdcErr.BAD_INTEGRITY, 'authenticator enctype differs from the session key');
  const auth = decodeAuthenticator(
    decryptOr(KdcErr.BAD_INTEGRITY, 'authenticator', () =>
      decrypt(sessionKey, USAGE_TGS_REQ_AUTH, apReq.authenticator.cipher),
    ),
  );
  if (auth.crealm !== tgt.crealm || !sameName(auth.cname, tgt.cname)) {
    throw new KdcFailure(KdcErr.BADMATCH, 'authenticator client differs from the ticket client');
  }
  const now = ctx.now();
  const skewMs = ctx.policy.clockSkew * 1000;
  if (Math.abs(auth.ctime.getTime() + Math.floor(auth.cusec / 1000) - now) > skewMs) {
    throw new KdcFailure(KdcErr.SKEW, 'Clock skew too great');
  }
  if ((tgt.starttime ?? tgt.authtime).getTime() > now + skewMs || (tgt.flags & TicketFlag.INVALID) !== 0) {
    throw new KdcFailure(KdcErr.TKT_NYV, 'Ticket not yet valid');
  }
  if (tgt.endtime.getTime() + skewMs < now) throw new KdcFailure(KdcErr.TKT_EXPIRED, 'Ticket expired');
  const ck = auth.cksum;
  if (!ck || REFUSED_CKSUMS.has(ck.cksumtype))
    throw new KdcFailure(
      KdcErr.INAPP_CKSUM,
      'the authenticator needs a collision-proof checksum of the req-body',
    );
  let ok: boolean;
  try {
    ok = verifyChecksum(
      ck.cksumtype,
      UNKEYED_CKSUMS.has(ck.cksumtype) ? undefined : sessionKey,
      USAGE_TGS_REQ_CKSUM,
      req.rawReqBody ?? new Uint8Array(0),
      ck.checksum,
    );
  } catch {
    throw new KdcFailure(KdcErr.INAPP_CKSUM, `checksum type ${ck.cksumtype} does not fit the session key`);
  }
  if (!ok) throw new KdcFailure(KdcErr.MODIFIED, 'the req-body checksum does not verify');
  return { ticket, ticketServer, tgt, sessionKey, auth };
}

/** RFC 6806 §8: a service of another realm we trust, reached through krbtgt/OTHER@THIS. */
function referral(ctx: KdcContext, sname: PrincipalName, realm: string): PrincipalRecord | undefined {
  for (const other of ctx.db.inOtherRealms(sname, realm)) {
    const cross = ctx.db.get(
      { nameType: NameType.SRV_INST, nameString: ['krbtgt', other.principal.realm] },
      realm,
    );
    if (cross) return cross;
  }
  return undefined;
}

/** The flags and times of a new ticket derived from `tgt` (RFC 4120 §3.3.3). */
function deriveTicket(ctx: KdcContext, req: KdcReq, v: VerifiedTgsReq, server: PrincipalRecord) {
  const body = req.reqBody;
  const opt = body.kdcOptions;
  const tgt = v.tgt;
  const now = Math.floor(ctx.now() / 1000) * 1000;
  const has = (f: number): boolean => (tgt.flags & f) !== 0;
  const maxEnd = Math.min(tgt.endtime.getTime(), now + ctx.policy.maxLife * 1000);
  const wantedEnd = requestedEnd(body.till, maxEnd);
  const end = Math.min(wantedEnd, maxEnd);
  if (end <= now)
    throw new KdcFailure(KdcErr.NEVER_VALID, 'Requested effective lifetime is negative or too short');
  let flags = tgt.flags & (TicketFlag.PRE_AUTHENT | TicketFlag.HW_AUTHENT | TicketFlag.FORWARDED);
  if (opt & KdcOption.FORWARDABLE && has(TicketFlag.FORWARDABLE)) flags |= TicketFlag.FORWARDABLE;
  if (opt & KdcOption.PROXIABLE && has(TicketFlag.PROXIABLE)) flags |= TicketFlag.PROXIABLE;
  if (opt & KdcOption.FORWARDED) {
    if (!has(TicketFlag.FORWARDABLE)) throw new KdcFailure(KdcErr.BADOPTION, 'the TGT is not forwardable');
    flags |= TicketFlag.FORWARDED;
  }
  let renewTill: number | undefined;
  if (has(TicketFlag.RENEWABLE) && tgt.renewTill) {
    const cap = Math.min(tgt.renewTill.getTime(), now + ctx.policy.maxRenewableLife * 1000);
    if (opt & KdcOption.RENEWABLE) renewTill = Math.min(requestedEnd(body.rtime, cap), cap);
    else if (opt & KdcOption.RENEWABLE_OK && wantedEnd > end) renewTill = Math.min(wantedEnd, cap);
  }
  if (renewTill !== undefined && renewTill > end) flags |= TicketFlag.RENEWABLE;
  else renewTill = undefined;
  if (server.okAsDelegate) flags |= TicketFlag.OK_AS_DELEGATE;
  if (v.ticket.realm !== body.realm) flags |= TicketFlag.TRANSITED_POLICY_CHECKED;
  return { flags: flags >>> 0, start: now, end, renewTill };
}

/** RFC 4120 §3.3.3.2: a realm crossed on the way (not the client's own) joins the transited list. */
function transited(v: VerifiedTgsReq): EncTicketPart['transited'] {
  const from = v.ticket.realm;
  if (from === v.tgt.crealm) return v.tgt.transited;
  const prev = new TextDecoder().decode(v.tgt.transited.contents);
  return { trType: 1, contents: new TextEncoder().encode(prev === '' ? from : `${prev},${from}`) };
}

const USAGE_FOR_USER_CKSUM = 17;

/**
 * S4U (MS-SFU), as MIT's KDC and AD do it: PA-FOR-USER asking a ticket to the service itself
 * (S4U2Self; forwardable only for an account trusted for protocol transition), or
 * CNAME-IN-ADDL-TKT with the user's ticket to the service (S4U2Proxy; allowed by the service's
 * allowedToDelegateTo with a forwardable evidence ticket, or by the back end's
 * allowedToActOnBehalfOf when the request carries PA-PAC-OPTIONS with the resource-based bit, as
 * MIT's KDC (kdc_util.c: "UNSUPPORTED_S4U2PROXY_REQUEST" without it) and Heimdal's (Samba 4.19's
 * mssfu.c) require). Undefined for an ordinary request.
 */
function serviceForUser(
  ctx: KdcContext,
  req: KdcReq,
  v: VerifiedTgsReq,
  server: PrincipalRecord,
  flags: number,
  end: number,
):
  | { client: { crealm: string; cname: PrincipalName; authtime: Date }; flags: number; end: number }
  | undefined {
  const body = req.reqBody;
  const tgt = v.tgt;
  const requester = unparsePrincipal({ realm: tgt.crealm, name: tgt.cname });
  const forUser = req.padata?.find((p) => p.padataType === PaDataType.FOR_USER);
  if (forUser) {
    const pa = decodePaForUser(forUser.padataValue);
    if (unparsePrincipal(server.principal) !== requester)
      throw new KdcFailure(KdcErr.BADOPTION, 'S4U2Self is for a ticket to the requesting service itself');
    const user = { realm: pa.userRealm, name: pa.userName };
    let ok = false;
    try {
      ok =
        pa.cksum.cksumtype === -138 &&
        verifyChecksum(
          -138,
          v.sessionKey,
          USAGE_FOR_USER_CKSUM,
          forUserChecksumInput(user),
          pa.cksum.checksum,
        );
    } catch {
      ok = false;
    }
    if (!ok) throw new KdcFailure(KdcErr.MODIFIED, 'the PA-FOR-USER checksum does not verify');
    if (!ctx.db.get(pa.userName, pa.userRealm))
      throw new KdcFailure(KdcErr.C_PRINCIPAL_UNKNOWN, 'S4U2Self for a user not in the database');
    const forwardable = server.trustedToAuthForDelegation && (flags & TicketFlag.FORWARDABLE) !== 0;
    return {
      client: {
        crealm: pa.userRealm,
        cname: pa.userName,
        authtime: new Date(Math.floor(ctx.now() / 1000) * 1000),
      },
      flags: forwardable ? flags : flags & ~TicketFlag.FORWARDABLE,
      end,
    };
  }
  if ((body.kdcOptions & KdcOption.CNAME_IN_ADDL_TKT) === 0) return undefined;
  const evidence = body.additionalTickets?.[0];
  if (!evidence) throw new KdcFailure(KdcErr.BADOPTION, 'CNAME-IN-ADDL-TKT without an additional ticket');
  const service = ctx.db.get(tgt.cname, tgt.crealm);
  if (!service || unparsePrincipal({ realm: evidence.realm, name: evidence.sname }) !== requester)
    throw new KdcFailure(KdcErr.BADOPTION, 'the evidence ticket is not for the requesting service');
  const ek = keyFor(service, evidence.encPart.etype);
  if (!ek) throw new KdcFailure(KdcErr.NOKEY, 'no key for the evidence ticket');
  const part = decodeEncTicketPart(
    decryptOr(KdcErr.BAD_INTEGRITY, 'evidence ticket', () =>
      decrypt(ek.key, USAGE_TICKET, evidence.encPart.cipher),
    ),
  );
  const target = unparsePrincipal(server.principal);
  const pacOptions = req.padata?.find((p) => p.padataType === PaDataType.PAC_OPTIONS);
  const asksRbcd =
    pacOptions !== undefined &&
    (decodePaPacOptions(pacOptions.padataValue) & PacOption.RESOURCE_BASED_CONSTRAINED_DELEGATION) !== 0;
  const rbcd = asksRbcd && server.allowedToActOnBehalfOf.includes(requester);
  const constrained = service.allowedToDelegateTo.includes(target);
  const evidenceForwardable = (part.flags & TicketFlag.FORWARDABLE) !== 0;
  if (!rbcd && !(constrained && evidenceForwardable)) {
    throw new KdcFailure(
      KdcErr.BADOPTION,
      constrained
        ? 'the evidence ticket is not forwardable'
        : !asksRbcd && server.allowedToActOnBehalfOf.includes(requester)
          ? 'resource-based delegation needs PA-PAC-OPTIONS with the resource-based-constrained-delegation bit'
          : `${requester} may not delegate to ${target}`,
    );
  }
  return {
    client: { crealm: part.crealm, cname: part.cname, authtime: part.authtime },
    flags: evidenceForwardable ? flags | TicketFlag.FORWARDABLE : flags & ~TicketFlag.FORWARDABLE,
    end: Math.min(end, part.endtime.getTime()),
  };
}

export function handleTgsReq(ctx: KdcContext, req: KdcReq): Uint8Array {
  // Once the TGT is open, a refusal names its client in the KRB-ERROR, as MIT's does.
  let client: KdcFailure['client'];
  try {
    return serveTgsReq(ctx, req, (c) => {
      client = c;
    });
  } catch (e) {
    if (e instanceof KdcFailure && client && !e.client) e.client = client;
    throw e;
  }
}

function serveTgsReq(
  ctx: KdcContext,
  req: KdcReq,
  onClient: (c: NonNullable<KdcFailure['client']>) => void,
): Uint8Array {
  const body = req.reqBody;
  if (!ctx.db.realms.includes(body.realm))
    throw new KdcFailure(KdcErr.WRONG_REALM, `realm ${body.realm} is not served here`);
  const opt = body.kdcOptions;
  if (opt & (KdcOption.VALIDATE | KdcOption.ENC_TKT_IN_SKEY | KdcOption.PROXY)) {
    throw new KdcFailure(KdcErr.BADOPTION, 'VALIDATE, PROXY and user-to-user are not supported by MiniKdc');
  }
  const renewing = (opt & KdcOption.RENEW) !== 0;
  const v = verifyApReq(ctx, req, onClient);
  const tgt = v.tgt;
  const now = Math.floor(ctx.now() / 1000) * 1000;
  // The ticket presented (RFC 4120 §3.3.2): a TGT for this realm (ours, or a cross-realm one
  // another realm issued with the key we share); any other ticket only to be renewed, and then
  // only one of a server of this realm, for that very server. In MIT's order: RENEW of a ticket
  // that is not renewable first (BADOPTION), then KRB_AP_ERR_NOT_US or KDC_ERR_SERVER_NOMATCH.
  if (renewing && ((tgt.flags & TicketFlag.RENEWABLE) === 0 || !tgt.renewTill))
    throw new KdcFailure(KdcErr.BADOPTION, 'the ticket is not renewable');
  const isOurTgt = isTgs(v.ticket.sname) && v.ticket.sname.nameString[1] === body.realm;
  if (!isOurTgt && (!renewing || v.ticket.realm !== body.realm))
    throw new KdcFailure(KdcErr.NOT_US, 'the PA-TGS-REQ ticket is not a TGT for this realm');
  if (renewing && !(body.sname && sameName(body.sname, v.ticket.sname)))
    throw new KdcFailure(KdcErr.SERVER_NOMATCH, 'the server requested is not the one of the ticket to renew');

  let server: PrincipalRecord;
  let sname: PrincipalName;
  let session: { keytype: number; keyvalue: Uint8Array };
  let flags: number;
  let start: number;
  let end: number;
  let renewTill: number | undefined;
  let caddr = tgt.caddr;
  // The new ticket's client: the TGT's, or with S4U (MS-SFU) the user the service acts for.
  let client = { crealm: tgt.crealm, cname: tgt.cname, authtime: tgt.authtime };
  if (renewing) {
    // RFC 4120 §3.3.3.1: same ticket, same session key, new times up to renew-till.
    if (!tgt.renewTill) throw new KdcFailure(KdcErr.BADOPTION, 'the ticket is not renewable');
    if (tgt.renewTill.getTime() < now)
      throw new KdcFailure(KdcErr.TKT_EXPIRED, 'the renewable lifetime has ended');
    server = v.ticketServer;
    sname = v.ticket.sname;
    session = tgt.key;
    const life = tgt.endtime.getTime() - (tgt.starttime ?? tgt.authtime).getTime();
    flags = tgt.flags;
    start = now;
    end = Math.min(now + life, tgt.renewTill.getTime());
    renewTill = tgt.renewTill.getTime();
  } else {
    if (!body.sname) throw new KdcFailure(KdcErr.BADOPTION, 'TGS-REQ without sname');
    const found = ctx.hidden(body.sname, body.realm) ? undefined : ctx.db.get(body.sname, body.realm);
    const ref = found ? undefined : referral(ctx, body.sname, body.realm);
    const target = found ?? ref;
    if (!target) throw new KdcFailure(KdcErr.S_PRINCIPAL_UNKNOWN, 'Server not found in Kerberos database');
    server = target;
    sname = ref !== undefined || (opt & KdcOption.CANONICALIZE) !== 0 ? target.principal.name : body.sname;
    const enctype = sessionEnctype(body.etype, server);
    const k = generateRandomKey(enctype);
    session = { keytype: k.enctype, keyvalue: k.bytes };
    ({ flags, start, end, renewTill } = deriveTicket(ctx, req, v, server));
    if (opt & KdcOption.FORWARDED) caddr = body.addresses;
    const s4u = serviceForUser(ctx, req, v, server, flags, end);
    if (s4u) ({ client, flags, end } = s4u);
  }
  const times = {
    authtime: client.authtime,
    starttime: secondsOf(start),
    endtime: secondsOf(end),
    ...(renewTill === undefined ? {} : { renewTill: secondsOf(renewTill) }),
  };
  const ticketKey = server.keys[0] as PrincipalKey;
  const encTicket = encodeEncTicketPart({
    flags,
    key: session,
    crealm: client.crealm,
    cname: client.cname,
    transited: transited(v),
    ...times,
    ...(caddr ? { caddr } : {}),
    ...(tgt.authorizationData ? { authorizationData: tgt.authorizationData } : {}),
  });
  const ticket: Ticket = {
    tktVno: 5,
    realm: renewing ? v.ticket.realm : body.realm,
    sname,
    encPart: {
      etype: ticketKey.key.enctype,
      kvno: server.kvno,
      cipher: encrypt(ticketKey.key, USAGE_TICKET, encTicket),
    },
  };
  const encPart = encodeEncTgsRepPart({
    key: session,
    lastReq: [{ lrType: 0, lrValue: tgt.authtime }],
    nonce: body.nonce,
    flags,
    ...times,
    srealm: ticket.realm,
    sname,
    ...(caddr ? { caddr } : {}),
  });
  // RFC 4120 §7.5.1: usage 9 under the authenticator subkey when given, else 8 under the session key.
  const sub = v.auth.subkey;
  const replyKey = sub ? makeKey(sub.keytype, sub.keyvalue) : v.sessionKey;
  const usage = sub ? USAGE_TGS_REP_SUBKEY : USAGE_TGS_REP_SESSION;
  return encodeTgsRep({
    pvno: 5,
    msgType: MessageType.TGS_REP,
    crealm: client.crealm,
    cname: client.cname,
    ticket,
    encPart: { etype: replyKey.enctype, cipher: encrypt(replyKey, usage, encPart) },
  });
}
