// The KCM protocol (Heimdal's credential-cache daemon protocol, spoken by Heimdal's kcm and
// sssd-kcm, and by MIT's cc_kcm client), as bytes only; the socket is src/runtime's.
//
// A request is: major version 2, minor version 0, a 16-bit big-endian opcode, then its
// parameters with no delimiters — names as zero-terminated strings, 32-bit big-endian integers,
// principals and credentials in the v4 FILE ccache encoding, 16-byte UUIDs. On a Unix socket each
// message is preceded by its 32-bit big-endian length; a reply frame is that length, a 32-bit
// transport status, then the message, whose first 32 bits are the KCM status (a krb5 error code,
// 0 = success). Lists of UUIDs run to the end of the message.

import { ByteReader, ByteWriter, decodeText, encodeText } from './bytes.js';
import type { CcacheCredential } from './ccache.js';
import { readCredential, readPrincipal, writeCredential, writePrincipal } from './ccache.js';
import type { Principal } from './principal-text.js';

export const KCM_PROTOCOL_MAJOR = 2;
export const KCM_PROTOCOL_MINOR = 0;
export const KCM_UUID_LEN = 16;
/** Where MIT and Heimdal look when krb5.conf names no `kcm_socket`. */
export const DEFAULT_KCM_SOCKET = '/var/run/.heim_org.h5l.kcm-socket';
/** MIT's bound on a reply (10 MiB): a longer length is refused before anything is read. */
export const MAX_KCM_REPLY = 10 * 1024 * 1024;

/** The opcodes we use (Heimdal's numbering; GET_CRED_LIST and REPLACE are MIT's extensions). */
export const KcmOp = {
  GEN_NEW: 3,
  INITIALIZE: 4,
  DESTROY: 5,
  STORE: 6,
  GET_PRINCIPAL: 8,
  GET_CRED_UUID_LIST: 9,
  GET_CRED_BY_UUID: 10,
  GET_CACHE_UUID_LIST: 18,
  GET_CACHE_BY_UUID: 19,
  GET_DEFAULT_CACHE: 20,
  SET_DEFAULT_CACHE: 21,
  GET_KDC_OFFSET: 22,
  SET_KDC_OFFSET: 23,
  GET_CRED_LIST: 13001,
  REPLACE: 13002,
} as const;
export type KcmOpcode = (typeof KcmOp)[keyof typeof KcmOp];

/** krb5 error codes KCM daemons answer with (MIT's krb5_err.et; Heimdal shares the table). */
export const KcmStatus = {
  CC_BADNAME: -1765328245,
  CC_NOTFOUND: -1765328243,
  CC_END: -1765328242,
  CC_IO: -1765328191,
  FCC_PERM: -1765328190,
  FCC_NOFILE: -1765328189,
  FCC_INTERNAL: -1765328188,
  CC_NOMEM: -1765328186,
  CC_FORMAT: -1765328185,
  CC_NOSUPP: -1765328137,
} as const;

const STATUS_NAMES = new Map<number, string>(Object.entries(KcmStatus).map(([k, v]) => [v, `KRB5_${k}`]));

/** `KRB5_FCC_NOFILE`, or the number for codes outside the ccache range. */
export function kcmStatusName(code: number): string {
  return STATUS_NAMES.get(code) ?? String(code);
}

/**
 * Whether `code` may mean "operation not implemented": Heimdal answers KRB5_FCC_INTERNAL,
 * sssd KRB5_CC_NOSUPP for an operation it knows but lacks and KRB5_CC_IO for one it does not
 * know (as MIT's unsupported_op_error reads them).
 */
export function isUnsupportedOp(code: number): boolean {
  return code === KcmStatus.FCC_INTERNAL || code === KcmStatus.CC_IO || code === KcmStatus.CC_NOSUPP;
}

/** A request message (without the socket's length prefix). */
export class KcmRequest {
  private readonly w = new ByteWriter(256);
  constructor(readonly opcode: KcmOpcode) {
    this.w.u8(KCM_PROTOCOL_MAJOR).u8(KCM_PROTOCOL_MINOR).u16(opcode);
  }
  name(name: string): this {
    this.w.bytes(encodeText(name)).u8(0);
    return this;
  }
  u32(v: number): this {
    this.w.u32(v);
    return this;
  }
  principal(p: Principal): this {
    writePrincipal(this.w, p);
    return this;
  }
  credential(c: CcacheCredential): this {
    writeCredential(this.w, c);
    return this;
  }
  /** A credential preceded by its length (REPLACE's list items). */
  sizedCredential(c: CcacheCredential): this {
    const inner = new ByteWriter(512);
    writeCredential(inner, c);
    const bytes = inner.finish();
    this.w.u32(bytes.length).bytes(bytes);
    return this;
  }
  uuid(u: Uint8Array): this {
    this.w.bytes(u);
    return this;
  }
  finish(): Uint8Array {
    return this.w.finish();
  }
}

/** A reply message's payload (after its status word), read with every length bounds-checked. */
export class KcmReply {
  private readonly r: ByteReader;
  constructor(readonly bytes: Uint8Array) {
    this.r = new ByteReader(bytes, false, 'KCM_MALFORMED_REPLY', 'KCM reply');
  }
  get remaining(): number {
    return this.r.remaining;
  }
  name(): string {
    const rest = this.bytes.subarray(this.r.offset);
    const nul = rest.indexOf(0);
    if (nul < 0) this.r.fail('name without its terminating zero byte');
    const text = decodeText(this.r.take(nul, 'name'));
    this.r.skip(1, 'name terminator');
    return text;
  }
  i32(): number {
    return this.r.i32('integer');
  }
  principal(): Principal {
    return readPrincipal(this.r, 4);
  }
  credential(): CcacheCredential {
    return readCredential(this.r, 4);
  }
  /** The rest of the message as UUIDs. */
  uuids(): Uint8Array[] {
    if (this.r.remaining % KCM_UUID_LEN !== 0) this.r.fail(`UUID list of ${this.r.remaining} bytes`);
    const out: Uint8Array[] = [];
    while (this.r.remaining > 0) out.push(this.r.take(KCM_UUID_LEN, 'uuid'));
    return out;
  }
  /** GET_CRED_LIST: a count, then each credential preceded by its length. */
  credentialList(): CcacheCredential[] {
    // Each item takes at least its 4-byte length: a forged count fails before any loop.
    const count = this.r.count(this.r.u32('credential count'), 4, 'credential');
    const out: CcacheCredential[] = [];
    for (let i = 0; i < count; i++) {
      const item = this.r.sub(this.r.u32('credential length'), 'credential');
      out.push(readCredential(item, 4));
    }
    return out;
  }
  /** Fails unless the whole message was consumed. */
  end(): void {
    if (this.r.remaining !== 0) this.r.fail(`${this.r.remaining} unexpected trailing bytes`);
  }
}

/** The socket framing of a request: its length, then the message. */
export function frameKcmRequest(message: Uint8Array): Uint8Array {
  return new ByteWriter(message.length + 4).u32(message.length).bytes(message).finish();
}
