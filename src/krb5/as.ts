// The AS exchange (RFC 4120 §3.1), sans-I/O: build AS-REQs, read PREAUTH_REQUIRED hints
// (PA-ETYPE-INFO2, RFC 4120 §5.2.7.5), make PA-ENC-TIMESTAMP, and open the AS-REP.
// `runAsExchange` drives it over an injected `send`.
//
// Optimistic pre-authentication: a secret whose keys need no salt (a keytab) can stamp the very
// first AS-REQ, saving the PREAUTH_REQUIRED round trip. Kerberos.NET does the same for
// credentials that can make their key unprompted; MIT does it when the caller names a preauth
// list. A password never does: guessing the salt would turn a good password into a failed
// pre-authentication, which Active Directory counts toward the account's lockout.
import {
  type AsReq,
  decodeEtypeInfo,
  decodeEtypeInfo2,
  decodeKrbErrorEData,
  type EtypeInfo2Entry,
  encodeAsReq,
  encodeEncryptedData,
  encodePaEncTsEnc,
  encodePaPacRequest,
  type KdcReqBody,
  type KrbError,
  MessageType,
  type PaData,
  PaDataType,
} from '../asn1/index.js';
import type { Principal } from '../ccache/principal-text.js';
import { encrypt, enctypeName, isEnctypeSupported, type Key } from '../crypto/index.js';
import { CredentialsError, KerberosError } from '../errors.js';
import { KdcOption, type KdcReply, kdcError, makeNonce, openKdcRep, readKdcAnswer } from './kdc-reply.js';
import { tgsPrincipal } from './tgs-principal.js';

/** RFC 4120 §7.5.1 key usages of the AS exchange. */
const USAGE_PA_ENC_TIMESTAMP = 1;
const USAGE_AS_REP_ENC_PART = 3;

const KDC_ERR_PREAUTH_FAILED = 24;
const KDC_ERR_PREAUTH_REQUIRED = 25;
const KRB_AP_ERR_SKEW = 37;
const KDC_ERR_ETYPE_NOSUPP = 14;
const KDC_ERR_WRONG_REALM = 68;
/** MIT's KRB5_REFERRAL_MAXHOPS, which also bounds AS client referrals. */
const MAX_CLIENT_REFERRALS = 10;

/** krbtgt/REALM@REALM: the AS request's default server, which follows the client to a new realm. */
function sameRealmTgs(p: Principal, realm: string): boolean {
  return (
    p.realm === realm &&
    p.name.nameString.length === 2 &&
    p.name.nameString[0] === 'krbtgt' &&
    p.name.nameString[1] === realm
  );
}

export interface AsRequestOptions {
  client: Principal;
  /** Default: krbtgt/REALM@REALM of the client's realm. */
  server?: Principal;
  /** Enctypes we offer, in preference order (default_tkt_enctypes). */
  etypes: readonly number[];
  lifetimeSeconds: number;
  /** 0 or undefined: not renewable. */
  renewLifetimeSeconds?: number;
  forwardable?: boolean;
  proxiable?: boolean;
  canonicalize?: boolean;
  /** PA-PAC-REQUEST (MS-KILE); undefined sends none. */
  requestPac?: boolean;
  /**
   * KDC options to start from (krb5.conf kdc_default_options; MIT's default RENEWABLE_OK: the
   * KDC may make the TGT renewable up to the requested end when it shortens the lifetime).
   * RENEWABLE_OK goes when RENEWABLE is asked for itself, as MIT's get_init_creds does.
   */
  defaultOptions?: number;
  /**
   * Stamp the first AS-REQ with PA-ENC-TIMESTAMP when the secret holds a key that needs no salt
   * (`ClientSecret.optimisticKey`: keytabs). Refusals fall back to the ordinary exchange once.
   */
  optimisticPreauth?: boolean;
}

