// RFC 2743 §3.1 mechanism-independent token framing:
//   InitialContextToken ::= [APPLICATION 0] IMPLICIT SEQUENCE {
//     thisMech    MechType,
//     innerToken  ANY DEFINED BY thisMech }
// innerToken is not a TLV for Kerberos (RFC 4121 §4.1: TOK_ID 0x01 0x00 then the AP-REQ), so
// only the outer length and the OID are parsed here; the rest is returned as bytes.

import { Asn1Error } from '../errors.js';
import { application, concat, oidFromContent, peekHeader, TagClass, UniversalTag, writeOid } from './der.js';

/** Kerberos V5 GSS-API mechanism (RFC 1964 / RFC 4121). */
export const OID_KRB5 = '1.2.840.113554.1.2.2';
/** The OID Windows (pre-2000 bug, still sent) uses for Kerberos in SPNEGO mechTypes. */
export const OID_MS_KRB5 = '1.2.840.48018.1.2.2';
/** Kerberos user-to-user (RFC 4121 §4.1, draft-swift-win2k-krb-user2user). */
export const OID_KRB5_USER2USER = '1.2.840.113554.1.2.2.3';
/** SPNEGO (RFC 4178). */
export const OID_SPNEGO = '1.3.6.1.5.5.2';
/** NTLMSSP: recognised in mechTypes lists, never spoken. */
export const OID_NTLMSSP = '1.3.6.1.4.1.311.2.2.10';

export interface GssToken {
  oid: string;
  inner: Uint8Array;
}

export function encodeGssToken(oid: string, inner: Uint8Array): Uint8Array {
  return application(0, concat([writeOid(oid), inner]));
}

export function decodeGssToken(bytes: Uint8Array): GssToken {
  const field = 'InitialContextToken';
  if (!(bytes instanceof Uint8Array)) throw new Asn1Error(field, 'input is not a Uint8Array');
  const h = peekHeader(bytes, field);
  if (h.cls !== TagClass.APPLICATION || h.tag !== 0 || !h.constructed) {
    throw new Asn1Error(field, 'expected [APPLICATION 0] (0x60)');
  }
  if (h.headerLen + h.contentLen !== bytes.length) {
    throw new Asn1Error(field, `${bytes.length - h.headerLen - h.contentLen} trailing bytes after the token`);
  }
  const content = bytes.subarray(h.headerLen);
  const oh = peekHeader(content, `${field}.thisMech`);
  if (oh.cls !== TagClass.UNIVERSAL || oh.tag !== UniversalTag.OBJECT_IDENTIFIER || oh.constructed) {
    throw new Asn1Error(`${field}.thisMech`, 'expected an OBJECT IDENTIFIER');
  }
  const oidEnd = oh.headerLen + oh.contentLen;
  const oid = oidFromContent(content.subarray(oh.headerLen, oidEnd), `${field}.thisMech`);
  return { oid, inner: content.slice(oidEnd) };
}
