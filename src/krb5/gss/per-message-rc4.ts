// RFC 4757 §7: MIC (01 01) and Wrap (02 01) tokens of rc4-hmac contexts — RFC 1964's token layout
// with HMAC-MD5 signatures and RC4 sealing, as Windows (and MIT for arcfour-hmac) send them:
//
//   TOK_ID(2) SGN_ALG(2)=11 00 SEAL_ALG(2)=10 00|FF FF Filler(2)=FF FF SND_SEQ(8) SGN_CKSUM(8)
//   [Wrap only: Confounder(8) Data Padding(1 octet, value 1)]
//
// inside the RFC 2743 framing (60 … OID). SGN_CKSUM is the first 8 octets of the hmac-md5
// checksum (usage 15 for MIC, 13 for Wrap) over the first 8 header octets then the data;
// SND_SEQ is the big-endian sequence number plus four direction octets (00 from the initiator,
// FF from the acceptor), RC4-encrypted under a key made from SGN_CKSUM. MIT accepts tokens with or
// without the framing, and padding of any length the plaintext can hold; we do the same.

import { OID_KRB5 } from '../../asn1/index.js';
import {
  constantTimeEqual,
  hmacMd5Checksum,
  type Key,
  randomBytes,
  rc4HmacGssSealCrypt,
  rc4HmacGssSeqCrypt,
} from '../../crypto/index.js';
import { GssError } from './errors.js';
import { decodeKrb5Token, encodeKrb5Token } from './framing.js';

export const TOK_MIC_V1 = 0x0101;
export const TOK_WRAP_V1 = 0x0201;
/** SGN_ALG HMAC-MD5 and SEAL_ALG RC4 as they appear on the wire (little-endian 0x0011, 0x0010). */
const SGN_ALG_HMAC_MD5 = [0x11, 0x00] as const;
const SEAL_ALG_RC4 = [0x10, 0x00] as const;
/** RFC 4757 §7.3 key usages of the signature checksum. */
const USAGE_MIC = 15;
const USAGE_WRAP = 13;
const CONFOUNDER = 8;
const CKSUM = 8;
/** TOK_ID through SGN_CKSUM. */
const HEADER = 24;

export interface Rc4Token {
  seq: number;
  message: Uint8Array;
  confidential: boolean;
}

function header(tokId: number, sealed: boolean | undefined): Uint8Array {
  const h = new Uint8Array(HEADER);
  h[0] = tokId >>> 8;
  h[1] = tokId & 0xff;
  h[2] = SGN_ALG_HMAC_MD5[0];
  h[3] = SGN_ALG_HMAC_MD5[1];
  h.fill(0xff, 4, 8);
  if (sealed) {
    h[4] = SEAL_ALG_RC4[0];
    h[5] = SEAL_ALG_RC4[1];
  }
  return h;
}

function signature(key: Key, usage: number, h: Uint8Array, data: Uint8Array): Uint8Array {
  const input = new Uint8Array(8 + data.length);
  input.set(h.subarray(0, 8));
  input.set(data, 8);
  return hmacMd5Checksum(key.bytes, usage, input).subarray(0, CKSUM);
}

/** Fills SGN_CKSUM and the encrypted SND_SEQ of `h`. */
function sign(key: Key, h: Uint8Array, cksum: Uint8Array, seq: number, fromAcceptor: boolean): void {
  h.set(cksum, 16);
  const plain = new Uint8Array(8);
  plain[0] = seq >>> 24;
  plain[1] = (seq >>> 16) & 0xff;
  plain[2] = (seq >>> 8) & 0xff;
  plain[3] = seq & 0xff;
  plain.fill(fromAcceptor ? 0xff : 0x00, 4);
  h.set(rc4HmacGssSeqCrypt(key, cksum, plain), 8);
}

function frame(h: Uint8Array, rest: Uint8Array | undefined, oid: string): Uint8Array {
  const body = new Uint8Array(HEADER - 2 + (rest?.length ?? 0));
  body.set(h.subarray(2));
  if (rest) body.set(rest, HEADER - 2);
  return encodeKrb5Token((h[0]! << 8) | h[1]!, body, oid);
}

/** The token without its RFC 2743 framing (MIT accepts both), TOK_ID first. */
function inner(token: Uint8Array): Uint8Array {
  if (token[0] !== 0x60) return token;
  const t = decodeKrb5Token(token);
  const out = new Uint8Array(2 + t.body.length);
  out[0] = t.tokId >>> 8;
  out[1] = t.tokId & 0xff;
  out.set(t.body, 2);
  return out;
}

/** Decrypts SND_SEQ: the sequence number and the direction octet (checked by `checkDirection`). */
function openSeq(key: Key, h: Uint8Array): { seq: number; dir: number } {
  const plain = rc4HmacGssSeqCrypt(key, h.subarray(16, 24), h.subarray(8, 16));
  const dir = plain[4]!;
  if (plain[5] !== dir || plain[6] !== dir || plain[7] !== dir) {
    throw new GssError('BAD_MIC', 'RC4 token sequence number does not decrypt (wrong key or tampered)');
  }
  return { seq: ((plain[0]! << 24) | (plain[1]! << 16) | (plain[2]! << 8) | plain[3]!) >>> 0, dir };
}

