// The TGS exchange (RFC 4120 §3.3), sans-I/O: a TGS-REQ whose PA-TGS-REQ carries an AP-REQ
// with the TGT and an authenticator that checksums the request body (usages 6/7) and offers a
// subkey; the reply is opened with the subkey (usage 9), or the TGT session key (usage 8) for
// KDCs that ignore subkeys.
import {
  type Authenticator,
  encodeApReq,
  encodeAuthenticator,
  encodeKdcReqBody,
  encodeTgsReq,
  type KdcReqBody,
  MessageType,
  type PaData,
  PaDataType,
  type TgsReq,
  type Ticket,
} from '../asn1/index.js';
import type { Principal } from '../ccache/principal-text.js';
import { checksumTypeFor, encrypt, generateRandomKey, type Key, makeChecksum } from '../crypto/index.js';
import { KdcOption, type KdcReply, makeNonce, openKdcRep } from './kdc-reply.js';

const USAGE_TGS_REQ_CKSUM = 6;
const USAGE_TGS_REQ_AUTH = 7;
const USAGE_TGS_REP_SESSION = 8;
const USAGE_TGS_REP_SUBKEY = 9;

/** A ticket-granting ticket we can present: its ticket, session key and who it is for. */
export interface TgtCredential {
  client: Principal;
  /** krbtgt/SERVICE-REALM@ISSUING-REALM */
  server: Principal;
  ticket: Ticket;
  sessionKey: Key;
  /** The TGT's ticket flags: FORWARDABLE, PROXIABLE, MAY-POSTDATE and RENEWABLE carry over. */
  flags?: number;
  /** The TGT's renew-till: the renewable end asked for when RENEWABLE carries over. */
  renewTill?: Date;
}

/**
 * The KDC options a TGS request inherits from the TGT it presents, as MIT's get_creds
 * (FLAGS2OPTS: KDC_TKT_COMMON_MASK): FORWARDABLE, PROXIABLE, ALLOW-POSTDATE and RENEWABLE share
 * their bit with the ticket flag. So a service ticket (S4U2Proxy's evidence), a cross-realm TGT
 * and a forwarded TGT are as forwardable and renewable as the TGT allows.
 */
export const TGT_COMMON_FLAGS =
  (KdcOption.FORWARDABLE | KdcOption.PROXIABLE | KdcOption.ALLOW_POSTDATE | KdcOption.RENEWABLE) >>> 0;

export interface TgsRequestOptions {
  tgt: TgtCredential;
  /** The service; its realm is where the request goes (the TGT's issuing realm for referrals). */
  server: Principal;
  etypes: readonly number[];
  /** Requested end time; the KDC caps it at the TGT's. */
  till: Date;
  kdcOptions?: number;
  canonicalize?: boolean;
  forwardable?: boolean;
  /** For a forwarded TGT (delegation): FORWARDED with the TGT realm's krbtgt as server. */
  forwarded?: boolean;
  renew?: boolean;
  rtime?: Date;
  additionalTickets?: Ticket[];
  /**
   * The client the reply must name; default the TGT's (RFC 4120 §3.3.3). S4U replies name the
   * user the service acts for (MS-SFU §3.2.5.1.2, §3.2.5.2.2).
   */
  expectClient?: Principal;
  /** Extra PA-DATA after PA-TGS-REQ (MS-SFU PA-FOR-USER, PA-PAC-OPTIONS). */
  padata?: PaData[];
  /**
   * The req-body checksum type; default the session key's. Windows clients send unkeyed rsa-md5
   * (7), which MIT's KDC (and MiniKdc) accept: tests use this to speak as they do.
   */
  bodyChecksumType?: number;
}

export interface BuiltTgsReq {
  bytes: Uint8Array;
  nonce: number;
  subkey: Key;
  req: TgsReq;
}

/** The realm whose KDC accepts `tgt` (krbtgt/REALM@ISSUER → REALM). */
export function tgsRealmOf(tgt: TgtCredential): string {
  return tgt.server.name.nameString[1] ?? tgt.server.realm;
}

