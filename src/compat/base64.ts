// base64 as the native `kerberos` addon reads and writes it: encoding is standard with padding;
// decoding takes four characters at a time (`=` allowed in the last two), and any character
// outside the alphabet makes the whole result empty rather than an error — callers then meet
// the GSS error for an empty token, as with the addon.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const INDEX = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) INDEX[ALPHABET.charCodeAt(i)] = i;

function value(c: number): number {
  return c < 128 ? (INDEX[c] ?? -1) : -1;
}

export function encodeNative(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = ((bytes[i] ?? 0) << 16) | (rest > 1 ? (bytes[i + 1] ?? 0) << 8 : 0);
    const third = rest > 1 ? ALPHABET[(n >>> 6) & 63]! : '=';
    out += `${ALPHABET[n >>> 18]!}${ALPHABET[(n >>> 12) & 63]!}${third}=`;
  }
  return out;
}

export function decodeNative(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4) + 1);
  let n = 0;
  for (let i = 0; i < text.length; i += 4) {
    const c1 = value(text.charCodeAt(i));
    const c2 = i + 1 < text.length ? value(text.charCodeAt(i + 1)) : -1;
    const r3 = i + 2 < text.length ? text.charCodeAt(i + 2) : -1;
    const r4 = i + 3 < text.length ? text.charCodeAt(i + 3) : -1;
    const c3 = r3 === 61 ? -2 : r3 < 0 ? -1 : value(r3);
    const c4 = r4 === 61 ? -2 : r4 < 0 ? -1 : value(r4);
    if (c1 < 0 || c2 < 0 || c3 === -1 || c4 === -1) return new Uint8Array(0);
    out[n++] = (c1 << 2) | (c2 >> 4);
    if (c3 !== -2) {
      out[n++] = ((c2 << 4) & 0xf0) | (c3 >> 2);
      if (c4 !== -2) out[n++] = ((c3 << 6) & 0xc0) | c4;
    }
  }
  return out.slice(0, n);
}
