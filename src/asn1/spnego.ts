// RFC 4178 §4.2 SPNEGO tokens, plus Microsoft's NegTokenInit2 (MS-SPNG §2.2.1) on decode.

import { Asn1Error } from '../errors.js';
import {
  Asn1EncodeError,
  ctx,
  decodeUtf8Lenient,
  type Elem,
  encodeUtf8,
  optCtx,
  readBitString,
  readEnumerated,
  readGeneralStringBytes,
  readOctetString,
  readOid,
  root,
  SeqCursor,
  seqOf,
  sequence,
  TagClass,
  UniversalTag,
  writeBitString,
  writeEnumerated,
  writeGeneralStringBytes,
  writeOctetString,
  writeOid,
  writeSeqOf,
} from './der.js';
import { decodeGssToken, encodeGssToken, OID_SPNEGO } from './gss.js';

/** ContextFlags bits (RFC 4178 §4.2.1) as uint32 masks, bit n = (1 << (31 - n)) >>> 0. */
export const ContextFlag = {
  DELEG: 0x80000000,
  MUTUAL: 0x40000000,
  REPLAY: 0x20000000,
  SEQUENCE: 0x10000000,
  ANON: 0x08000000,
  CONF: 0x04000000,
  INTEG: 0x02000000,
} as const;

/** MechTypeList ::= SEQUENCE OF MechType — its DER is what mechListMIC covers (RFC 4178 §5). */
export function encodeMechTypeList(oids: readonly string[]): Uint8Array {
  return writeSeqOf(oids, writeOid);
}

/** NegHints ::= SEQUENCE { hintName [0] GeneralString OPTIONAL, hintAddress [1] OCTET STRING OPTIONAL } */
export interface NegHints {
  /** Windows sends "not_defined_in_RFC4178@please_ignore"; decoded leniently as it is advisory. */
  hintName?: string;
  hintAddress?: Uint8Array;
}

/**
 * NegTokenInit ::= SEQUENCE {
 *   mechTypes [0] MechTypeList, reqFlags [1] ContextFlags OPTIONAL,
 *   mechToken [2] OCTET STRING OPTIONAL, mechListMIC [3] OCTET STRING OPTIONAL, ... }
 * NegTokenInit2 (MS-SPNG) inserts negHints [3] NegHints and moves mechListMIC to [4].
 *
 * reqFlags is a uint32 like KerberosFlags (ContextFlag masks); it is encoded the DER way for a
 * named-bit list, trailing zero bits dropped (RFC 4178 §4.2.1). `mechTypesDer` (decode only) is
 * the MechTypeList exactly as received, which is what a mechListMIC must be verified over.
 */
export interface NegTokenInit {
  mechTypes: string[];
  reqFlags?: number;
  mechToken?: Uint8Array;
  negHints?: NegHints;
  mechListMIC?: Uint8Array;
  mechTypesDer?: Uint8Array;
}

export type NegState = 'accept-completed' | 'accept-incomplete' | 'reject' | 'request-mic';
const NEG_STATES: readonly NegState[] = ['accept-completed', 'accept-incomplete', 'reject', 'request-mic'];

/**
 * NegTokenResp ::= SEQUENCE {
 *   negState [0] ENUMERATED { accept-completed (0), accept-incomplete (1), reject (2),
 *                             request-mic (3) } OPTIONAL,
 *   supportedMech [1] MechType OPTIONAL, responseToken [2] OCTET STRING OPTIONAL,
 *   mechListMIC [3] OCTET STRING OPTIONAL, ... }
 */
export interface NegTokenResp {
  negState?: NegState;
  supportedMech?: string;
  responseToken?: Uint8Array;
  mechListMIC?: Uint8Array;
}

/** NegotiationToken ::= CHOICE { negTokenInit [0] NegTokenInit, negTokenResp [1] NegTokenResp } */
export type NegotiationToken = ({ kind: 'init' } & NegTokenInit) | ({ kind: 'resp' } & NegTokenResp);

function writeContextFlags(v: number): Uint8Array {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff)
    throw new Asn1EncodeError(`reqFlags out of range: ${v}`);
  const u = v >>> 0;
  if (u === 0) return writeBitString(new Uint8Array(0), 0);
  // Index (from the most significant bit) of the last 1 bit decides the length.
  let last = 31;
  while (((u >>> (31 - last)) & 1) === 0) last--;
  const nbits = last + 1;
  const nbytes = Math.ceil(nbits / 8);
  const bytes = Uint8Array.of(u >>> 24, (u >>> 16) & 0xff, (u >>> 8) & 0xff, u & 0xff).slice(0, nbytes);
  return writeBitString(bytes, nbytes * 8 - nbits);
}

function readContextFlags(e: Elem): number {
  const bits = readBitString(e);
  let v = 0;
  for (let i = 0; i < 4; i++) v = v * 256 + (bits[i] ?? 0);
  return v >>> 0;
}

function writeNegHints(v: NegHints): Uint8Array {
  return sequence([
    optCtx(0, v.hintName, (s) => writeGeneralStringBytes(encodeUtf8(s))),
    optCtx(1, v.hintAddress, writeOctetString),
  ]);
}

