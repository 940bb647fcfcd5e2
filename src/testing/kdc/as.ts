// The AS exchange, KDC side (RFC 4120 §3.1.2-3.1.3): pre-authentication is always required
// (PA-ENC-TIMESTAMP, §5.2.7.2); the hint a client needs to derive its key is PA-ETYPE-INFO2
// with the principal's real salt and s2kparams, never left for the client to guess.
import {
  decodeEncryptedData,
  decodePaEncTsEnc,
  encodeAsRep,
  encodeEncAsRepPart,
  encodeEncTicketPart,
  encodeEtypeInfo2,
  encodeMethodData,
  type KdcReq,
  MessageType,
  type PaData,
  PaDataType,
} from '../../asn1/index.js';
import { NameType, type PrincipalName } from '../../asn1/types.js';
import { TicketFlag } from '../../ccache/flags.js';
import { parsePrincipal, unparsePrincipal } from '../../ccache/principal-text.js';
import { decrypt, encrypt, generateRandomKey, isEnctypeSupported } from '../../crypto/index.js';
import { KdcOption } from '../../krb5/kdc-reply.js';
import { type KdcContext, KdcErr, KdcFailure, requestedEnd, secondsOf } from './context.js';
import { keyFor, type PrincipalKey, type PrincipalRecord } from './database.js';

const USAGE_PA_ENC_TIMESTAMP = 1;
const USAGE_TICKET = 2;
const USAGE_AS_REP = 3;

/** RFC 6806 §5: an NT-ENTERPRISE name is one component holding `user@domain`. */
function lookupClient(ctx: KdcContext, name: PrincipalName, realm: string): PrincipalRecord | undefined {
  if (name.nameType === NameType.ENTERPRISE && name.nameString.length === 1) {
    const p = parsePrincipal(name.nameString[0] ?? '', realm);
    const found = ctx.db.get(p.name, realm);
    return found && !ctx.hidden(found.principal.name, realm) ? found : undefined;
  }
  return ctx.hidden(name, realm) ? undefined : ctx.db.get(name, realm);
}

/** The first enctype of the client's list (its preference order) we hold a key of. */
function replyKeyFor(client: PrincipalRecord, etypes: readonly number[]): PrincipalKey | undefined {
  for (const e of etypes) {
    const k = keyFor(client, e);
    if (k) return k;
  }
  return undefined;
}

function etypeInfo2(k: PrincipalKey): PaData {
  const entry = {
    etype: k.key.enctype,
    ...(k.salt.length > 0 ? { saltBytes: k.salt } : {}),
    ...(k.s2kparams ? { s2kparams: k.s2kparams } : {}),
  };
  return { padataType: PaDataType.ETYPE_INFO2, padataValue: encodeEtypeInfo2([entry]) };
}

/**
 * METHOD-DATA for PREAUTH_REQUIRED / PREAUTH_FAILED: PA-ETYPE-INFO2 for the key the client
 * should use, and PA-ENC-TIMESTAMP as the method. No PA-FX-FAST: MIT clients would then armor.
 */
function methodData(k: PrincipalKey): Uint8Array {
  return encodeMethodData([
    etypeInfo2(k),
    { padataType: PaDataType.ENC_TIMESTAMP, padataValue: new Uint8Array(0) },
  ]);
}

/**
 * The session key enctype: the client's most preferred one the server also has a key of (MIT's
 * rule). None in common → KDC_ERR_ETYPE_NOSUPP: a session key the service may not implement is
 * never handed out.
 */
export function sessionEnctype(etypes: readonly number[], server: PrincipalRecord): number {
  const chosen = etypes.find((e) => isEnctypeSupported(e) && keyFor(server, e) !== undefined);
  if (chosen === undefined)
    throw new KdcFailure(
      KdcErr.ETYPE_NOSUPP,
      `no enctype among ${etypes.join(', ')} that both this KDC and ${unparsePrincipal(server.principal)} support`,
    );
  return chosen;
}

/**
 * Checks PA-ENC-TIMESTAMP. Whatever is wrong with it (not DER, an enctype the client has no key
 * of, the wrong key, not a PA-ENC-TS-ENC inside) is KDC_ERR_PREAUTH_FAILED with the METHOD-DATA
 * hint for `hint`, the key the client should use — as MIT answers, so a client can retry.
 */
function verifyTimestamp(
  ctx: KdcContext,
  client: PrincipalRecord,
  pa: PaData,
  hint: PrincipalKey,
): PrincipalKey {
  const failed = (why?: string): KdcFailure =>
    new KdcFailure(
      KdcErr.PREAUTH_FAILED,
      why ? `Preauthentication failed: ${why}` : 'Preauthentication failed',
      methodData(hint),
    );
  let enc: ReturnType<typeof decodeEncryptedData>;
  try {
    enc = decodeEncryptedData(pa.padataValue);
  } catch {
    throw failed('malformed PA-ENC-TIMESTAMP');
  }
  const k = keyFor(client, enc.etype);
  if (!k) throw failed(`the client has no key of enctype ${enc.etype}`);
  let ts: ReturnType<typeof decodePaEncTsEnc>;
  try {
    ts = decodePaEncTsEnc(decrypt(k.key, USAGE_PA_ENC_TIMESTAMP, enc.cipher));
  } catch {
    throw failed();
  }
  const when = ts.patimestamp.getTime() + Math.floor((ts.pausec ?? 0) / 1000);
  if (Math.abs(when - ctx.now()) > ctx.policy.clockSkew * 1000) {
    throw new KdcFailure(KdcErr.SKEW, 'Clock skew too great');
  }
  return k;
}

