// The 0x8003 authenticator checksum (RFC 4121 §4.1.1, from RFC 1964 §1.1.1): channel-binding
// hash, GSS flags and, with delegation, a KRB-CRED — all little-endian, unlike the rest of Kerberos.
import { md5 } from '@noble/hashes/legacy.js';
import { KerberosError, SpnegoError } from '../../errors.js';
import { GssFlag } from './constants.js';

export interface GssChecksum {
  /** 16 bytes: MD5 of the channel bindings, or zeros for none. */
  bindingHash: Uint8Array;
  flags: number;
  /** The KRB-CRED (DER) when GSS_C_DELEG_FLAG is set. */
  delegation?: Uint8Array;
}

const BND_LENGTH = 16;
const ZERO_BINDINGS = new Uint8Array(BND_LENGTH);

function le32(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
}
function readLe32(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 24)) >>> 0;
}
function readLe16(b: Uint8Array, at: number): number {
  return (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
}

/**
 * MD5 over gss_channel_bindings_struct with only application_data set (RFC 4121 §4.1.1.2):
 * initiator addrtype 0 + empty address, acceptor addrtype 0 + empty address, then the data.
 * This is what MIT computes for TLS channel bindings (`tls-server-end-point:...`).
 */
export function channelBindingHash(applicationData: Uint8Array | undefined): Uint8Array {
  if (applicationData === undefined) return ZERO_BINDINGS.slice();
  const head = new Uint8Array(20);
  head.set(le32(applicationData.length), 16);
  const all = new Uint8Array(head.length + applicationData.length);
  all.set(head);
  all.set(applicationData, head.length);
  return md5(all);
}

export function encodeGssChecksum(c: GssChecksum): Uint8Array {
  if (c.bindingHash.length !== BND_LENGTH)
    throw new SpnegoError('GSS_BAD_INPUT', 'channel-binding hash must be 16 bytes');
  const deleg = c.delegation;
  const flags = deleg === undefined ? c.flags & ~GssFlag.DELEG : c.flags | GssFlag.DELEG;
  const out = new Uint8Array(24 + (deleg === undefined ? 0 : 4 + deleg.length));
  out.set(le32(BND_LENGTH), 0);
  out.set(c.bindingHash, 4);
  out.set(le32(flags), 20);
  if (deleg !== undefined) {
    if (deleg.length > 0xffff)
      throw new SpnegoError('GSS_BAD_INPUT', 'KRB-CRED too long for the 16-bit Dlgth field');
    out[24] = 1;
    out[25] = 0;
    out[26] = deleg.length & 0xff;
    out[27] = deleg.length >>> 8;
    out.set(deleg, 28);
  }
  return out;
}

function inappropriate(why: string): KerberosError {
  return new KerberosError(50, 'KRB_AP_ERR_INAPP_CKSUM', `GSS authenticator checksum: ${why}`, {
    hint: 'the client is not speaking the Kerberos GSS-API mechanism (RFC 4121)',
  });
}

/** Parses the checksum; extensions past the known fields are ignored (RFC 4121 §4.1.1). */
export function decodeGssChecksum(b: Uint8Array): GssChecksum {
  if (b.length < 24) throw inappropriate(`${b.length} bytes, at least 24 needed`);
  const lgth = readLe32(b, 0);
  if (lgth !== BND_LENGTH) throw inappropriate(`Lgth is ${lgth}, expected 16`);
  const flags = readLe32(b, 20);
  const out: GssChecksum = { bindingHash: b.slice(4, 20), flags };
  if ((flags & GssFlag.DELEG) !== 0) {
    // MIT sets the flag without DlgOpt when it could not forward; treat a missing field as no delegation.
    if (b.length === 24) {
      out.flags &= ~GssFlag.DELEG;
      return out;
    }
    // 1-3 bytes after Flags are neither DlgOpt+Dlgth nor an extension: RFC 4121 §4.1.1 wants at
    // least 28 + Dlgth octets with GSS_C_DELEG_FLAG, and MIT fails such a checksum (KG_BAD_LENGTH).
    if (b.length < 28) throw inappropriate(`GSS_C_DELEG_FLAG with a ${b.length - 24}-byte delegation field`);
    const opt = readLe16(b, 24);
    const len = readLe16(b, 26);
    if (opt !== 1) throw inappropriate(`DlgOpt is ${opt}, expected 1`);
    if (28 + len > b.length) throw inappropriate(`Dlgth ${len} runs past the checksum (${b.length} bytes)`);
    out.delegation = b.slice(28, 28 + len);
  }
  return out;
}