/** After the checksum, as MIT: the peer's tokens carry its own direction octet. */
function checkDirection(dir: number, fromAcceptor: boolean): void {
  if (dir === (fromAcceptor ? 0xff : 0x00)) return;
  if (dir === 0x00 || dir === 0xff)
    throw new GssError('DEFECTIVE_TOKEN', 'per-message token was sent in our own direction (reflected)');
  throw new GssError('BAD_MIC', 'RC4 token direction octets are neither 00 nor FF');
}

export function rc4GetMic(
  key: Key,
  seq: number,
  fromAcceptor: boolean,
  message: Uint8Array,
  oid = OID_KRB5,
): Uint8Array {
  const h = header(TOK_MIC_V1, undefined);
  sign(key, h, signature(key, USAGE_MIC, h, message), seq, fromAcceptor);
  return frame(h, undefined, oid);
}

/** Verifies a peer's MIC; `fromAcceptor` is the direction the peer sends in. Returns its seq. */
export function rc4VerifyMic(
  key: Key,
  fromAcceptor: boolean,
  message: Uint8Array,
  token: Uint8Array,
): number {
  const t = inner(token);
  if (t.length !== HEADER || ((t[0]! << 8) | t[1]!) !== TOK_MIC_V1) {
    throw new GssError('DEFECTIVE_TOKEN', 'not an RFC 4757 MIC token (01 01, 24 octets)');
  }
  if (t[2] !== SGN_ALG_HMAC_MD5[0] || t[3] !== SGN_ALG_HMAC_MD5[1]) {
    throw new GssError('DEFECTIVE_TOKEN', 'RC4 MIC token with a signature algorithm other than HMAC-MD5');
  }
  for (let i = 4; i < 8; i++)
    if (t[i] !== 0xff) throw new GssError('DEFECTIVE_TOKEN', 'RC4 MIC token filler is not FF');
  const { seq, dir } = openSeq(key, t);
  if (!constantTimeEqual(signature(key, USAGE_MIC, t, message), t.subarray(16, 24))) {
    throw new GssError('BAD_MIC', 'MIC does not verify (tampered message or wrong key)');
  }
  checkDirection(dir, fromAcceptor);
  return seq;
}

/** `confounder` is for fixed test vectors only. */
export function rc4Wrap(
  key: Key,
  seq: number,
  fromAcceptor: boolean,
  message: Uint8Array,
  confidential: boolean,
  oid = OID_KRB5,
  confounder: Uint8Array = randomBytes(CONFOUNDER),
): Uint8Array {
  if (confounder.length !== CONFOUNDER) {
    throw new GssError('DEFECTIVE_TOKEN', `confounder must be ${CONFOUNDER} octets`);
  }
  const h = header(TOK_WRAP_V1, confidential);
  // RC4 is a stream cipher: one octet of padding (value 1) is all RFC 4757 §7.3 adds.
  const plain = new Uint8Array(CONFOUNDER + message.length + 1);
  plain.set(confounder);
  plain.set(message, CONFOUNDER);
  plain[plain.length - 1] = 1;
  sign(key, h, signature(key, USAGE_WRAP, h, plain), seq, fromAcceptor);
  return frame(h, confidential ? rc4HmacGssSealCrypt(key, seq, plain) : plain, oid);
}

/** Unwraps a peer's Wrap token; `fromAcceptor` is the direction the peer sends in. */
export function rc4Unwrap(key: Key, fromAcceptor: boolean, token: Uint8Array): Rc4Token {
  const t = inner(token);
  if (t.length < HEADER + CONFOUNDER + 1 || ((t[0]! << 8) | t[1]!) !== TOK_WRAP_V1) {
    throw new GssError('DEFECTIVE_TOKEN', 'not an RFC 4757 Wrap token (02 01) or too short');
  }
  if (t[2] !== SGN_ALG_HMAC_MD5[0] || t[3] !== SGN_ALG_HMAC_MD5[1] || t[6] !== 0xff || t[7] !== 0xff) {
    throw new GssError('DEFECTIVE_TOKEN', 'RC4 Wrap token with a bad signature algorithm or filler');
  }
  const sealed = t[4] === SEAL_ALG_RC4[0] && t[5] === SEAL_ALG_RC4[1];
  if (!sealed && (t[4] !== 0xff || t[5] !== 0xff)) {
    throw new GssError('DEFECTIVE_TOKEN', 'RC4 Wrap token with a sealing algorithm other than RC4 or none');
  }
  const { seq, dir } = openSeq(key, t);
  const body = t.subarray(HEADER);
  const plain = sealed ? rc4HmacGssSealCrypt(key, seq, body) : body;
  const pad = plain[plain.length - 1]!;
  // As MIT: an impossible padding length is reported as a bad checksum, after the check, so the
  // answer does not tell a padding failure from a MAC failure.
  const badPad = pad > plain.length - CONFOUNDER;
  if (!constantTimeEqual(signature(key, USAGE_WRAP, t, plain), t.subarray(16, 24)) || badPad) {
    throw new GssError('BAD_MIC', 'Wrap token checksum does not verify (tampered or wrong key)');
  }
  checkDirection(dir, fromAcceptor);
  return { seq, message: plain.slice(CONFOUNDER, plain.length - pad), confidential: sealed };
}
