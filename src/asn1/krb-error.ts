// RFC 4120 §5.9.1 KRB-ERROR, and the shapes its e-data takes in practice.

import { Asn1Error } from '../errors.js';
import {
  type MethodData,
  readMethodData,
  readPrincipalName,
  readRealm,
  readTypedData,
  type TypedData,
  writePrincipalName,
  writeRealm,
} from './basic.js';
import {
  application,
  ctx,
  type DerNode,
  type Elem,
  optCtx,
  parseDer,
  readInt32,
  readInteger,
  readKerberosString,
  readKerberosTime,
  readMicroseconds,
  readOctetString,
  root,
  SeqCursor,
  sequence,
  TagClass,
  UniversalTag,
  unwrapApplication,
  writeInt32,
  writeInteger,
  writeKerberosString,
  writeKerberosTime,
  writeMicroseconds,
  writeOctetString,
} from './der.js';
import type { KerberosTime, PrincipalName, Realm } from './types.js';

/**
 * KRB-ERROR ::= [APPLICATION 30] SEQUENCE {
 *   pvno [0] INTEGER (5), msg-type [1] INTEGER (30), ctime [2] KerberosTime OPTIONAL,
 *   cusec [3] Microseconds OPTIONAL, stime [4] KerberosTime, susec [5] Microseconds,
 *   error-code [6] Int32, crealm [7] Realm OPTIONAL, cname [8] PrincipalName OPTIONAL,
 *   realm [9] Realm -- service realm --, sname [10] PrincipalName -- service name --,
 *   e-text [11] KerberosString OPTIONAL, e-data [12] OCTET STRING OPTIONAL }
 */
export interface KrbError {
  pvno: number;
  msgType: number;
  ctime?: KerberosTime;
  cusec?: number;
  stime: KerberosTime;
  susec: number;
  errorCode: number;
  crealm?: Realm;
  cname?: PrincipalName;
  realm: Realm;
  sname: PrincipalName;
  eText?: string;
  eData?: Uint8Array;
}
export function readKrbError(e: Elem): KrbError {
  const s = new SeqCursor(unwrapApplication(e, 30));
  const pvno = readInteger(s.req(0, 'pvno'));
  const msgType = readInteger(s.req(1, 'msg-type'));
  const ctime = s.opt(2, 'ctime');
  const cusec = s.opt(3, 'cusec');
  const stime = readKerberosTime(s.req(4, 'stime'));
  const susec = readMicroseconds(s.req(5, 'susec'));
  const errorCode = readInt32(s.req(6, 'error-code'));
  const crealm = s.opt(7, 'crealm');
  const cname = s.opt(8, 'cname');
  const realm = readRealm(s.req(9, 'realm'));
  const sname = readPrincipalName(s.req(10, 'sname'));
  const eText = s.opt(11, 'e-text');
  const eData = s.opt(12, 'e-data');
  s.done();
  const out: KrbError = { pvno, msgType, stime, susec, errorCode, realm, sname };
  if (ctime) out.ctime = readKerberosTime(ctime);
  if (cusec) out.cusec = readMicroseconds(cusec);
  if (crealm) out.crealm = readRealm(crealm);
  if (cname) out.cname = readPrincipalName(cname);
  if (eText) out.eText = readKerberosString(eText);
  if (eData) out.eData = readOctetString(eData);
  return out;
}
export function encodeKrbError(v: KrbError): Uint8Array {
  return application(
    30,
    sequence([
      ctx(0, writeInteger(v.pvno, 'KRB-ERROR.pvno')),
      ctx(1, writeInteger(v.msgType, 'KRB-ERROR.msg-type')),
      optCtx(2, v.ctime, writeKerberosTime),
      optCtx(3, v.cusec, (n) => writeMicroseconds(n, 'KRB-ERROR.cusec')),
      ctx(4, writeKerberosTime(v.stime)),
      ctx(5, writeMicroseconds(v.susec, 'KRB-ERROR.susec')),
      ctx(6, writeInt32(v.errorCode, 'KRB-ERROR.error-code')),
      optCtx(7, v.crealm, writeRealm),
      optCtx(8, v.cname, writePrincipalName),
      ctx(9, writeRealm(v.realm)),
      ctx(10, writePrincipalName(v.sname)),
      optCtx(11, v.eText, writeKerberosString),
      optCtx(12, v.eData, writeOctetString),
    ]),
  );
}
export function decodeKrbError(bytes: Uint8Array): KrbError {
  return readKrbError(root(bytes, 'KRB-ERROR'));
}

