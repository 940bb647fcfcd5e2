// Just enough RFC 6113 (FAST) to read what MIT puts on the wire. MIT 1.20's KDC advertises FAST
// (PA-FX-FAST in the AS-REP's encrypted padata), after which MIT clients armor every TGS-REQ
// with the TGT itself ("implicit TGS armor", RFC 6113 §5.4.1.1) and the KDC encrypts the
// TGS-REP under a strengthened reply key. Our library does not speak FAST; these codecs exist
// so the interop tests can still open every byte MIT exchanged.
import {
  ctx,
  type Elem,
  type EncryptedData,
  type EncryptionKey,
  type KdcReqBody,
  optCtx,
  type PaData,
  readChecksum,
  readEncryptedData,
  readEncryptionKey,
  readInt32,
  readKdcReqBody,
  readKerberosFlags,
  readKerberosString,
  readKerberosTime,
  readMethodData,
  readMicroseconds,
  readOctetString,
  readPrincipalName,
  readUInt32,
  root,
  SeqCursor,
  sequence,
  TagClass,
  writeChecksum,
  writeEncryptedData,
  writeEncryptionKey,
  writeInt32,
  writeKdcReqBody,
  writeKerberosFlags,
  writeKerberosString,
  writeKerberosTime,
  writeMethodData,
  writeMicroseconds,
  writeOctetString,
  writePrincipalName,
  writeUInt32,
} from '../../../src/asn1/index.js';
import type { Checksum, PrincipalName } from '../../../src/asn1/types.js';
import { getEnctype, type Key, prf, randomToKey } from '../../../src/crypto/index.js';

/** RFC 6113 §5.4 key usages. */
export const FastUsage = {
  REQ_CHECKSUM: 50,
  ENC: 51,
  REP: 52,
  FINISHED: 53,
} as const;

/** KrbFastArmor ::= SEQUENCE { armor-type [0] Int32, armor-value [1] OCTET STRING } */
export interface KrbFastArmor {
  armorType: number;
  armorValue: Uint8Array;
}

/**
 * PA-FX-FAST-REQUEST ::= CHOICE { armored-data [0] KrbFastArmoredReq }
 * KrbFastArmoredReq ::= SEQUENCE {
 *   armor        [0] KrbFastArmor OPTIONAL,
 *   req-checksum [1] Checksum,
 *   enc-fast-req [2] EncryptedData -- KrbFastReq }
 */
export interface KrbFastArmoredReq {
  armor?: KrbFastArmor;
  reqChecksum: Checksum;
  encFastReq: EncryptedData;
}

/** KrbFastReq ::= SEQUENCE { fast-options [0] FastOptions, padata [1] SEQUENCE OF PA-DATA, req-body [2] KDC-REQ-BODY } */
export interface KrbFastReq {
  fastOptions: number;
  padata: PaData[];
  reqBody: KdcReqBody;
}

/** PA-FX-FAST-REPLY ::= CHOICE { armored-data [0] KrbFastArmoredRep }; KrbFastArmoredRep ::= SEQUENCE { enc-fast-rep [0] EncryptedData } */
export interface KrbFastArmoredRep {
  encFastRep: EncryptedData;
}

/**
 * KrbFastFinished ::= SEQUENCE {
 *   timestamp [0] KerberosTime, usec [1] Microseconds, crealm [2] Realm,
 *   cname [3] PrincipalName, ticket-checksum [4] Checksum }
 */
export interface KrbFastFinished {
  timestamp: Date;
  usec: number;
  crealm: string;
  cname: PrincipalName;
  ticketChecksum: Checksum;
}

/**
 * KrbFastResponse ::= SEQUENCE {
 *   padata [0] SEQUENCE OF PA-DATA, strengthen-key [1] EncryptionKey OPTIONAL,
 *   finished [2] KrbFastFinished OPTIONAL, nonce [3] UInt32 }
 */
export interface KrbFastResponse {
  padata: PaData[];
  strengthenKey?: EncryptionKey;
  finished?: KrbFastFinished;
  nonce: number;
}

/** Unwraps a CHOICE whose only alternative is the explicit `[0] armored-data`. */
function choice0(bytes: Uint8Array, name: string): Elem {
  const n = root(bytes, name).node;
  const inner = n.children[0];
  if (n.cls !== TagClass.CONTEXT || n.tag !== 0 || !n.constructed || n.children.length !== 1 || !inner) {
    throw new Error(`${name}: expected the [0] armored-data alternative`);
  }
  return { node: inner, field: `${name}.armored-data` };
}

export function decodePaFxFastRequest(bytes: Uint8Array): KrbFastArmoredReq {
  const s = new SeqCursor(choice0(bytes, 'PA-FX-FAST-REQUEST'));
  const armor = s.opt(0, 'armor');
  const reqChecksum = readChecksum(s.req(1, 'req-checksum'));
  const encFastReq = readEncryptedData(s.req(2, 'enc-fast-req'));
  s.done();
  const out: KrbFastArmoredReq = { reqChecksum, encFastReq };
  if (armor) {
    const a = new SeqCursor(armor);
    out.armor = {
      armorType: readInt32(a.req(0, 'armor-type')),
      armorValue: readOctetString(a.req(1, 'armor-value')),
    };
    a.done();
  }
  return out;
}

