// What the AS and TGS handlers share: the KDC's clock and policy, the error codes they answer
// with (RFC 4120 §7.5.9), and how a refusal becomes a KRB-ERROR on the wire.
import { encodeKrbError, type KrbError, MessageType } from '../../asn1/index.js';
import type { PrincipalName, Realm } from '../../asn1/types.js';
import { SpnegoError } from '../../errors.js';
import type { KdcDatabase } from './database.js';

export const KdcErr = {
  BAD_PVNO: 3,
  C_PRINCIPAL_UNKNOWN: 6,
  S_PRINCIPAL_UNKNOWN: 7,
  CANNOT_POSTDATE: 10,
  NEVER_VALID: 11,
  BADOPTION: 13,
  ETYPE_NOSUPP: 14,
  PADATA_TYPE_NOSUPP: 16,
  PREAUTH_FAILED: 24,
  PREAUTH_REQUIRED: 25,
  SERVER_NOMATCH: 26,
  BAD_INTEGRITY: 31,
  TKT_EXPIRED: 32,
  TKT_NYV: 33,
  NOT_US: 35,
  BADMATCH: 36,
  SKEW: 37,
  MSG_TYPE: 40,
  MODIFIED: 41,
  BADKEYVER: 44,
  NOKEY: 45,
  INAPP_CKSUM: 50,
  RESPONSE_TOO_BIG: 52,
  GENERIC: 60,
  FIELD_TOOLONG: 61,
  WRONG_REALM: 68,
} as const;

/** Lifetimes and tolerances, in seconds. */
export interface KdcPolicy {
  maxLife: number;
  maxRenewableLife: number;
  clockSkew: number;
}

export interface KdcContext {
  db: KdcDatabase;
  policy: KdcPolicy;
  /** The KDC's clock in ms (the real clock plus any clock-skew fault). */
  now(): number;
  /** Principals (text, realm optional) the KDC pretends not to know: the unknown-principal fault. */
  hidden(name: PrincipalName, realm: Realm): boolean;
}

/** A refusal inside a handler; the dispatcher turns it into a KRB-ERROR. */
export class KdcFailure extends SpnegoError {
  readonly errorCode: number;
  readonly eData: Uint8Array | undefined;
  /**
   * The client the refused request was for, once the KDC knows it (a TGS-REQ's TGT client):
   * MIT names it in the KRB-ERROR's crealm/cname.
   */
  client: { crealm: Realm; cname: PrincipalName } | undefined;
  constructor(errorCode: number, message: string, eData?: Uint8Array) {
    super(`KDC_ERROR_${errorCode}`, message);
    this.errorCode = errorCode;
    this.eData = eData;
  }
}

export interface ErrorTarget {
  realm: Realm;
  sname?: PrincipalName;
  crealm?: Realm;
  cname?: PrincipalName;
}

/** KRB-ERROR bytes stamped with the KDC's time (clients resync their clock from stime). */
export function krbErrorBytes(
  ctx: { now(): number },
  code: number,
  target: ErrorTarget,
  eText?: string,
  eData?: Uint8Array,
): Uint8Array {
  const now = ctx.now();
  const err: KrbError = {
    pvno: 5,
    msgType: MessageType.KRB_ERROR,
    stime: new Date(Math.floor(now / 1000) * 1000),
    susec: Math.floor(now % 1000) * 1000,
    errorCode: code,
    realm: target.realm,
    sname: target.sname ?? { nameType: 2, nameString: ['krbtgt', target.realm] },
  };
  if (target.crealm !== undefined) err.crealm = target.crealm;
  if (target.cname !== undefined) err.cname = target.cname;
  if (eText !== undefined) err.eText = eText;
  if (eData !== undefined) err.eData = eData;
  return encodeKrbError(err);
}

export const secondsOf = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);

/** RFC 4120 §5.4.1: a till/rtime of 19700101000000Z means "as long as allowed". */
export function requestedEnd(t: Date | undefined, fallbackMs: number): number {
  if (t === undefined || t.getTime() <= 0) return fallbackMs;
  return t.getTime();
}