/**
 * What a KRB-ERROR's e-data holds, by shape:
 * - `method-data`: METHOD-DATA (SEQUENCE OF PA-DATA, tags [1],[2]) — MIT and AD send this with
 *   KDC_ERR_PREAUTH_REQUIRED / PREAUTH_FAILED (PA-ETYPE-INFO2, PA-FX-COOKIE...).
 * - `typed-data`: TYPED-DATA (tags [0],[1]) — RFC 4120 §5.9.1, RFC 6113 FAST errors.
 * - `kerb-error-data`: Windows' KERB-ERROR-DATA, SEQUENCE { data-type [1] Int32, data-value [2]
 *   OCTET STRING OPTIONAL } (MS-KILE §2.2.1), e.g. an NTSTATUS with no PA-DATA list around it.
 * - `raw`: anything else; the bytes are returned untouched.
 * A SEQUENCE OF PA-DATA wins over KERB-ERROR-DATA only when every element is a PA-DATA.
 */
export type KrbErrorEData =
  | { kind: 'method-data'; methodData: MethodData }
  | { kind: 'typed-data'; typedData: TypedData }
  | { kind: 'kerb-error-data'; dataType: number; dataValue?: Uint8Array }
  | { kind: 'raw'; bytes: Uint8Array };

function firstContextTag(n: DerNode): number | undefined {
  const c = n.children[0];
  return c !== undefined && c.cls === TagClass.CONTEXT ? c.tag : undefined;
}

export function decodeKrbErrorEData(eData: Uint8Array): KrbErrorEData {
  if (!(eData instanceof Uint8Array)) throw new Asn1Error('KRB-ERROR.e-data', 'input is not a Uint8Array');
  let top: DerNode;
  try {
    top = parseDer(eData, 'KRB-ERROR.e-data');
  } catch (err) {
    if (err instanceof Asn1Error) return { kind: 'raw', bytes: eData.slice() };
    throw err;
  }
  const e: Elem = { node: top, field: 'KRB-ERROR.e-data' };
  const isSeq = top.cls === TagClass.UNIVERSAL && top.tag === UniversalTag.SEQUENCE;
  if (!isSeq) return { kind: 'raw', bytes: eData.slice() };
  const first = top.children[0];
  try {
    if (first !== undefined && first.cls === TagClass.UNIVERSAL && first.tag === UniversalTag.SEQUENCE) {
      const t = firstContextTag(first);
      if (t === 1) return { kind: 'method-data', methodData: readMethodData(e) };
      if (t === 0) return { kind: 'typed-data', typedData: readTypedData(e) };
    } else if (first === undefined) {
      return { kind: 'method-data', methodData: [] };
    } else if (first.cls === TagClass.CONTEXT && first.tag === 1) {
      const s = new SeqCursor(e);
      const dataType = readInt32(s.req(1, 'data-type'));
      const v = s.opt(2, 'data-value');
      s.done();
      return v === undefined
        ? { kind: 'kerb-error-data', dataType }
        : { kind: 'kerb-error-data', dataType, dataValue: readOctetString(v) };
    }
  } catch (err) {
    if (!(err instanceof Asn1Error)) throw err;
  }
  return { kind: 'raw', bytes: eData.slice() };
}