export function encodePaFxFastRequest(v: KrbFastArmoredReq): Uint8Array {
  return ctx(
    0,
    sequence([
      optCtx(0, v.armor, (a) =>
        sequence([ctx(0, writeInt32(a.armorType)), ctx(1, writeOctetString(a.armorValue))]),
      ),
      ctx(1, writeChecksum(v.reqChecksum)),
      ctx(2, writeEncryptedData(v.encFastReq)),
    ]),
  );
}

export function decodeKrbFastReq(bytes: Uint8Array): KrbFastReq {
  const s = new SeqCursor(root(bytes, 'KrbFastReq'));
  const fastOptions = readKerberosFlags(s.req(0, 'fast-options'));
  const padata = readMethodData(s.req(1, 'padata'));
  const reqBody = readKdcReqBody(s.req(2, 'req-body'));
  s.done();
  return { fastOptions, padata, reqBody };
}

export function encodeKrbFastReq(v: KrbFastReq): Uint8Array {
  return sequence([
    ctx(0, writeKerberosFlags(v.fastOptions)),
    ctx(1, writeMethodData(v.padata)),
    ctx(2, writeKdcReqBody(v.reqBody)),
  ]);
}

export function decodePaFxFastReply(bytes: Uint8Array): KrbFastArmoredRep {
  const s = new SeqCursor(choice0(bytes, 'PA-FX-FAST-REPLY'));
  const encFastRep = readEncryptedData(s.req(0, 'enc-fast-rep'));
  s.done();
  return { encFastRep };
}

export function encodePaFxFastReply(v: KrbFastArmoredRep): Uint8Array {
  return ctx(0, sequence([ctx(0, writeEncryptedData(v.encFastRep))]));
}

export function decodeKrbFastResponse(bytes: Uint8Array): KrbFastResponse {
  const s = new SeqCursor(root(bytes, 'KrbFastResponse'));
  const padata = readMethodData(s.req(0, 'padata'));
  const strengthenKey = s.opt(1, 'strengthen-key');
  const finished = s.opt(2, 'finished');
  const nonce = readUInt32(s.req(3, 'nonce'));
  s.done();
  const out: KrbFastResponse = { padata, nonce };
  if (strengthenKey) out.strengthenKey = readEncryptionKey(strengthenKey);
  if (finished) {
    const f = new SeqCursor(finished);
    out.finished = {
      timestamp: readKerberosTime(f.req(0, 'timestamp')),
      usec: readMicroseconds(f.req(1, 'usec')),
      crealm: readKerberosString(f.req(2, 'crealm')),
      cname: readPrincipalName(f.req(3, 'cname')),
      ticketChecksum: readChecksum(f.req(4, 'ticket-checksum')),
    };
    f.done();
  }
  return out;
}

export function encodeKrbFastResponse(v: KrbFastResponse): Uint8Array {
  return sequence([
    ctx(0, writeMethodData(v.padata)),
    optCtx(1, v.strengthenKey, writeEncryptionKey),
    optCtx(2, v.finished, (f) =>
      sequence([
        ctx(0, writeKerberosTime(f.timestamp)),
        ctx(1, writeMicroseconds(f.usec)),
        ctx(2, writeKerberosString(f.crealm)),
        ctx(3, writePrincipalName(f.cname)),
        ctx(4, writeChecksum(f.ticketChecksum)),
      ]),
    ),
    ctx(3, writeUInt32(v.nonce)),
  ]);
}

/** RFC 6113 §5.1 PRF+: PRF(K, 1 || s) || PRF(K, 2 || s) || …, cut to `length` bytes. */
export function prfPlus(key: Key, pepper: string, length: number): Uint8Array {
  const s = new TextEncoder().encode(pepper);
  const out = new Uint8Array(length);
  let filled = 0;
  for (let counter = 1; filled < length; counter++) {
    const input = new Uint8Array(1 + s.length);
    input[0] = counter;
    input.set(s, 1);
    const block = prf(key, input);
    out.set(block.subarray(0, Math.min(block.length, length - filled)), filled);
    filled += block.length;
  }
  return out;
}

/** RFC 6113 §5.1 KRB-FX-CF2(K1, K2, pepper1, pepper2): a key of K1's enctype. */
export function krbFxCf2(k1: Key, k2: Key, pepper1: string, pepper2: string): Key {
  const n = getEnctype(k1.enctype, { allowWeak: true }).seedBytes;
  const a = prfPlus(k1, pepper1, n);
  const b = prfPlus(k2, pepper2, n);
  for (let i = 0; i < n; i++) a[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return randomToKey(k1.enctype, a);
}