export function handleAsReq(ctx: KdcContext, req: KdcReq): Uint8Array {
  const body = req.reqBody;
  if (!ctx.db.realms.includes(body.realm))
    throw new KdcFailure(KdcErr.WRONG_REALM, `realm ${body.realm} is not served here`);
  if (!body.cname) throw new KdcFailure(KdcErr.BADOPTION, 'AS-REQ without cname');
  if (!body.sname) throw new KdcFailure(KdcErr.BADOPTION, 'AS-REQ without sname');
  const client = lookupClient(ctx, body.cname, body.realm);
  if (!client) throw new KdcFailure(KdcErr.C_PRINCIPAL_UNKNOWN, 'Client not found in Kerberos database');
  const server = ctx.hidden(body.sname, body.realm) ? undefined : ctx.db.get(body.sname, body.realm);
  if (!server) throw new KdcFailure(KdcErr.S_PRINCIPAL_UNKNOWN, 'Server not found in Kerberos database');
  const preferred = replyKeyFor(
    client,
    body.etype.filter((e) => isEnctypeSupported(e)),
  );
  if (!preferred) throw new KdcFailure(KdcErr.ETYPE_NOSUPP, 'KDC has no support for encryption type');

  const ts = req.padata?.find((p) => p.padataType === PaDataType.ENC_TIMESTAMP);
  if (!ts)
    throw new KdcFailure(
      KdcErr.PREAUTH_REQUIRED,
      'Additional pre-authentication required',
      methodData(preferred),
    );
  // The reply is encrypted in the key the client just proved it holds.
  const replyKey = verifyTimestamp(ctx, client, ts, preferred);

  const now = Math.floor(ctx.now() / 1000) * 1000;
  if (body.from !== undefined && body.from.getTime() > now + ctx.policy.clockSkew * 1000) {
    throw new KdcFailure(KdcErr.CANNOT_POSTDATE, 'postdated tickets are not issued by MiniKdc');
  }
  const maxEnd = now + ctx.policy.maxLife * 1000;
  const wantedEnd = requestedEnd(body.till, maxEnd);
  const end = Math.min(wantedEnd, maxEnd);
  if (end <= now)
    throw new KdcFailure(KdcErr.NEVER_VALID, 'Requested effective lifetime is negative or too short');
  let flags = TicketFlag.INITIAL | TicketFlag.PRE_AUTHENT;
  if (body.kdcOptions & KdcOption.FORWARDABLE) flags |= TicketFlag.FORWARDABLE;
  if (body.kdcOptions & KdcOption.PROXIABLE) flags |= TicketFlag.PROXIABLE;
  let renewTill: number | undefined;
  const maxRenew = now + ctx.policy.maxRenewableLife * 1000;
  if (body.kdcOptions & KdcOption.RENEWABLE)
    renewTill = Math.min(requestedEnd(body.rtime, maxRenew), maxRenew);
  else if (body.kdcOptions & KdcOption.RENEWABLE_OK && wantedEnd > end)
    renewTill = Math.min(wantedEnd, maxRenew);
  if (renewTill !== undefined && renewTill > end) flags |= TicketFlag.RENEWABLE;
  else renewTill = undefined;
  flags >>>= 0;

  const session = generateRandomKey(sessionEnctype(body.etype, server));
  const sessionKey = { keytype: session.enctype, keyvalue: session.bytes };
  const canon = (body.kdcOptions & KdcOption.CANONICALIZE) !== 0;
  const cname = canon || body.cname.nameType === NameType.ENTERPRISE ? client.principal.name : body.cname;
  const sname = canon ? server.principal.name : body.sname;
  const times = {
    authtime: secondsOf(now),
    starttime: secondsOf(now),
    endtime: secondsOf(end),
    ...(renewTill === undefined ? {} : { renewTill: secondsOf(renewTill) }),
  };
  const ticketKey = server.keys[0] as PrincipalKey;
  const encTicket = encodeEncTicketPart({
    flags,
    key: sessionKey,
    crealm: body.realm,
    cname,
    transited: { trType: 1, contents: new Uint8Array(0) },
    ...times,
    ...(body.addresses ? { caddr: body.addresses } : {}),
  });
  const ticket = {
    tktVno: 5,
    realm: body.realm,
    sname,
    encPart: {
      etype: ticketKey.key.enctype,
      kvno: server.kvno,
      cipher: encrypt(ticketKey.key, USAGE_TICKET, encTicket),
    },
  };
  const encPart = encodeEncAsRepPart({
    key: sessionKey,
    lastReq: [{ lrType: 0, lrValue: secondsOf(now) }],
    nonce: body.nonce,
    flags,
    ...times,
    srealm: body.realm,
    sname,
    ...(body.addresses ? { caddr: body.addresses } : {}),
  });
  return encodeAsRep({
    pvno: 5,
    msgType: MessageType.AS_REP,
    padata: [etypeInfo2(replyKey)],
    crealm: body.realm,
    cname,
    ticket,
    encPart: {
      etype: replyKey.key.enctype,
      kvno: client.kvno,
      cipher: encrypt(replyKey.key, USAGE_AS_REP, encPart),
    },
  });
}
