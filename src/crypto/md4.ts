// MD4, RFC 1320. Kerberos needs it only for the RC4-HMAC string-to-key (RFC 4757 §2: the key is
// the Windows "NT hash", MD4 of the UTF-16LE password); @noble/hashes does not ship MD4.
// MD4 is broken as a hash: nothing else in this project may use it.

// RFC 1320 §3.4: per-round shift amounts (they repeat every four steps) and additive constants.
const S1 = [3, 7, 11, 19];
const S2 = [3, 5, 9, 13];
const S3 = [3, 9, 11, 15];
const C2 = 0x5a827999; // floor(2^30 * sqrt(2))
const C3 = 0x6ed9eba1; // floor(2^30 * sqrt(3))
// Round 3 visits the words in bit-reversed order of their index.
const K3 = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];

const rotl = (x: number, s: number): number => (x << s) | (x >>> (32 - s));

export function md4(data: Uint8Array): Uint8Array {
  // §3.1-3.2: a 0x80 byte, zeros up to 56 mod 64, then the bit length as a 64-bit little-endian.
  const len = data.length;
  const padded = new Uint8Array((Math.floor((len + 8) / 64) + 1) * 64);
  padded.set(data);
  padded[len] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, (len * 8) >>> 0, true);
  view.setUint32(padded.length - 4, Math.floor(len / 2 ** 29), true);

  // RFC 1320 §3.3: initial chaining values.
  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const x = new Uint32Array(16);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) x[i] = view.getUint32(off + 4 * i, true);
    let A = a;
    let B = b;
    let C = c;
    let D = d;
    // Each step updates one register and the roles rotate (a, b, c, d) -> (d, a, b, c): the
    // shuffle at the end of a step is that rotation, so one loop body serves all sixteen steps.
    for (let i = 0; i < 48; i++) {
      let f: number;
      let k: number;
      let s: number;
      if (i < 16) {
        f = ((B & C) | (~B & D)) + x[i]!;
        s = S1[i & 3]!;
      } else if (i < 32) {
        k = ((i & 3) << 2) | ((i - 16) >>> 2);
        f = ((B & C) | (B & D) | (C & D)) + x[k]! + C2;
        s = S2[i & 3]!;
      } else {
        k = K3[i - 32]!;
        f = (B ^ C ^ D) + x[k]! + C3;
        s = S3[i & 3]!;
      }
      const t = rotl((A + f) | 0, s);
      A = D;
      D = C;
      C = B;
      B = t;
    }
    a = (a + A) | 0;
    b = (b + B) | 0;
    c = (c + C) | 0;
    d = (d + D) | 0;
  }
  const out = new Uint8Array(16);
  const ov = new DataView(out.buffer);
  ov.setUint32(0, a, true);
  ov.setUint32(4, b, true);
  ov.setUint32(8, c, true);
  ov.setUint32(12, d, true);
  x.fill(0);
  padded.fill(0);
  return out;
}