/** Builds an AS-REQ (RFC 4120 §5.4.1). `nowMs` is already corrected by the KDC time offset. */
export function buildAsReq(
  opts: AsRequestOptions,
  nowMs: number,
  padata: PaData[] = [],
  nonce = makeNonce(),
): { bytes: Uint8Array; nonce: number; req: AsReq } {
  const server = opts.server ?? tgsPrincipal(opts.client.realm);
  let kdcOptions = opts.defaultOptions ?? 0;
  if (opts.forwardable) kdcOptions |= KdcOption.FORWARDABLE;
  if (opts.proxiable) kdcOptions |= KdcOption.PROXIABLE;
  if (opts.canonicalize) kdcOptions |= KdcOption.CANONICALIZE;
  const renew = opts.renewLifetimeSeconds ?? 0;
  if (renew > 0) kdcOptions = (kdcOptions | KdcOption.RENEWABLE) & ~KdcOption.RENEWABLE_OK;
  const nowSec = Math.floor(nowMs / 1000);
  const body: KdcReqBody = {
    kdcOptions: kdcOptions >>> 0,
    cname: opts.client.name,
    realm: opts.client.realm,
    sname: server.name,
    till: new Date((nowSec + opts.lifetimeSeconds) * 1000),
    nonce,
    etype: [...opts.etypes],
  };
  // As MIT: never a renewable end before the ticket's own end.
  if (renew > 0) body.rtime = new Date((nowSec + Math.max(renew, opts.lifetimeSeconds)) * 1000);
  const pa = [...padata];
  if (opts.requestPac !== undefined) {
    pa.push({
      padataType: PaDataType.PAC_REQUEST,
      padataValue: encodePaPacRequest({ includePac: opts.requestPac }),
    });
  }
  const req: AsReq = { pvno: 5, msgType: MessageType.AS_REQ, reqBody: body };
  if (pa.length > 0) req.padata = pa;
  return { bytes: encodeAsReq(req), nonce, req };
}

/** How to turn the secret into a key: which enctype, salt and s2kparams the KDC wants. */
export interface KeyHint {
  etype: number;
  salt: Uint8Array;
  s2kparams: Uint8Array | undefined;
  /** false when no PA-ETYPE-INFO(2) named this enctype and the default salt was assumed. */
  fromKdc: boolean;
}

/** The default salt: realm followed by the name components (RFC 4120 §4). */
export function defaultSalt(p: Principal): Uint8Array {
  return new TextEncoder().encode(p.realm + p.name.nameString.join(''));
}

/**
 * Picks the salt and parameters from PA-ETYPE-INFO2 (else PA-ETYPE-INFO) in `padata`, for the
 * first entry whose enctype we offered and support. The KDC lists entries in its preference
 * order, as MIT's client reads them. Never guesses when the KDC spoke for an enctype.
 */
export function keyHintFrom(
  padata: readonly PaData[] | undefined,
  offered: readonly number[],
  client: Principal,
): KeyHint | undefined {
  if (!padata) return undefined;
  let entries: EtypeInfo2Entry[] | undefined;
  const info2 = padata.find((p) => p.padataType === PaDataType.ETYPE_INFO2);
  if (info2) entries = decodeEtypeInfo2(info2.padataValue);
  else {
    const info = padata.find((p) => p.padataType === PaDataType.ETYPE_INFO);
    if (info)
      entries = decodeEtypeInfo(info.padataValue).map(
        (e) => ({ etype: e.etype, saltBytes: e.salt }) as EtypeInfo2Entry,
      );
  }
  if (!entries) return undefined;
  for (const e of entries) {
    if (!offered.includes(e.etype) || !isEnctypeSupported(e.etype)) continue;
    const salt = e.saltBytes ?? (e.salt === undefined ? undefined : new TextEncoder().encode(e.salt));
    return { etype: e.etype, salt: salt ?? defaultSalt(client), s2kparams: e.s2kparams, fromKdc: true };
  }
  return undefined;
}

/** PA-ENC-TIMESTAMP (RFC 4120 §5.2.7.2): our time, encrypted in the client key, usage 1. */
export function encTimestamp(key: Key, nowMs: number): PaData {
  const patimestamp = new Date(Math.floor(nowMs / 1000) * 1000);
  const plain = encodePaEncTsEnc({ patimestamp, pausec: Math.floor((nowMs % 1000) * 1000) });
  return {
    padataType: PaDataType.ENC_TIMESTAMP,
    padataValue: encodeEncryptedData({
      etype: key.enctype,
      cipher: encrypt(key, USAGE_PA_ENC_TIMESTAMP, plain),
    }),
  };
}

/** The methods of KDC_ERR_PREAUTH_REQUIRED's e-data (METHOD-DATA), or none. */
export function errorPadata(error: KrbError): PaData[] | undefined {
  if (!error.eData) return undefined;
  const ed = decodeKrbErrorEData(error.eData);
  return ed.kind === 'method-data' ? ed.methodData : undefined;
}

/** Where the client key comes from: a password (derived per hint) or a keytab (looked up). */
export interface ClientSecret {
  /**
   * Returns the key for the hint, or undefined when we hold none for that enctype. A password
   * derives it (string-to-key, asynchronous so a costly KDC-chosen count never blocks the loop).
   */
  keyFor(hint: KeyHint): Key | undefined | Promise<Key | undefined>;
  /** Enctypes this secret can produce, to restrict what we offer (keytab); undefined = any. */
  enctypes?: readonly number[];
  /**
   * The key for pre-authenticating before the KDC has named an enctype or a salt: the first of
   * `etypes` (our preference, which a KDC holding that key also picks for the reply) this
   * secret holds. Only secrets whose keys need no salt have one (keytabs), never a password.
   */
  optimisticKey?(etypes: readonly number[]): Key | undefined;
}

