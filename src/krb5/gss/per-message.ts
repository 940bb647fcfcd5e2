// RFC 4121 §4.2 per-message tokens: MIC (04 04) and Wrap (05 04), for the RFC 3961 enctypes
// with the "new" token format (AES-SHA1, AES-SHA2). rc4-hmac contexts would need the RFC 4757 §7
// (RFC 1964-style) tokens, which are not implemented: they fail with UNSUPPORTED_PER_MESSAGE.
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
  constructor(private readonly o: ProtectionOptions) {
    this.sendSeq = o.sendSeq;
    this.window = new SequenceWindow(o.recvSeq, o.replayDetection, o.sequenceDetection);
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
    this.sendSeq = s + 1;
    return s;
  }

  getMIC(message: Uint8Array): Uint8Array {
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
      // The encrypted header copy carries RRC = 0; everything else must match the clear header.
      for (let i = 0; i < HEADER; i++) {
        const expect = i === 6 || i === 7 ? 0 : h[i];
        if (copy[i] !== expect)
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

function supported(key: Key): Key {
  if (key.enctype === Enctype.RC4_HMAC || key.enctype === Enctype.RC4_HMAC_EXP) {
    throw new GssError(
      'UNSUPPORTED_PER_MESSAGE',
      'MIC/Wrap with an rc4-hmac session key (RFC 4757 §7 tokens) is not supported',
      {
        hint: 'give the service principal AES keys (most KDCs do by default); authentication itself works with rc4-hmac',
      },
    );
  }
  return key;
}