/** Builds a TGS-REQ for the KDC of the TGT's realm. `nowMs` is already corrected by the KDC offset. */
export function buildTgsReq(opts: TgsRequestOptions, nowMs: number, nonce = makeNonce()): BuiltTgsReq {
  let kdcOptions = (opts.kdcOptions ?? 0) | ((opts.tgt.flags ?? 0) & TGT_COMMON_FLAGS);
  if (opts.canonicalize) kdcOptions |= KdcOption.CANONICALIZE;
  if (opts.forwardable) kdcOptions |= KdcOption.FORWARDABLE;
  if (opts.forwarded) kdcOptions |= KdcOption.FORWARDED | KdcOption.FORWARDABLE;
  if (opts.renew) kdcOptions |= KdcOption.RENEW | KdcOption.RENEWABLE;
  else if (opts.rtime) kdcOptions |= KdcOption.RENEWABLE;
  const body: KdcReqBody = {
    kdcOptions: kdcOptions >>> 0,
    // The realm of the KDC the TGT is for (krbtgt/THIS@ISSUER → THIS), which is also where the
    // request goes; for a cross-realm TGT that is not the realm that issued it.
    realm: tgsRealmOf(opts.tgt),
    sname: opts.server.name,
    till: opts.till,
    nonce,
    etype: [...opts.etypes],
  };
  const rtime = opts.rtime ?? ((kdcOptions & KdcOption.RENEWABLE) !== 0 ? opts.tgt.renewTill : undefined);
  if (rtime) body.rtime = rtime;
  if (opts.additionalTickets?.length) body.additionalTickets = opts.additionalTickets;
  const bodyBytes = encodeKdcReqBody(body);
  const session = opts.tgt.sessionKey;
  const subkey = generateRandomKey(session.enctype);
  const cksumtype = opts.bodyChecksumType ?? checksumTypeFor(session.enctype);
  const ctimeMs = Math.floor(nowMs / 1000) * 1000;
  const auth: Authenticator = {
    authenticatorVno: 5,
    crealm: opts.tgt.client.realm,
    cname: opts.tgt.client.name,
    cksum: {
      cksumtype,
      checksum: makeChecksum(
        cksumtype,
        cksumtype === 7 ? undefined : session,
        USAGE_TGS_REQ_CKSUM,
        bodyBytes,
      ),
    },
    cusec: Math.floor((nowMs % 1000) * 1000),
    ctime: new Date(ctimeMs),
    subkey: { keytype: subkey.enctype, keyvalue: subkey.bytes },
  };
  const apReq = encodeApReq({
    pvno: 5,
    msgType: MessageType.AP_REQ,
    apOptions: 0,
    ticket: opts.tgt.ticket,
    authenticator: {
      etype: session.enctype,
      cipher: encrypt(session, USAGE_TGS_REQ_AUTH, encodeAuthenticator(auth)),
    },
  });
  const padata: PaData[] = [{ padataType: PaDataType.TGS_REQ, padataValue: apReq }, ...(opts.padata ?? [])];
  const req: TgsReq = { pvno: 5, msgType: MessageType.TGS_REQ, padata, reqBody: body };
  return { bytes: encodeTgsReq(req), nonce, subkey, req };
}

/**
 * Opens and checks a TGS-REP for `built`. Referral TGTs pass when `allowReferral`; with
 * `alternateTgt`, a request for a cross-realm TGT may be answered with one for another realm
 * issued by the same KDC (the caller checks that realm is on its path).
 */
export function openTgsRep(
  rep: Parameters<typeof openKdcRep>[0],
  built: BuiltTgsReq,
  opts: TgsRequestOptions,
  allowReferral: boolean,
  alternateTgt = false,
): KdcReply {
  return openKdcRep(
    rep,
    [
      { key: built.subkey, usage: USAGE_TGS_REP_SUBKEY },
      { key: opts.tgt.sessionKey, usage: USAGE_TGS_REP_SESSION },
    ],
    {
      nonce: built.nonce,
      client: opts.expectClient ?? opts.tgt.client,
      server: opts.server,
      canonicalize: opts.canonicalize === true,
      // The client of a TGS-REP is always the TGT's client (RFC 4120 §3.3.3); only AS may rename it.
      pinClient: true,
      allowReferral,
      alternateTgt,
      // A renewal keeps the old ticket's session key (RFC 4120 §3.3.3), whatever is offered now.
      etypes: opts.renew === true ? undefined : opts.etypes,
    },
  );
}
