// Strict base64 (RFC 4648 §4, with padding optional) for Negotiate tokens. Our own codec rather
// than atob/Buffer: atob accepts whitespace and throws a DOMException, Buffer is Node-only and
// silently skips garbage. A token68 may also carry `-._~`, which base64 does not allow: those
// are typed errors here, never a crash.
import { SPNEGOExchangeError } from '../errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export function base64Encode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] ?? 0) << 16;
    out += `${ALPHABET[n >>> 18]!}${ALPHABET[(n >>> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8);
    out += `${ALPHABET[n >>> 18]!}${ALPHABET[(n >>> 12) & 63]!}${ALPHABET[(n >>> 6) & 63]!}=`;
  }
  return out;
}

function bad(reason: string): SPNEGOExchangeError {
  return new SPNEGOExchangeError(
    'BAD_TOKEN_ENCODING',
    `the server's Negotiate token is not valid base64: ${reason}`,
    {
      hint: 'the server (or something between us) sent a corrupt WWW-Authenticate header',
    },
  );
}

/** Decodes standard base64; padding may be omitted, anything else outside the alphabet is an error. */
export function base64Decode(text: string): Uint8Array {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--;
  const pad = text.length - end;
  if (pad > 2) throw bad('too much padding');
  if (end % 4 === 1) throw bad('impossible length');
  if (pad > 0 && (end + pad) % 4 !== 0) throw bad('wrong padding');
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? (DECODE[c] ?? -1) : -1;
    if (v < 0) throw bad(`character ${JSON.stringify(text[i])} at ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}