export interface AsExchangeIo {
  /** Sends one request to the realm's KDCs and returns the reply bytes. */
  send(realm: string, request: Uint8Array): Promise<Uint8Array>;
  /** Milliseconds since the epoch, uncorrected. */
  now(): number;
}

export interface AsResult {
  reply: KdcReply;
  /** KDC clock minus ours, in seconds, as MIT records in the ccache header (kdc_timesync). */
  kdcOffsetSeconds: number;
  /** The key that opened the reply (to cache for renewal-free re-use, never logged). */
  clientKey: Key;
}

/**
 * Runs the AS exchange: a first request without pre-authentication (or, with
 * `optimisticPreauth` and a keytab, with PA-ENC-TIMESTAMP in its strongest key); on
 * PREAUTH_REQUIRED the KDC's salt and parameters give the key for PA-ENC-TIMESTAMP; a
 * clock-skew error adjusts our offset to the KDC's time and retries once. Verifies the reply
 * before returning it.
 *
 * An optimistic stamp the KDC refuses (PREAUTH_FAILED, ETYPE_NOSUPP, PREAUTH_REQUIRED) falls back
 * exactly once: to the enctype the KDC's ETYPE-INFO2 names when that is another one, else to
 * the ordinary exchange. A key the KDC already refused is never sent again: when it names the
 * same enctype, the keytab's key is stale, and a second try would only add a failed logon to
 * the account's lockout count (AD).
 */
