// RFC 4422 §3.7: once a security layer is in effect, each wrapped buffer travels behind a
// 4-octet length in network order. These helpers frame outgoing buffers and cut incoming bytes
// into buffers, refusing a length over the size we announced before reading a byte of it.
import { SaslError } from './errors.js';

export function encodeSaslFrame(token: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + token.length);
  new DataView(out.buffer).setUint32(0, token.length);
  out.set(token, 4);
  return out;
}

export class SaslFrameReader {
  private pending: Uint8Array = new Uint8Array(0);
  /** `maxBufferSize`: the largest buffer we announced (what the peer may send). */
  constructor(private readonly maxBufferSize: number) {}

  /** Adds received bytes; returns every buffer now complete, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.pending.length + chunk.length);
    joined.set(this.pending);
    joined.set(chunk, this.pending.length);
    const out: Uint8Array[] = [];
    let at = 0;
    while (joined.length - at >= 4) {
      const n = new DataView(joined.buffer, joined.byteOffset + at, 4).getUint32(0);
      if (n > this.maxBufferSize)
        throw new SaslError(
          'BUFFER_TOO_LARGE',
          `the peer announces a ${n}-octet buffer; we accept at most ${this.maxBufferSize}`,
        );
      if (joined.length - at - 4 < n) break;
      out.push(joined.slice(at + 4, at + 4 + n));
      at += 4 + n;
    }
    this.pending = joined.slice(at);
    return out;
  }

  /** Bytes received that do not yet make a whole buffer. */
  get buffered(): number {
    return this.pending.length;
  }
}