function readNegHints(e: Elem): NegHints {
  const s = new SeqCursor(e);
  const name = s.opt(0, 'hintName');
  const addr = s.opt(1, 'hintAddress');
  s.skipExtensions();
  const out: NegHints = {};
  if (name) out.hintName = decodeUtf8Lenient(readGeneralStringBytes(name));
  if (addr) out.hintAddress = readOctetString(addr);
  return out;
}

function writeNegTokenInitInner(v: NegTokenInit): Uint8Array {
  const init2 = v.negHints !== undefined;
  const body = sequence([
    ctx(0, encodeMechTypeList(v.mechTypes)),
    optCtx(1, v.reqFlags, writeContextFlags),
    optCtx(2, v.mechToken, writeOctetString),
    init2 ? ctx(3, writeNegHints(v.negHints!)) : undefined,
    optCtx(init2 ? 4 : 3, v.mechListMIC, writeOctetString),
  ]);
  return ctx(0, body);
}

/** The initial token: NegotiationToken.negTokenInit inside the RFC 2743 framing with the SPNEGO OID. */
export function encodeNegTokenInit(v: NegTokenInit): Uint8Array {
  return encodeGssToken(OID_SPNEGO, writeNegTokenInitInner(v));
}

/** Subsequent tokens are the bare NegotiationToken.negTokenResp (no GSS framing). */
export function encodeNegTokenResp(v: NegTokenResp): Uint8Array {
  let state: number | undefined;
  if (v.negState !== undefined) {
    state = NEG_STATES.indexOf(v.negState);
    if (state < 0) throw new Asn1EncodeError(`unknown negState ${String(v.negState)}`);
  }
  return ctx(
    1,
    sequence([
      optCtx(0, state, writeEnumerated),
      optCtx(1, v.supportedMech, writeOid),
      optCtx(2, v.responseToken, writeOctetString),
      optCtx(3, v.mechListMIC, writeOctetString),
    ]),
  );
}

function readNegTokenInit(e: Elem): NegTokenInit {
  const s = new SeqCursor(e);
  const mt = s.req(0, 'mechTypes');
  const mechTypes = seqOf(mt).map(readOid);
  const out: NegTokenInit = { mechTypes, mechTypesDer: mt.node.bytes.slice() };
  const flags = s.opt(1, 'reqFlags');
  const token = s.opt(2, 'mechToken');
  // [3] is mechListMIC (RFC 4178) when an OCTET STRING, negHints (MS-SPNG NegTokenInit2) when a SEQUENCE.
  let mic: Elem | undefined;
  let hints = s.opt(3, 'negHints');
  if (hints && hints.node.cls === TagClass.UNIVERSAL && hints.node.tag === UniversalTag.OCTET_STRING) {
    mic = { node: hints.node, field: `${e.field}.mechListMIC` };
    hints = undefined;
  } else {
    mic = s.opt(4, 'mechListMIC');
  }
  s.skipExtensions();
  if (flags) out.reqFlags = readContextFlags(flags);
  if (token) out.mechToken = readOctetString(token);
  if (hints) out.negHints = readNegHints(hints);
  if (mic) out.mechListMIC = readOctetString(mic);
  return out;
}

function readNegTokenResp(e: Elem): NegTokenResp {
  const s = new SeqCursor(e);
  const state = s.opt(0, 'negState');
  const mech = s.opt(1, 'supportedMech');
  const token = s.opt(2, 'responseToken');
  const mic = s.opt(3, 'mechListMIC');
  s.skipExtensions();
  const out: NegTokenResp = {};
  if (state) {
    const n = readEnumerated(state);
    const name = NEG_STATES[n];
    if (name === undefined) throw new Asn1Error(state.field, `unknown negState ${n}`);
    out.negState = name;
  }
  if (mech) out.supportedMech = readOid(mech);
  if (token) out.responseToken = readOctetString(token);
  if (mic) out.mechListMIC = readOctetString(mic);
  return out;
}

/**
 * Decodes either token: the GSS-framed initial NegTokenInit (0x60 ... SPNEGO OID ... [0]), a bare
 * [0] NegTokenInit, or a bare [1] NegTokenResp.
 */
export function decodeNegotiationToken(bytes: Uint8Array): NegotiationToken {
  const field = 'NegotiationToken';
  let body = bytes;
  if (bytes instanceof Uint8Array && bytes[0] === 0x60) {
    const t = decodeGssToken(bytes);
    if (t.oid !== OID_SPNEGO) throw new Asn1Error(`${field}.thisMech`, `not SPNEGO: ${t.oid}`);
    body = t.inner;
  }
  const e = root(body, field);
  const n = e.node;
  if (
    n.cls !== TagClass.CONTEXT ||
    !n.constructed ||
    (n.tag !== 0 && n.tag !== 1) ||
    n.children.length !== 1
  ) {
    throw new Asn1Error(field, 'expected [0] negTokenInit or [1] negTokenResp');
  }
  const inner = { node: n.children[0]!, field: n.tag === 0 ? 'NegTokenInit' : 'NegTokenResp' };
  if (n.tag === 0) return { kind: 'init', ...readNegTokenInit(inner) };
  if (bytes[0] === 0x60) throw new Asn1Error(field, 'a NegTokenResp is never GSS-framed');
  return { kind: 'resp', ...readNegTokenResp(inner) };
}
