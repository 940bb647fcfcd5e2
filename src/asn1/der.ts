// Strict DER (X.690 §10) for Kerberos, GSS and SPNEGO.
//
// General ASN.1 libraries accept indefinite lengths, non-minimal lengths and fractional seconds,
// and map GeneralString through a single-byte charset. Kerberos needs the opposite: RFC 4120 §5.1
// requires DER, checksums are computed over re-encoded bytes (e.g. the TGS-REQ body), and MIT
// passes KerberosString bytes through as UTF-8. So everything here is ours and has no runtime
// dependency: one iterative pass builds a tree of TLV views, checking every length against the
// bytes that remain before anything is sliced, bounding depth and element count; OBJECT
// IDENTIFIER arcs and INTEGER content octets are converted by the small exact routines below.

import { Asn1Error, SpnegoError } from '../errors.js';

export const TagClass = { UNIVERSAL: 0, APPLICATION: 1, CONTEXT: 2, PRIVATE: 3 } as const;

export const UniversalTag = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OBJECT_IDENTIFIER: 6,
  ENUMERATED: 10,
  UTF8_STRING: 12,
  SEQUENCE: 16,
  SET: 17,
  IA5_STRING: 22,
  GENERALIZED_TIME: 24,
  GENERAL_STRING: 27,
} as const;

/** Nesting deeper than any Kerberos message (an AS-REP is ~8 levels) is an attack, not data. */
export const MAX_DEPTH = 32;
/** Upper bound on TLVs per message; real messages have a few hundred at most. */
export const MAX_ELEMENTS = 100_000;

/** One validated TLV; `bytes` and `content` are views into the caller's buffer. */
export interface DerNode {
  readonly cls: number;
  readonly constructed: boolean;
  readonly tag: number;
  /** The whole TLV (identifier, length and content). */
  readonly bytes: Uint8Array;
  readonly content: Uint8Array;
  /** Children of a constructed element, in order; empty for primitives. */
  readonly children: DerNode[];
}

/** A node together with its field path, for error messages such as `AS-REP.enc-part.cipher`. */
export interface Elem {
  readonly node: DerNode;
  readonly field: string;
}

interface Header {
  cls: number;
  constructed: boolean;
  tag: number;
  headerLen: number;
  contentLen: number;
}

