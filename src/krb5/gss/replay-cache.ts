// An in-memory, bounded replay cache for AP-REQ authenticators (RFC 4120 §3.2.3). Entries are
// keyed by a hash of the authenticator ciphertext — as MIT's rcache does since 1.18 — and
// live until the authenticator could no longer pass the clock-skew check. When full, the
// oldest entries go first: a flood of fresh authenticators cannot grow it without bound.
import { sha256 } from '@noble/hashes/sha2.js';
import { ConfigError } from '../../errors.js';

export interface ReplayCacheOptions {
  /** Most entries kept (default 100 000). */
  maxEntries?: number;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export class ReplayCache {
  private readonly entries = new Map<string, number>();
  private readonly max: number;
  constructor(opts: ReplayCacheOptions = {}) {
    const max = opts.maxEntries ?? 100_000;
    // NaN or Infinity would silently remove the bound that keeps a flood from growing the cache.
    if (!Number.isFinite(max))
      throw new ConfigError('BAD_OPTION', `replay cache maxEntries must be a finite number, got ${max}`);
    this.max = Math.max(1, Math.floor(max));
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Records the authenticator; false when it was already seen (a replay). `expiresAtMs` is the
   * last instant the authenticator can still pass the clock-skew check (its time plus the skew):
   * the entry is kept up to and including it.
   */
  checkAndStore(authenticatorCipher: Uint8Array, expiresAtMs: number, nowMs: number): boolean {
    // Entries are inserted in arrival order; skew is constant, so expiry is nearly ordered too.
    for (const [k, exp] of this.entries) {
      if (exp >= nowMs) break;
      this.entries.delete(k);
    }
    const tag = hex(sha256(authenticatorCipher));
    const seen = this.entries.get(tag);
    if (seen !== undefined && seen >= nowMs) return false;
    this.entries.delete(tag);
    this.entries.set(tag, expiresAtMs);
    while (this.entries.size > this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    return true;
  }
}

/** The process-wide cache acceptors share unless given their own. */
export const defaultReplayCache = new ReplayCache();
