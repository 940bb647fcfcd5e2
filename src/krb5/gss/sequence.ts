// Receive-side sequence checks for per-message tokens (RFC 2743 §1.2.3, RFC 4121 §4.2.1):
// with REPLAY a token seen before is refused (DUPLICATE_TOKEN) and one too old to judge is
// refused (OLD_TOKEN); with SEQUENCE a late token is refused too (UNSEQ_TOKEN). A gap — tokens
// lost in between — is only supplementary information in GSS, so the token is accepted.
import { GssError } from './errors.js';

/** How far back duplicates are remembered. */
const WINDOW = 64;

export class SequenceWindow {
  private next: number;
  private readonly seen = new Set<number>();
  constructor(
    initial: number,
    private readonly replay: boolean,
    private readonly sequence: boolean,
    /** RFC 4757 tokens carry 32-bit sequence numbers that wrap around (RFC 4121 ones 64-bit). */
    private readonly bits: 32 | 64 = 64,
  ) {
    this.next = initial;
  }

  /** Checks `seq` and records it; throws GssError when the token must be refused. */
  accept(wireSeq: number): void {
    if (!this.replay && !this.sequence) return;
    // A 32-bit number is read as the one nearest to the next expected, so 0 follows 2^32 - 1.
    let seq = wireSeq;
    if (this.bits === 32) {
      const d = (wireSeq - (this.next % 0x100000000) + 0x100000000) % 0x100000000;
      seq = d >= 0x80000000 ? this.next - (0x100000000 - d) : this.next + d;
    }
    if (seq >= this.next) {
      this.seen.add(seq);
      this.next = seq + 1;
      for (const s of this.seen) if (s < this.next - WINDOW) this.seen.delete(s);
      return;
    }
    if (this.next - seq > WINDOW) {
      throw new GssError(
        'OLD_TOKEN',
        `per-message token with sequence number ${seq} is too old (expected ${this.next})`,
      );
    }
    if (this.seen.has(seq)) {
      throw new GssError(
        'DUPLICATE_TOKEN',
        `per-message token with sequence number ${seq} was already received (replay)`,
      );
    }
    if (this.sequence) {
      throw new GssError(
        'UNSEQ_TOKEN',
        `per-message token with sequence number ${seq} arrived out of order (expected ${this.next})`,
      );
    }
    this.seen.add(seq);
  }
}
