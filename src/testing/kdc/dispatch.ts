// One request in, one reply out, whatever the bytes: an AS-REQ or TGS-REQ is served, anything
// else (garbage, truncated DER, other messages) gets a KRB-ERROR. Nothing here throws, so a
// hostile client can never take the KDC down.
import { decodeAsReq, decodeTgsReq, type KdcReq, MessageType } from '../../asn1/index.js';
import { unparsePrincipal } from '../../ccache/principal-text.js';
import { krbErrorName } from '../../krb5/krb-error.js';
import { handleAsReq } from './as.js';
import { type ErrorTarget, type KdcContext, KdcErr, KdcFailure, krbErrorBytes } from './context.js';
import { handleTgsReq } from './tgs.js';

/** What the KDC saw and answered, for tests that count or inspect requests. */
export interface KdcRequestRecord {
  type: 'AS-REQ' | 'TGS-REQ' | 'invalid';
  transport: 'tcp' | 'udp' | 'direct';
  /** Client principal (AS-REQ cname; unknown for TGS-REQ until its ticket is opened). */
  client: string | undefined;
  /** Requested server principal (`HTTP/localhost@EXAMPLE.TEST`). */
  server: string | undefined;
  /** KDCOptions as uint32 (KdcOption bits). */
  kdcOptions: number;
  /** Absent on success; else the KRB-ERROR code answered, e.g. 25 for PREAUTH_REQUIRED. */
  errorCode: number | undefined;
  errorName: string | undefined;
  /** Why it failed, as the KDC would log it. */
  reason: string | undefined;
  /** KDC clock when answered. */
  at: Date;
}

export interface Handled {
  reply: Uint8Array;
  record: Omit<KdcRequestRecord, 'transport'>;
}

const APPLICATION_CONSTRUCTED = 0x60;

export function handleKdcRequest(ctx: KdcContext, bytes: Uint8Array): Handled {
  const tag = (bytes[0] ?? 0) ^ APPLICATION_CONSTRUCTED;
  const base = { client: undefined, server: undefined, kdcOptions: 0, at: new Date(ctx.now()) };
  const fallback: ErrorTarget = { realm: ctx.db.realms[0] ?? 'UNKNOWN' };
  if (tag !== MessageType.AS_REQ && tag !== MessageType.TGS_REQ) {
    const reason = 'not an AS-REQ or TGS-REQ';
    return {
      reply: krbErrorBytes(ctx, KdcErr.MSG_TYPE, fallback, reason),
      record: {
        ...base,
        type: 'invalid',
        errorCode: KdcErr.MSG_TYPE,
        errorName: krbErrorName(KdcErr.MSG_TYPE),
        reason,
      },
    };
  }
  const type = tag === MessageType.AS_REQ ? 'AS-REQ' : 'TGS-REQ';
  let req: KdcReq;
  try {
    req = tag === MessageType.AS_REQ ? decodeAsReq(bytes) : decodeTgsReq(bytes);
  } catch (e) {
    const reason = `malformed ${type}: ${e instanceof Error ? e.message : String(e)}`;
    return {
      reply: krbErrorBytes(ctx, KdcErr.GENERIC, fallback, reason),
      record: {
        ...base,
        type: 'invalid',
        errorCode: KdcErr.GENERIC,
        errorName: krbErrorName(KdcErr.GENERIC),
        reason,
      },
    };
  }
  const body = req.reqBody;
  const record = {
    ...base,
    type,
    client: body.cname ? unparsePrincipal({ realm: body.realm, name: body.cname }) : undefined,
    server: body.sname ? unparsePrincipal({ realm: body.realm, name: body.sname }) : undefined,
    kdcOptions: body.kdcOptions,
  } as const;
  const target: ErrorTarget = {
    realm: body.realm,
    ...(body.sname ? { sname: body.sname } : {}),
    ...(body.cname ? { cname: body.cname, crealm: body.realm } : {}),
  };
  try {
    if (req.pvno !== 5) throw new KdcFailure(KdcErr.BAD_PVNO, `protocol version ${req.pvno}`);
    const reply = type === 'AS-REQ' ? handleAsReq(ctx, req) : handleTgsReq(ctx, req);
    return { reply, record: { ...record, errorCode: undefined, errorName: undefined, reason: undefined } };
  } catch (e) {
    // A KdcFailure is a deliberate refusal; anything else (a nested decode or crypto error on
    // hostile input) is still only this request's problem.
    const code = e instanceof KdcFailure ? e.errorCode : KdcErr.GENERIC;
    const reason = e instanceof Error ? e.message : String(e);
    const eData = e instanceof KdcFailure ? e.eData : undefined;
    const client = e instanceof KdcFailure ? e.client : undefined;
    return {
      reply: krbErrorBytes(ctx, code, client ? { ...target, ...client } : target, reason, eData),
      record: { ...record, errorCode: code, errorName: krbErrorName(code), reason },
    };
  }
}
