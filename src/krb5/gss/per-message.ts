// RFC 4121 §4.2 per-message tokens: MIC (04 04) and Wrap (05 04), for the RFC 3961 enctypes
// with the "new" token format (AES-SHA1, AES-SHA2, Camellia). rc4-hmac contexts use RFC 4757 §7
// (RFC 1964-style) tokens instead, in per-message-rc4.ts; which format a context speaks is decided
// once, from its keys, as MIT's kg_setup_keys does.
import {
  checksumSize,
  checksumTypeFor,
  constantTimeEqual,
  decrypt,
  Enctype,
  encrypt,
  type Key,
  makeChecksum,
} from '../../crypto/index.js';
import { CryptoError } from '../../errors.js';
import { KeyUsage, TokenFlag, TokenId } from './constants.js';
import { GssError } from './errors.js';
import { rc4GetMic, rc4Unwrap, rc4VerifyMic, rc4Wrap } from './per-message-rc4.js';
import { SequenceWindow } from './sequence.js';

const HEADER = 16;

export interface ProtectionOptions {
  isAcceptor: boolean;
  /** The initiator's authenticator subkey (or the ticket session key when it sent none). */
  initiatorKey: Key;
  /** The acceptor's AP-REP subkey, when it sent one: it then protects every message. */
  acceptorKey: Key | undefined;
  /** Our first sequence number. */
  sendSeq: number;
  /** The peer's first sequence number. */
  recvSeq: number;
  replayDetection: boolean;
  sequenceDetection: boolean;
  /** Mechanism OID for the RFC 2743 framing of RFC 4757 tokens (the one the context used). */
  oid?: string;
}

const isRc4 = (k: Key): boolean => k.enctype === Enctype.RC4_HMAC;

/**
 * The key of an RFC 4757 (RFC 1964-style) context, or undefined for an RFC 4121 one. As MIT
 * (init_sec_context.c, kg_setup_keys): an acceptor subkey of the initiator's enctype is ignored —
 * pre-CFX tokens cannot say which key they use, so both sides stay on the initiator's key — while
 * one of another enctype replaces it, and its enctype decides the token format.
 */
function legacyKey(o: ProtectionOptions): Key | undefined {
  const acc = o.acceptorKey;
  const key = acc !== undefined && acc.enctype !== o.initiatorKey.enctype ? acc : o.initiatorKey;
  if (isRc4(key)) return key;
  return undefined;
}

function writeSeq(h: Uint8Array, seq: number): void {
  const hi = Math.floor(seq / 0x100000000);
  const lo = seq >>> 0;
  h[8] = hi >>> 24;
  h[9] = (hi >>> 16) & 0xff;
  h[10] = (hi >>> 8) & 0xff;
  h[11] = hi & 0xff;
  h[12] = lo >>> 24;
  h[13] = (lo >>> 16) & 0xff;
  h[14] = (lo >>> 8) & 0xff;
  h[15] = lo & 0xff;
}

function readSeq(h: Uint8Array): number {
  const hi = (((h[8] ?? 0) << 24) | ((h[9] ?? 0) << 16) | ((h[10] ?? 0) << 8) | (h[11] ?? 0)) >>> 0;
  const lo = (((h[12] ?? 0) << 24) | ((h[13] ?? 0) << 16) | ((h[14] ?? 0) << 8) | (h[15] ?? 0)) >>> 0;
  return hi * 0x100000000 + lo;
}

function cat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Undoes the sender's right rotation by `rrc` (RFC 4121 §4.2.5), any count allowed. */
function unrotate(data: Uint8Array, rrc: number): Uint8Array {
  if (data.length === 0) return data;
  const r = rrc % data.length;
  if (r === 0) return data;
  return cat(data.subarray(r), data.subarray(0, r));
}

export class MessageProtection {
  private sendSeq: number;
  private readonly window: SequenceWindow;
  /** Set for rc4-hmac contexts: RFC 4757 §7 tokens under this key. */
  private readonly rc4: Key | undefined;
  constructor(private readonly o: ProtectionOptions) {
    this.sendSeq = o.sendSeq;
    this.rc4 = legacyKey(o);
    this.window = new SequenceWindow(o.recvSeq, o.replayDetection, o.sequenceDetection, this.rc4 ? 32 : 64);
  }

