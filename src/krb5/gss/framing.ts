// Context tokens of the Kerberos mechanism (RFC 4121 §4.1, RFC 1964 §1.1): the RFC 2743
// InitialContextToken framing around TOK_ID + message — for the AP-REQ (01 00), and, as MIT
// sends them, for the AP-REP (02 00) and KRB-ERROR (03 00) too.
import {
  concat,
  decodeGssToken,
  decodeKrbError,
  encodeGssToken,
  OID_KRB5,
  OID_MS_KRB5,
} from '../../asn1/index.js';
import { Asn1Error, type KerberosError } from '../../errors.js';
import { kerberosErrorFrom } from '../krb-error.js';
import { TokenId } from './constants.js';
import { GssError } from './errors.js';

export interface Krb5ContextToken {
  /** The mechanism OID of the framing: krb5, or the Microsoft alias Windows uses. */
  oid: string;
  tokId: number;
  body: Uint8Array;
}

export function isKrb5Oid(oid: string | undefined): boolean {
  return oid === OID_KRB5 || oid === OID_MS_KRB5;
}

export function encodeKrb5Token(tokId: number, body: Uint8Array, oid: string = OID_KRB5): Uint8Array {
  return encodeGssToken(oid, concat([Uint8Array.of(tokId >>> 8, tokId & 0xff), body]));
}

export function decodeKrb5Token(bytes: Uint8Array): Krb5ContextToken {
  let t: { oid: string; inner: Uint8Array };
  try {
    t = decodeGssToken(bytes);
  } catch (e) {
    throw new GssError(
      'DEFECTIVE_TOKEN',
      `not a GSS-API token: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  if (!isKrb5Oid(t.oid))
    throw new GssError('DEFECTIVE_TOKEN', `token is for mechanism ${t.oid}, not Kerberos`);
  if (t.inner.length < 2) throw new GssError('DEFECTIVE_TOKEN', 'Kerberos token without a TOK_ID');
  return { oid: t.oid, tokId: ((t.inner[0] ?? 0) << 8) | (t.inner[1] ?? 0), body: t.inner.subarray(2) };
}

/** The typed error a KRB-ERROR token (03 00) stands for. */
export function errorFromToken(body: Uint8Array, context: string): KerberosError {
  try {
    return kerberosErrorFrom(decodeKrbError(body), context);
  } catch (e) {
    if (e instanceof Asn1Error)
      throw new GssError('DEFECTIVE_TOKEN', `${context}: undecodable KRB-ERROR token`, { cause: e });
    throw e;
  }
}

export { TokenId };