export async function runAsExchange(
  opts: AsRequestOptions,
  secret: ClientSecret,
  io: AsExchangeIo,
  initialOffsetMs = 0,
): Promise<AsResult> {
  const etypes = opts.etypes.filter(
    (e) => isEnctypeSupported(e) && (secret.enctypes === undefined || secret.enctypes.includes(e)),
  );
  if (etypes.length === 0) {
    throw new CredentialsError(
      'NO_USABLE_ENCTYPE',
      `no usable enctype for ${opts.client.name.nameString.join('/')}@${opts.client.realm}`,
      {
        hint: 'the keytab holds no key of an enctype that is both supported and permitted (default_tkt_enctypes)',
      },
    );
  }
  let client = opts.client;
  let server = opts.server ?? tgsPrincipal(client.realm);
  let req: AsRequestOptions = { ...opts, etypes, server };
  const realmsAsked = new Set<string>([client.realm]);
  let referrals = 0;
  let offsetMs = initialOffsetMs;
  let padata: PaData[] = [];
  let hint: KeyHint | undefined;
  let key: Key | undefined;
  let skewRetried = false;
  let preauthSent = false;
  /** The optimistic key while its request is the one outstanding; cleared by the one fallback. */
  let optimistic = opts.optimisticPreauth === true ? secret.optimisticKey?.(etypes) : undefined;
  /** The enctype whose key the KDC refused (PREAUTH_FAILED), never stamped with again. */
  let refused: { etype: number; error: KrbError } | undefined;
  if (optimistic !== undefined) {
    key = optimistic;
    padata = [encTimestamp(optimistic, io.now() + offsetMs)];
    preauthSent = true;
  }

  for (let round = 0; round < 5; round++) {
    const { bytes, nonce } = buildAsReq(req, io.now() + offsetMs, padata);
    const answer = readKdcAnswer(await io.send(client.realm, bytes), 'as-rep');
    if (answer.kind === 'rep') {
      const rep = answer.rep;
      // The reply may carry its own ETYPE-INFO2 for the enctype it used (RFC 4120 §5.2.7.5).
      const repHint = keyHintFrom(rep.padata, [rep.encPart.etype], client);
      if (key === undefined || key.enctype !== rep.encPart.etype || (repHint && hint === undefined)) {
        hint = repHint ?? {
          etype: rep.encPart.etype,
          salt: defaultSalt(client),
          s2kparams: undefined,
          fromKdc: false,
        };
        key = await secret.keyFor(hint);
      }
      if (key === undefined) {
        throw new CredentialsError(
          'NO_KEY_FOR_ENCTYPE',
          `no key for enctype ${rep.encPart.etype} used by the KDC`,
        );
      }
      const reply = openKdcRep(rep, [{ key, usage: USAGE_AS_REP_ENC_PART }], {
        nonce,
        client,
        server,
        canonicalize: opts.canonicalize === true,
        etypes,
      });
      const kdcOffsetSeconds = Math.round((reply.authTime.getTime() - io.now()) / 1000);
      return { reply, kdcOffsetSeconds, clientKey: key };
    }
    const err = answer.error;
    if (
      optimistic !== undefined &&
      (err.errorCode === KDC_ERR_PREAUTH_FAILED ||
        err.errorCode === KDC_ERR_ETYPE_NOSUPP ||
        err.errorCode === KDC_ERR_PREAUTH_REQUIRED)
    ) {
      const sent = optimistic.enctype;
      optimistic = undefined;
      if (err.errorCode === KDC_ERR_PREAUTH_FAILED) refused = { etype: sent, error: err };
      const named = keyHintFrom(errorPadata(err), etypes, client);
      if (named !== undefined && named.etype !== sent) {
        const k = await secret.keyFor(named);
        if (k !== undefined) {
          hint = named;
          key = k;
          padata = [encTimestamp(k, io.now() + offsetMs)];
          continue;
        }
      }
      if (refused !== undefined && named?.etype === refused.etype) throw staleKey(refused);
      // No other enctype named: the ordinary exchange, from a request without pre-authentication.
      padata = [];
      hint = undefined;
      key = undefined;
      preauthSent = false;
      continue;
    }
    if (err.errorCode === KDC_ERR_PREAUTH_REQUIRED && !preauthSent) {
      const methods = errorPadata(err);
      hint = keyHintFrom(methods, etypes, client);
      if (hint === undefined) {
        if (!methods?.some((m) => m.padataType === PaDataType.ENC_TIMESTAMP)) {
          throw kdcError(err, 'the KDC requires a pre-authentication method we do not support');
        }
        const first = etypes[0] as number;
        hint = { etype: first, salt: defaultSalt(client), s2kparams: undefined, fromKdc: false };
      }
      if (hint.etype === refused?.etype) throw staleKey(refused);
      key = await secret.keyFor(hint);
      if (key === undefined) throw kdcError(err, `no key for enctype ${hint.etype} the KDC asked for`);
      padata = [encTimestamp(key, io.now() + offsetMs)];
      preauthSent = true;
      continue;
    }
    if (err.errorCode === KRB_AP_ERR_SKEW && !skewRetried && preauthSent && key !== undefined) {
      // RFC 4120 §5.9.1: stime is the KDC's clock; re-stamp the timestamp in its time.
      offsetMs = err.stime.getTime() + Math.floor(err.susec / 1000) - io.now();
      padata = [encTimestamp(key, io.now() + offsetMs)];
      skewRetried = true;
      continue;
    }
    if (err.errorCode === KDC_ERR_WRONG_REALM && opts.canonicalize === true) {
      // A client referral (RFC 6806 §7): the KDC names the client's realm in crealm; ask there,
      // starting afresh (pre-authentication and salt are per realm), as MIT's get_in_tkt does.
      const next = err.crealm;
      if (next === undefined || next === '' || realmsAsked.has(next) || ++referrals > MAX_CLIENT_REFERRALS) {
        throw kdcError(
          err,
          next === undefined || next === ''
            ? 'client referral without a realm'
            : `client referral to realm ${next} (${realmsAsked.has(next) ? 'a loop' : 'too many referrals'})`,
        );
      }
      realmsAsked.add(next);
      const defaultServer = sameRealmTgs(server, client.realm);
      client = { realm: next, name: client.name };
      if (defaultServer) server = tgsPrincipal(next);
      req = { ...req, client, server };
      padata = [];
      hint = undefined;
      key = undefined;
      preauthSent = false;
      skewRetried = false;
      optimistic = undefined;
      refused = undefined;
      round = -1;
      continue;
    }
    if (err.errorCode === KDC_ERR_ETYPE_NOSUPP) {
      throw kdcError(err, `the KDC supports none of the offered enctypes (${etypes.join(', ')})`);
    }
    throw kdcError(err, `AS exchange for ${client.name.nameString.join('/')}@${client.realm}`);
  }
  throw new KerberosError(
    60,
    'KRB_ERR_GENERIC',
    'AS exchange did not converge (the KDC kept asking for more)',
  );
}

/** The keytab's key of `etype` did not open at the KDC, which holds a key of that enctype. */
function staleKey({ etype, error }: { etype: number; error: KrbError }): KerberosError {
  const e = kdcError(
    error,
    `the KDC refused pre-authentication with the keytab's ${enctypeName(etype)} key, and names that enctype itself`,
  );
  return new KerberosError(e.errorCode, e.errorName, e.message, {
    hint: 'the keytab holds an old key (the principal was re-keyed since it was exported): export it again; no second attempt was made, so the refusal counts once toward lockout',
  });
}

export { tgsPrincipal } from './tgs-principal.js';