  /** `rfc4121` for AES and Camellia contexts, `rfc4757` for rc4-hmac ones. */
  get tokenFormat(): 'rfc4121' | 'rfc4757' {
    return this.rc4 ? 'rfc4757' : 'rfc4121';
  }

  private sendKey(): { key: Key; flags: number } {
    const acc = this.o.acceptorKey;
    const flags =
      (this.o.isAcceptor ? TokenFlag.SENT_BY_ACCEPTOR : 0) | (acc ? TokenFlag.ACCEPTOR_SUBKEY : 0);
    return { key: supported(acc ?? this.o.initiatorKey), flags };
  }

  private usage(sender: 'us' | 'peer', kind: 'seal' | 'sign'): number {
    const acceptorSends = sender === 'us' ? this.o.isAcceptor : !this.o.isAcceptor;
    if (kind === 'seal') return acceptorSends ? KeyUsage.ACCEPTOR_SEAL : KeyUsage.INITIATOR_SEAL;
    return acceptorSends ? KeyUsage.ACCEPTOR_SIGN : KeyUsage.INITIATOR_SIGN;
  }

  /** Validates a received header's direction and subkey flags; returns the key that protects it. */
  private receiveKey(flags: number): Key {
    const fromAcceptor = (flags & TokenFlag.SENT_BY_ACCEPTOR) !== 0;
    if (fromAcceptor === this.o.isAcceptor) {
      throw new GssError('DEFECTIVE_TOKEN', 'per-message token was sent in our own direction (reflected)');
    }
    if ((flags & TokenFlag.ACCEPTOR_SUBKEY) !== 0) {
      if (!this.o.acceptorKey)
        throw new GssError('DEFECTIVE_TOKEN', 'token claims an acceptor subkey, but none was negotiated');
      return supported(this.o.acceptorKey);
    }
    return supported(this.o.initiatorKey);
  }

  private nextSeq(): number {
    const s = this.sendSeq;
    // RFC 4757 tokens carry 32 bits and wrap around (MIT masks the same way); RFC 4121 has 64.
    this.sendSeq = this.rc4 ? (s + 1) >>> 0 : s + 1;
    return s;
  }

  getMIC(message: Uint8Array): Uint8Array {
    if (this.rc4) return rc4GetMic(this.rc4, this.nextSeq() >>> 0, this.o.isAcceptor, message, this.o.oid);
    const { key, flags } = this.sendKey();
    const h = new Uint8Array(HEADER);
    h[0] = TokenId.MIC >>> 8;
    h[1] = TokenId.MIC & 0xff;
    h[2] = flags;
    h.fill(0xff, 3, 8);
    writeSeq(h, this.nextSeq());
    const ck = makeChecksum(checksumTypeFor(key.enctype), key, this.usage('us', 'sign'), cat(message, h));
    return cat(h, ck);
  }

  verifyMIC(message: Uint8Array, token: Uint8Array): void {
    if (this.rc4) {
      this.window.accept(rc4VerifyMic(this.rc4, !this.o.isAcceptor, message, token));
      return;
    }
    if (token.length < HEADER || token[0] !== TokenId.MIC >>> 8 || token[1] !== (TokenId.MIC & 0xff)) {
      throw new GssError('DEFECTIVE_TOKEN', 'not an RFC 4121 MIC token (04 04)');
    }
    const flags = token[2] ?? 0;
    if ((flags & TokenFlag.SEALED) !== 0)
      throw new GssError('DEFECTIVE_TOKEN', 'MIC token with the Sealed flag');
    for (let i = 3; i < 8; i++)
      if (token[i] !== 0xff) throw new GssError('DEFECTIVE_TOKEN', 'MIC token filler is not FF');
    const key = this.receiveKey(flags);
    const h = token.subarray(0, HEADER);
    const ctype = checksumTypeFor(key.enctype);
    const want = makeChecksum(ctype, key, this.usage('peer', 'sign'), cat(message, h));
    if (!constantTimeEqual(want, token.subarray(HEADER)))
      throw new GssError('BAD_MIC', 'MIC does not verify (tampered message or wrong key)');
    this.window.accept(readSeq(h));
  }

