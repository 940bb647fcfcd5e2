// RFC 4120 §7.2.2 TCP framing, server side: a 4-byte big-endian length, then the message. The
// length is checked before anything is allocated for the body, so a 4 GiB prefix costs nothing.

export type FrameEvent = { kind: 'frame'; message: Uint8Array } | { kind: 'too-long'; length: number };

export class FrameReader {
  private header = new Uint8Array(4);
  private headerFill = 0;
  private body: Uint8Array | undefined;
  private bodyFill = 0;
  private failed = false;

  constructor(private readonly maxMessage: number) {}

  /** True when part of a frame has arrived and the rest has not. */
  get partial(): boolean {
    return this.headerFill > 0 || this.body !== undefined;
  }

  /**
   * Feeds a chunk; returns complete frames, and at most one `too-long` after which the reader
   * stops (the connection is to be closed: the rest of the stream cannot be resynchronised).
   */
  push(chunk: Uint8Array): FrameEvent[] {
    const out: FrameEvent[] = [];
    let c = chunk;
    while (c.length > 0 && !this.failed) {
      if (this.body === undefined) {
        const take = Math.min(4 - this.headerFill, c.length);
        this.header.set(c.subarray(0, take), this.headerFill);
        this.headerFill += take;
        c = c.subarray(take);
        if (this.headerFill < 4) break;
        const len = new DataView(this.header.buffer).getUint32(0);
        // The high bit is reserved for extensions we do not offer; RFC 4120 says: FIELD_TOOLONG.
        if (len & 0x80000000 || len > this.maxMessage) {
          this.failed = true;
          out.push({ kind: 'too-long', length: len });
          break;
        }
        this.body = new Uint8Array(len);
        this.bodyFill = 0;
      }
      const take = Math.min(this.body.length - this.bodyFill, c.length);
      this.body.set(c.subarray(0, take), this.bodyFill);
      this.bodyFill += take;
      c = c.subarray(take);
      if (this.bodyFill === this.body.length) {
        out.push({ kind: 'frame', message: this.body });
        this.body = undefined;
        this.headerFill = 0;
      }
    }
    return out;
  }
}

export function frame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + message.length);
  new DataView(out.buffer).setUint32(0, message.length);
  out.set(message, 4);
  return out;
}