/** Reads one identifier + length at `pos`, never past `end`; the content must fit before `end`. */
function readHeader(buf: Uint8Array, pos: number, end: number, field: string): Header {
  if (pos >= end) throw new Asn1Error(field, 'truncated: missing identifier');
  const id = buf[pos]!;
  const cls = id >> 6;
  const constructed = (id & 0x20) !== 0;
  let tag = id & 0x1f;
  let p = pos + 1;
  if (tag === 0x1f) {
    // High-tag-number form (X.690 §8.1.2.4): base-128, minimal, and only for tags >= 31.
    tag = 0;
    for (let i = 0; ; i++) {
      if (p >= end) throw new Asn1Error(field, 'truncated tag number');
      const b = buf[p++]!;
      if (i === 0 && b === 0x80) throw new Asn1Error(field, 'non-minimal tag number');
      if (i >= 3) throw new Asn1Error(field, 'tag number too large');
      tag = tag * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    if (tag < 31) throw new Asn1Error(field, 'high-tag-number form used for a low tag');
  }
  if (p >= end) throw new Asn1Error(field, 'truncated: missing length');
  const first = buf[p++]!;
  let len: number;
  if (first < 0x80) {
    len = first;
  } else if (first === 0x80) {
    throw new Asn1Error(field, 'indefinite length is not DER');
  } else {
    const n = first & 0x7f;
    if (n > 4) throw new Asn1Error(field, `length of ${n} octets is too large`);
    if (p + n > end) throw new Asn1Error(field, 'truncated length');
    if (buf[p] === 0) throw new Asn1Error(field, 'non-minimal length (leading zero octet)');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
    if (len < 0x80) throw new Asn1Error(field, 'non-minimal length (long form below 128)');
  }
  // Checked before anything is sliced or allocated: a declared 4 GiB length fails here.
  if (len > end - p) throw new Asn1Error(field, `length ${len} exceeds the ${end - p} bytes remaining`);
  return { cls, constructed, tag, headerLen: p - pos, contentLen: len };
}

/** Universal types that DER encodes primitively / constructed (X.690 §10.2 forbids BER's constructed strings). */
function checkUniversal(h: Header, content: Uint8Array, field: string): void {
  if (h.tag === 0) throw new Asn1Error(field, 'end-of-contents octets are not DER');
  const mustBeConstructed = h.tag === UniversalTag.SEQUENCE || h.tag === UniversalTag.SET;
  if (h.constructed !== mustBeConstructed) {
    throw new Asn1Error(
      field,
      `universal tag ${h.tag} must be ${mustBeConstructed ? 'constructed' : 'primitive'}`,
    );
  }
  if (h.tag === UniversalTag.BOOLEAN) {
    if (content.length !== 1 || (content[0] !== 0x00 && content[0] !== 0xff)) {
      throw new Asn1Error(field, 'BOOLEAN must be one octet 0x00 or 0xFF');
    }
  } else if (h.tag === UniversalTag.INTEGER || h.tag === UniversalTag.ENUMERATED) {
    checkMinimalInteger(content, field);
  } else if (h.tag === UniversalTag.NULL && content.length !== 0) {
    throw new Asn1Error(field, 'NULL must be empty');
  }
}

function checkMinimalInteger(c: Uint8Array, field: string): void {
  if (c.length === 0) throw new Asn1Error(field, 'empty INTEGER');
  if (c.length > 1) {
    const a = c[0]!;
    const b = c[1]!;
    if ((a === 0x00 && (b & 0x80) === 0) || (a === 0xff && (b & 0x80) !== 0)) {
      throw new Asn1Error(field, 'non-minimal INTEGER encoding');
    }
  }
}

interface Frame {
  node: DerNode;
  pos: number;
  end: number;
  depth: number;
}

/**
 * Parses exactly one DER element covering all of `bytes` (trailing bytes rejected), validating
 * every nested element. Iterative, so a depth bomb costs neither stack nor more than MAX_DEPTH.
 */
export function parseDer(bytes: Uint8Array, field: string): DerNode {
  if (!(bytes instanceof Uint8Array)) throw new Asn1Error(field, 'input is not a Uint8Array');
  let count = 0;
  const make = (pos: number, end: number, depth: number, f: string): { node: DerNode; next: number } => {
    if (++count > MAX_ELEMENTS) throw new Asn1Error(f, `more than ${MAX_ELEMENTS} elements`);
    if (depth > MAX_DEPTH) throw new Asn1Error(f, `nesting deeper than ${MAX_DEPTH}`);
    const h = readHeader(bytes, pos, end, f);
    const cStart = pos + h.headerLen;
    const cEnd = cStart + h.contentLen;
    const content = bytes.subarray(cStart, cEnd);
    if (h.cls === TagClass.UNIVERSAL) checkUniversal(h, content, f);
    const node: DerNode = {
      cls: h.cls,
      constructed: h.constructed,
      tag: h.tag,
      bytes: bytes.subarray(pos, cEnd),
      content,
      children: [],
    };
    return { node, next: cEnd };
  };
  const top = make(0, bytes.length, 0, field);
  if (top.next !== bytes.length) {
    throw new Asn1Error(field, `${bytes.length - top.next} trailing bytes after the element`);
  }
  const stack: Frame[] = [];
  if (top.node.constructed) {
    const off = top.node.bytes.length - top.node.content.length;
    stack.push({ node: top.node, pos: off, end: bytes.length, depth: 1 });
  }
  while (stack.length > 0) {
    const fr = stack[stack.length - 1]!;
    if (fr.pos >= fr.end) {
      stack.pop();
      continue;
    }
    const child = make(fr.pos, fr.end, fr.depth, field);
    fr.pos = child.next;
    fr.node.children.push(child.node);
    if (child.node.constructed) {
      const start = child.next - child.node.content.length;
      stack.push({ node: child.node, pos: start, end: child.next, depth: fr.depth + 1 });
    }
  }
  return top.node;
}

/** Reads one strictly-DER TLV header at the start of `bytes` without validating its content (GSS framing). */
export function peekHeader(
  bytes: Uint8Array,
  field: string,
): { cls: number; constructed: boolean; tag: number; headerLen: number; contentLen: number } {
  return readHeader(bytes, 0, bytes.length, field);
}

// ---------------------------------------------------------------------------------------------
// Navigation

export function root(bytes: Uint8Array, field: string): Elem {
  return { node: parseDer(bytes, field), field };
}

function describe(n: DerNode): string {
  const cls = ['UNIVERSAL', 'APPLICATION', 'CONTEXT', 'PRIVATE'][n.cls];
  return `${cls} ${n.tag}`;
}

export function expectTag(e: Elem, cls: number, tag: number, constructed: boolean): DerNode {
  const n = e.node;
  if (n.cls !== cls || n.tag !== tag || n.constructed !== constructed) {
    const want = ['UNIVERSAL', 'APPLICATION', 'CONTEXT', 'PRIVATE'][cls];
    throw new Asn1Error(e.field, `expected ${want} ${tag}, found ${describe(n)}`);
  }
  return n;
}

/** Unwraps `[APPLICATION n] X` (explicit, as all Kerberos application tags are). */
export function unwrapApplication(e: Elem, tag: number): Elem {
  const n = expectTag(e, TagClass.APPLICATION, tag, true);
  if (n.children.length !== 1) throw new Asn1Error(e.field, `[APPLICATION ${tag}] must hold one element`);
  return { node: n.children[0]!, field: e.field };
}

/**
 * Walks a SEQUENCE whose fields are explicit context tags in ascending order (RFC 4120 §5.2 uses
 * EXPLICIT TAGS). Fields must be asked for in tag order; `done()` rejects anything left over, which
 * catches duplicates, disorder and unknown fields alike.
 */
export class SeqCursor {
  private i = 0;
  private readonly node: DerNode;
  readonly field: string;

  constructor(e: Elem) {
    this.node = expectTag(e, TagClass.UNIVERSAL, UniversalTag.SEQUENCE, true);
    this.field = e.field;
  }

  opt(tag: number, name: string): Elem | undefined {
    const c = this.node.children[this.i];
    if (c === undefined || c.cls !== TagClass.CONTEXT || c.tag !== tag) return undefined;
    const f = `${this.field}.${name}`;
    if (!c.constructed || c.children.length !== 1) throw new Asn1Error(f, `[${tag}] must hold one element`);
    this.i++;
    return { node: c.children[0]!, field: f };
  }

  req(tag: number, name: string): Elem {
    const e = this.opt(tag, name);
    if (e === undefined) throw new Asn1Error(`${this.field}.${name}`, `missing required field [${tag}]`);
    return e;
  }

  done(): void {
    const c = this.node.children[this.i];
    if (c !== undefined) throw new Asn1Error(this.field, `unexpected element ${describe(c)}`);
  }

  /** For extensible SEQUENCEs (`...` in SPNEGO): ignore unknown higher context tags. */
  skipExtensions(): void {
    for (; this.i < this.node.children.length; this.i++) {
      const c = this.node.children[this.i]!;
      if (c.cls !== TagClass.CONTEXT) throw new Asn1Error(this.field, `unexpected element ${describe(c)}`);
    }
  }
}

/** The elements of a SEQUENCE OF. */
export function seqOf(e: Elem): Elem[] {
  const n = expectTag(e, TagClass.UNIVERSAL, UniversalTag.SEQUENCE, true);
  return n.children.map((c, i) => ({ node: c, field: `${e.field}[${i}]` }));
}

// ---------------------------------------------------------------------------------------------
// Primitive readers

/** Reads a (validated, minimal) INTEGER of at most 6 content octets as a JS number. */
function integerValue(e: Elem, tag: number): number {
  const n = expectTag(e, TagClass.UNIVERSAL, tag, false);
  const c = n.content;
  // 6 octets keep us inside Number.MAX_SAFE_INTEGER; Kerberos never needs more than 5.
  if (c.length > 6) throw new Asn1Error(e.field, 'INTEGER out of range');
  let v = (c[0]! & 0x80) !== 0 ? -1 : 0;
  for (const b of c) v = v * 256 + b;
  // The sign-extension above is arithmetic: -1*256+b reproduces two's complement for negatives.
  return v;
}

export function readInteger(e: Elem): number {
  return integerValue(e, UniversalTag.INTEGER);
}

export function readInt32(e: Elem): number {
  const v = readInteger(e);
  if (v < -0x80000000 || v > 0x7fffffff) throw new Asn1Error(e.field, `Int32 out of range: ${v}`);
  return v;
}

/**
 * UInt32 (nonce, kvno, seq-number). Real peers disagree on signedness: older MIT encoded sequence
 * numbers and nonces as signed 32-bit, and Active Directory (RODC) kvnos have the top bit set and
 * arrive negative. We accept -2^31..2^32-1 and wrap negatives to their uint32 value. Nonces and
 * sequence numbers are written unsigned (as current MIT does); kvnos signed (`writeKvno`).
 */
export function readUInt32(e: Elem): number {
  const v = readInteger(e);
  if (v < -0x80000000 || v > 0xffffffff) throw new Asn1Error(e.field, `UInt32 out of range: ${v}`);
  return v >>> 0;
}

/** Microseconds ::= INTEGER (0..999999) */
export function readMicroseconds(e: Elem): number {
  const v = readInteger(e);
  if (v < 0 || v > 999999) throw new Asn1Error(e.field, `Microseconds out of range: ${v}`);
  return v;
}

export function readEnumerated(e: Elem): number {
  return integerValue(e, UniversalTag.ENUMERATED);
}

export function readBoolean(e: Elem): boolean {
  const n = expectTag(e, TagClass.UNIVERSAL, UniversalTag.BOOLEAN, false);
  return n.content[0] === 0xff;
}

/** A copy, so later mutation of the input buffer cannot change a decoded value. */
export function readOctetString(e: Elem): Uint8Array {
  return expectTag(e, TagClass.UNIVERSAL, UniversalTag.OCTET_STRING, false).content.slice();
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

export function decodeUtf8(bytes: Uint8Array, field: string): string {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    throw new Asn1Error(field, 'invalid UTF-8 in KerberosString');
  }
}

/** UTF-8 with U+FFFD for bad sequences: for display only, where raw bytes are kept alongside. */
export function decodeUtf8Lenient(bytes: Uint8Array): string {
  return utf8Lenient.decode(bytes);
}

/**
 * KerberosString ::= GeneralString (IA5String). RFC 4120 §5.2.1 restricts to IA5 but MIT passes
 * bytes through and realms/principals in the wild are UTF-8, so we decode UTF-8 strictly.
 */
export function readKerberosString(e: Elem): string {
  return decodeUtf8(readGeneralStringBytes(e), e.field);
}

export function readGeneralStringBytes(e: Elem): Uint8Array {
  return expectTag(e, TagClass.UNIVERSAL, UniversalTag.GENERAL_STRING, false).content.slice();
}

/** KerberosTime ::= GeneralizedTime, exactly "YYYYMMDDHHMMSSZ" (RFC 4120 §5.2.3). */
export function readKerberosTime(e: Elem): Date {
  const c = expectTag(e, TagClass.UNIVERSAL, UniversalTag.GENERALIZED_TIME, false).content;
  if (c.length !== 15 || c[14] !== 0x5a) {
    throw new Asn1Error(e.field, 'KerberosTime must be YYYYMMDDHHMMSSZ (no fractions, UTC)');
  }
  for (let i = 0; i < 14; i++) {
    const b = c[i]!;
    if (b < 0x30 || b > 0x39) throw new Asn1Error(e.field, 'KerberosTime has a non-digit');
  }
  const num = (from: number, len: number): number => {
    let v = 0;
    for (let i = from; i < from + len; i++) v = v * 10 + (c[i]! - 0x30);
    return v;
  };
  const year = num(0, 4);
  const month = num(4, 2);
  const day = num(6, 2);
  const hour = num(8, 2);
  const minute = num(10, 2);
  const second = num(12, 2);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  // Date normalises out-of-range parts (Feb 30 → Mar 2); a real time survives the round trip.
  if (
    d.getUTCFullYear() !== year ||
    d.getUTCMonth() !== month - 1 ||
    d.getUTCDate() !== day ||
    d.getUTCHours() !== hour ||
    d.getUTCMinutes() !== minute ||
    d.getUTCSeconds() !== second
  ) {
    throw new Asn1Error(e.field, 'KerberosTime is not a valid calendar time');
  }
  return d;
}

/**
 * KerberosFlags ::= BIT STRING (SIZE (32..MAX)). Represented as a uint32 where RFC bit n is
 * `(1 << (31 - n)) >>> 0`. Shorter bit strings are zero-padded and longer ones keep their first 32
 * bits, so only the 32-bit form (what MIT and Windows send) re-encodes byte for byte.
 */
export function readKerberosFlags(e: Elem): number {
  const bits = readBitString(e);
  let v = 0;
  for (let i = 0; i < 4; i++) v = v * 256 + (bits[i] ?? 0);
  return v >>> 0;
}

/** BIT STRING content octets after the unused-bits octet; DER requires unused bits to be zero. */
export function readBitString(e: Elem): Uint8Array {
  const c = expectTag(e, TagClass.UNIVERSAL, UniversalTag.BIT_STRING, false).content;
  if (c.length === 0) throw new Asn1Error(e.field, 'empty BIT STRING');
  const unused = c[0]!;
  if (unused > 7 || (c.length === 1 && unused !== 0)) throw new Asn1Error(e.field, 'bad unused-bits count');
  if (unused > 0 && (c[c.length - 1]! & ((1 << unused) - 1)) !== 0) {
    throw new Asn1Error(e.field, 'BIT STRING padding bits must be zero');
  }
  return c.slice(1);
}

/** OBJECT IDENTIFIER as a dotted string (X.690 §8.19), arcs exact at any size up to MAX_OID_ARC_OCTETS. */
export function readOid(e: Elem): string {
  const c = expectTag(e, TagClass.UNIVERSAL, UniversalTag.OBJECT_IDENTIFIER, false).content;
  return oidFromContent(c, e.field);
}

// The handful of OIDs seen in practice (krb5, SPNEGO, NTLM) are decoded once: every GSS token
// and NegTokenInit carries them.
const oidTextCache = new Map<string, string>();

export function oidFromContent(c: Uint8Array, field: string): string {
  const key = c.length <= 32 ? String.fromCharCode(...c) : undefined;
  const hit = key === undefined ? undefined : oidTextCache.get(key);
  if (hit !== undefined) return hit;
  const s = oidFromContentUncached(c, field);
  if (key !== undefined && oidTextCache.size < 64) oidTextCache.set(key, s);
  return s;
}

/**
 * Longest subidentifier accepted, in content octets: 20 base-128 digits hold 140 bits, room for
 * the 128-bit UUID arcs of `2.25.…` (X.667); anything longer is refused rather than computed.
 */
export const MAX_OID_ARC_OCTETS = 20;

function oidFromContentUncached(c: Uint8Array, field: string): string {
  if (c.length === 0) throw new Asn1Error(field, 'empty OBJECT IDENTIFIER');
  if ((c[c.length - 1]! & 0x80) !== 0) throw new Asn1Error(field, 'truncated OBJECT IDENTIFIER');
  const arcs: string[] = [];
  let i = 0;
  while (i < c.length) {
    const start = i;
    // X.690 §8.19.2: the leading octet of a subidentifier is never 0x80.
    if (c[i] === 0x80) throw new Asn1Error(field, 'non-minimal OBJECT IDENTIFIER arc');
    while ((c[i]! & 0x80) !== 0) i++;
    i++;
    const n = i - start;
    if (n > MAX_OID_ARC_OCTETS)
      throw new Asn1Error(field, `OBJECT IDENTIFIER arc of ${n} octets is too large`);
    // 7 octets are 49 bits: exact as a double. Longer arcs go through BigInt.
    let v: number | bigint;
    if (n <= 7) {
      let x = 0;
      for (let k = start; k < i; k++) x = x * 128 + (c[k]! & 0x7f);
      v = x;
    } else {
      let x = 0n;
      for (let k = start; k < i; k++) x = (x << 7n) | BigInt(c[k]! & 0x7f);
      v = x;
    }
    if (start === 0) {
      // X.690 §8.19.4: the first subidentifier is 40·X + Y with X in 0..2 (Y < 40 unless X = 2).
      if (typeof v === 'number') {
        const x = v < 40 ? 0 : v < 80 ? 1 : 2;
        arcs.push(String(x), String(v - 40 * x));
      } else {
        arcs.push('2', String(v - 80n));
      }
    } else {
      arcs.push(String(v));
    }
  }
  return arcs.join('.');
}

// ---------------------------------------------------------------------------------------------
// Writers. Encoders throw SpnegoError('ASN1_ENCODE') for values the type cannot hold.

export class Asn1EncodeError extends SpnegoError {
  constructor(message: string) {
    super('ASN1_ENCODE', message);
  }
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

// Encoders allocate one array per TLV, and a token nests a 1 KiB ticket ten levels deep; fresh
// ArrayBuffers are slow to create, so small outputs are carved from a shared slab (as Node's
// Buffer pool does). Every byte of a carved array is written before it is returned.
const SLAB_BYTES = 16 * 1024;
const SLAB_MAX = 2048;
let slab = new Uint8Array(SLAB_BYTES);
let slabOff = 0;

function alloc(n: number): Uint8Array {
  if (n > SLAB_MAX) return new Uint8Array(n);
  if (slabOff + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabOff = 0;
  }
  const out = slab.subarray(slabOff, slabOff + n);
  // Keep views 8-byte aligned so later DataView/typed reads of a view are not penalised.
  slabOff += (n + 7) & ~7;
  return out;
}

/** Octets needed for a DER length. */
function lengthOctets(len: number): number {
  if (len < 0x80) return 1;
  if (len < 0x100) return 2;
  if (len < 0x10000) return 3;
  if (len < 0x1000000) return 4;
  return 5;
}

/** Writes identifier + length at `out[0..]`, returning where the content starts. */
function writeHeader(out: Uint8Array, id: number, len: number): number {
  out[0] = id;
  const n = lengthOctets(len) - 1;
  if (n === 0) {
    out[1] = len;
    return 2;
  }
  out[1] = 0x80 | n;
  for (let i = 0; i < n; i++) out[1 + n - i] = Math.floor(len / 256 ** i) & 0xff;
  return 2 + n;
}

function identifier(cls: number, constructed: boolean, tag: number): number {
  if (tag < 0 || tag > 30) throw new Asn1EncodeError(`tag ${tag} not supported`);
  return (cls << 6) | (constructed ? 0x20 : 0) | tag;
}

/** One TLV with a low tag number (< 31: every tag Kerberos, GSS and SPNEGO use). */
export function tlv(cls: number, constructed: boolean, tag: number, content: Uint8Array): Uint8Array {
  // One allocation per TLV: encoders nest deeply and run on every token (bench/gss).
  const out = alloc(1 + lengthOctets(content.length) + content.length);
  out.set(content, writeHeader(out, identifier(cls, constructed, tag), content.length));
  return out;
}

export function sequence(fields: readonly (Uint8Array | undefined)[]): Uint8Array {
  let total = 0;
  for (const f of fields) if (f !== undefined) total += f.length;
  const out = alloc(1 + lengthOctets(total) + total);
  let off = writeHeader(out, identifier(TagClass.UNIVERSAL, true, UniversalTag.SEQUENCE), total);
  for (const f of fields) {
    if (f === undefined) continue;
    out.set(f, off);
    off += f.length;
  }
  return out;
}

/** `[n] EXPLICIT inner` */
export function ctx(tag: number, inner: Uint8Array): Uint8Array {
  return tlv(TagClass.CONTEXT, true, tag, inner);
}

/** `[n] EXPLICIT inner`, or nothing when the optional value is absent. */
export function optCtx<T>(tag: number, v: T | undefined, enc: (v: T) => Uint8Array): Uint8Array | undefined {
  return v === undefined ? undefined : ctx(tag, enc(v));
}

export function application(tag: number, inner: Uint8Array): Uint8Array {
  return tlv(TagClass.APPLICATION, true, tag, inner);
}

function integerContent(v: number): Uint8Array {
  if (v >= -0x80000000 && v <= 0xffffffff) {
    // Hot path (every Int32/UInt32/Microseconds): minimal two's-complement octets, by hand.
    if (v >= -0x80 && v <= 0x7f) return Uint8Array.of(v & 0xff);
    if (v >= -0x8000 && v <= 0x7fff) return Uint8Array.of((v >> 8) & 0xff, v & 0xff);
    if (v >= -0x800000 && v <= 0x7fffff) return Uint8Array.of((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
    if (v >= -0x80000000 && v <= 0x7fffffff) {
      return Uint8Array.of((v >> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
    }
    // 2^31..2^32-1 needs a leading zero octet to stay positive.
    return Uint8Array.of(0, (v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }
  return bigIntegerContent(BigInt(v));
}

/**
 * Minimal two's-complement content octets (X.690 §8.3) of any integer: the fewest octets whose
 * top bit is the sign, i.e. no leading 0x00 before a clear bit 7 and no 0xFF before a set one.
 */
export function bigIntegerContent(v: bigint): Uint8Array {
  const octets: number[] = [];
  let x = v;
  // Arithmetic shift keeps the sign: stop once the rest is pure sign extension of the last octet.
  for (;;) {
    const b = Number(x & 0xffn);
    octets.push(b);
    x >>= 8n;
    if ((x === 0n && (b & 0x80) === 0) || (x === -1n && (b & 0x80) !== 0)) break;
  }
  return Uint8Array.from(octets.reverse());
}

export function writeInteger(v: number, what = 'INTEGER'): Uint8Array {
  if (!Number.isSafeInteger(v)) throw new Asn1EncodeError(`${what}: not an integer: ${v}`);
  return tlv(TagClass.UNIVERSAL, false, UniversalTag.INTEGER, integerContent(v));
}

export function writeInt32(v: number, what = 'Int32'): Uint8Array {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
    throw new Asn1EncodeError(`${what} out of range: ${v}`);
  }
  return writeInteger(v, what);
}

export function writeUInt32(v: number, what = 'UInt32'): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new Asn1EncodeError(`${what} out of range: ${v}`);
  return writeInteger(v, what);
}

/**
 * A key version number as MIT and Windows put it on the wire: a signed 32-bit INTEGER, so an
 * AD read-only DC's kvno (2^31 and up: the RODC number in the top bits) is encoded negative;
 * `readUInt32` reads it back to the same uint32.
 */
export function writeKvno(v: number, what = 'kvno'): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new Asn1EncodeError(`${what} out of range: ${v}`);
  return writeInteger(v | 0, what);
}

export function writeMicroseconds(v: number, what = 'Microseconds'): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 999999) throw new Asn1EncodeError(`${what} out of range: ${v}`);
  return writeInteger(v, what);
}

export function writeEnumerated(v: number): Uint8Array {
  if (!Number.isSafeInteger(v)) throw new Asn1EncodeError(`ENUMERATED: not an integer: ${v}`);
  return tlv(TagClass.UNIVERSAL, false, UniversalTag.ENUMERATED, integerContent(v));
}

export function writeBoolean(v: boolean): Uint8Array {
  return tlv(TagClass.UNIVERSAL, false, UniversalTag.BOOLEAN, Uint8Array.of(v ? 0xff : 0x00));
}

export function writeOctetString(v: Uint8Array): Uint8Array {
  return tlv(TagClass.UNIVERSAL, false, UniversalTag.OCTET_STRING, v);
}

/** GeneralString with the bytes given verbatim (never through a charset mapping). */
export function writeGeneralStringBytes(v: Uint8Array): Uint8Array {
  return tlv(TagClass.UNIVERSAL, false, UniversalTag.GENERAL_STRING, v);
}

export function writeKerberosString(v: string): Uint8Array {
  return writeGeneralStringBytes(utf8Encoder.encode(v));
}

export function encodeUtf8(v: string): Uint8Array {
  return utf8Encoder.encode(v);
}

/** Whole seconds only: milliseconds are truncated, as KerberosTime cannot carry them. */
export function writeKerberosTime(d: Date): Uint8Array {
  const t = d instanceof Date ? d.getTime() : Number.NaN;
  if (!Number.isFinite(t)) throw new Asn1EncodeError('KerberosTime: invalid Date');
  const w = new Date(Math.floor(t / 1000) * 1000);
  const year = w.getUTCFullYear();
  if (year < 0 || year > 9999) throw new Asn1EncodeError(`KerberosTime: year ${year} out of range`);
  const p = (n: number, len: number): string => n.toString().padStart(len, '0');
  const s =
    p(year, 4) +
    p(w.getUTCMonth() + 1, 2) +
    p(w.getUTCDate(), 2) +
    p(w.getUTCHours(), 2) +
    p(w.getUTCMinutes(), 2) +
    p(w.getUTCSeconds(), 2) +
    'Z';
  return tlv(TagClass.UNIVERSAL, false, UniversalTag.GENERALIZED_TIME, utf8Encoder.encode(s));
}

/** KerberosFlags: 32 bits, 0 unused, 4 content octets — as MIT encodes them. */
export function writeKerberosFlags(v: number): Uint8Array {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
    throw new Asn1EncodeError(`KerberosFlags out of range: ${v}`);
  }
  const u = v >>> 0;
  return tlv(
    TagClass.UNIVERSAL,
    false,
    UniversalTag.BIT_STRING,
    Uint8Array.of(0, u >>> 24, (u >>> 16) & 0xff, (u >>> 8) & 0xff, u & 0xff),
  );
}

/** A BIT STRING from whole octets plus an unused-bits count (padding bits cleared). */
export function writeBitString(bits: Uint8Array, unused: number): Uint8Array {
  if (!Number.isInteger(unused) || unused < 0 || unused > 7 || (bits.length === 0 && unused !== 0)) {
    throw new Asn1EncodeError(`BIT STRING: bad unused-bits count ${unused}`);
  }
  const c = new Uint8Array(bits.length + 1);
  c[0] = unused;
  c.set(bits, 1);
  if (bits.length > 0) c[c.length - 1]! &= 0xff << unused;
  return tlv(TagClass.UNIVERSAL, false, UniversalTag.BIT_STRING, c);
}

const OID_RE = /^[0-2](\.(0|[1-9][0-9]*))+$/;

// The handful of OIDs in use (krb5, SPNEGO...) are encoded once.
const oidCache = new Map<string, Uint8Array>();

export function oidContent(oid: string): Uint8Array {
  const hit = oidCache.get(oid);
  if (hit) return hit.slice();
  const c = oidContentUncached(oid);
  if (oidCache.size < 64) oidCache.set(oid, c.slice());
  return c;
}

function oidContentUncached(oid: string): Uint8Array {
  if (typeof oid !== 'string' || !OID_RE.test(oid)) throw new Asn1EncodeError(`invalid OID: ${String(oid)}`);
  const arcs = oid.split('.');
  if (arcs[0] !== '2' && Number(arcs[1]) >= 40) throw new Asn1EncodeError(`invalid OID: ${oid}`);
  const out: number[] = [];
  for (let i = 1; i < arcs.length; i++) {
    const s = arcs[i]!;
    // Up to 15 decimal digits is exact as a double; longer arcs are converted through BigInt.
    let v: number | bigint = s.length <= 15 ? Number(s) : BigInt(s);
    if (i === 1) v = typeof v === 'number' ? v + 40 * Number(arcs[0]) : v + 40n * BigInt(arcs[0]!);
    const start = out.length;
    if (typeof v === 'number' && v < 2 ** 49) {
      do {
        out.push(v % 128);
        v = Math.floor(v / 128);
      } while (v > 0);
    } else {
      let x = BigInt(v);
      do {
        out.push(Number(x & 0x7fn));
        x >>= 7n;
      } while (x > 0n);
    }
    if (out.length - start > MAX_OID_ARC_OCTETS) throw new Asn1EncodeError(`OID arc too large: ${oid}`);
    // Base-128 digits were produced least significant first: reverse them and mark continuations.
    const digits = out.splice(start).reverse();
    for (let k = 0; k < digits.length; k++) out.push(k < digits.length - 1 ? digits[k]! | 0x80 : digits[k]!);
  }
  return Uint8Array.from(out);
}

export function writeOid(oid: string): Uint8Array {
  return tlv(TagClass.UNIVERSAL, false, UniversalTag.OBJECT_IDENTIFIER, oidContent(oid));
}

export function writeSeqOf<T>(items: readonly T[], enc: (v: T) => Uint8Array): Uint8Array {
  return sequence(items.map(enc));
}