  wrap(message: Uint8Array, confidential: boolean): Uint8Array {
    if (this.rc4)
      return rc4Wrap(this.rc4, this.nextSeq() >>> 0, this.o.isAcceptor, message, confidential, this.o.oid);
    const { key, flags } = this.sendKey();
    const h = new Uint8Array(HEADER);
    h[0] = TokenId.WRAP >>> 8;
    h[1] = TokenId.WRAP & 0xff;
    h[2] = flags | (confidential ? TokenFlag.SEALED : 0);
    h[3] = 0xff;
    writeSeq(h, this.nextSeq());
    const usage = this.usage('us', 'seal');
    if (confidential) {
      // EC = 0: RFC 3961 ciphertext needs no filler to avoid residue; RRC = 0 as MIT sends.
      return cat(h, encrypt(key, usage, cat(message, h)));
    }
    const ctype = checksumTypeFor(key.enctype);
    const ck = makeChecksum(ctype, key, usage, cat(message, h));
    const size = ck.length;
    h[4] = size >>> 8;
    h[5] = size & 0xff;
    return cat(cat(h, message), ck);
  }

  unwrap(token: Uint8Array): { message: Uint8Array; confidential: boolean } {
    if (this.rc4) {
      const { seq, message, confidential } = rc4Unwrap(this.rc4, !this.o.isAcceptor, token);
      this.window.accept(seq);
      return { message, confidential };
    }
    if (
      token.length < HEADER ||
      token[0] !== TokenId.WRAP >>> 8 ||
      token[1] !== (TokenId.WRAP & 0xff) ||
      token[3] !== 0xff
    ) {
      throw new GssError('DEFECTIVE_TOKEN', 'not an RFC 4121 Wrap token (05 04)');
    }
    const flags = token[2] ?? 0;
    const key = this.receiveKey(flags);
    const ec = ((token[4] ?? 0) << 8) | (token[5] ?? 0);
    const rrc = ((token[6] ?? 0) << 8) | (token[7] ?? 0);
    const h = token.subarray(0, HEADER);
    const body = unrotate(token.subarray(HEADER), rrc);
    const usage = this.usage('peer', 'seal');
    const confidential = (flags & TokenFlag.SEALED) !== 0;
    let message: Uint8Array;
    if (confidential) {
      let pt: Uint8Array;
      try {
        pt = decrypt(key, usage, body);
      } catch (e) {
        if (e instanceof CryptoError)
          throw new GssError('BAD_MIC', `Wrap token does not decrypt: ${e.message}`, { cause: e });
        throw e;
      }
      if (pt.length < HEADER + ec)
        throw new GssError('DEFECTIVE_TOKEN', 'Wrap token plaintext shorter than its header copy');
      const copy = pt.subarray(pt.length - HEADER);
      // RFC 4121 §4.2.4 puts RRC = 0 in the encrypted copy, but Windows SSPI writes the real RRC
      // there (MS-KILE §3.4.5.4.1); MIT ignores the copy's RRC (unwrap.c verify_enc_header), so do
      // we. Every other octet must match the clear header.
      for (let i = 0; i < HEADER; i++) {
        if (i === 6 || i === 7) continue;
        if (copy[i] !== h[i])
          throw new GssError('BAD_MIC', 'Wrap token header does not match its encrypted copy');
      }
      message = pt.slice(0, pt.length - HEADER - ec);
    } else {
      const size = checksumSize(checksumTypeFor(key.enctype));
      if (ec !== size || body.length < size)
        throw new GssError('DEFECTIVE_TOKEN', `Wrap token EC is ${ec}, expected checksum size ${size}`);
      message = body.slice(0, body.length - size);
      const zeroed = h.slice();
      zeroed.fill(0, 4, 8);
      const want = makeChecksum(checksumTypeFor(key.enctype), key, usage, cat(message, zeroed));
      if (!constantTimeEqual(want, body.subarray(body.length - size)))
        throw new GssError('BAD_MIC', 'Wrap token checksum does not verify');
    }
    this.window.accept(readSeq(h));
    return { message, confidential };
  }
}

/** An RFC 4121 token claimed a key that speaks RFC 4757 tokens only (or an export-grade key). */
function supported(key: Key): Key {
  if (key.enctype === Enctype.RC4_HMAC || key.enctype === Enctype.RC4_HMAC_EXP) {
    throw new GssError(
      'UNSUPPORTED_PER_MESSAGE',
      `an RFC 4121 token cannot be made or checked with an ${key.enctype === Enctype.RC4_HMAC ? 'rc4-hmac' : 'rc4-hmac-exp'} key`,
      {
        hint: 'rc4-hmac contexts use RFC 4757 tokens (01 01 / 02 01); the peer mixed the formats',
      },
    );
  }
  return key;
}
