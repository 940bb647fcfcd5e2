// Replay caches for AP-REQ authenticators (RFC 4120 §3.2.3). An authenticator is identified by a
// hash of its ciphertext — as MIT's rcache does since 1.18 — and must be remembered until it
// could no longer pass the clock-skew check (its ctime plus the skew). An entry still inside
// that window is NEVER forgotten: a cache that evicted live entries when full would let any user
// of the realm flush it and then replay a captured header. When full, a cache refuses new
// authenticators instead (ReplayCacheError `REPLAY_CACHE_FULL`), as MIT's rcache fails rather
// than forgets.
//
// This module is sans-I/O: the interface every cache implements, the in-memory cache, and the
// compact tag set the per-host file cache (src/server) builds on. The file and Redis caches live
// with the server, which owns I/O.
import { sha256 } from '@noble/hashes/sha2.js';
import { ConfigError, SpnegoError } from '../../errors.js';

/**
 * What an acceptor needs from a replay cache: one atomic check-and-record.
 *
 * `tag` identifies the authenticator (the acceptor passes `replayTag(ciphertext)`, 32 bytes);
 * `expiresAtMs` is the last instant it could pass the clock-skew check; the cache must remember
 * it at least until then. Answer `true` when the tag was new and is now recorded, `false` when it
 * was already recorded (a replay). When the cache can neither check nor record (full,
 * unreachable, unwritable), throw: the acceptor then refuses the authenticator, never accepts it.
 */
export interface ReplayCache {
  checkAndStore(tag: Uint8Array, expiresAtMs: number, nowMs: number): boolean | Promise<boolean>;
}

/**
 * A replay cache that cannot do its job. Codes: `REPLAY_CACHE_FULL` (its bound is reached: new
 * authenticators are refused until old ones expire), `REPLAY_CACHE_UNAVAILABLE` (I/O or store
 * failure). Both are the server's problem, not the client's: servers answer 503.
 */
export class ReplayCacheError extends SpnegoError {}

/** The tag the acceptor records: SHA-256 of the authenticator ciphertext (MIT 1.18+ hashes it too). */
export function replayTag(authenticatorCipher: Uint8Array): Uint8Array {
  return sha256(authenticatorCipher);
}

/**
 * A set of 64-bit tag prefixes: open addressing over one Uint32Array (two words a slot, linear
 * probing, kept at most half full). About 16–32 bytes an entry, against ~150 for a Map of hex
 * strings, and no per-entry garbage. Tags are hash outputs, so their low bits index directly.
 */
export class TagSet {
  private slots: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(initialSlots = 1024) {
    let n = 16;
    while (n < initialSlots) n *= 2;
    this.slots = new Uint32Array(n * 2);
    this.mask = n - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes of memory the table holds. */
  get bytes(): number {
    return this.slots.byteLength;
  }

  /** Bytes the table would hold after the next insertion (it doubles at half full). */
  bytesAfterInsert(): number {
    return (this.count + 1) * 2 > this.mask + 1 ? this.slots.byteLength * 2 : this.slots.byteLength;
  }

  private static key(tag: Uint8Array): [number, number] {
    const hi = (((tag[0] ?? 0) << 24) | ((tag[1] ?? 0) << 16) | ((tag[2] ?? 0) << 8) | (tag[3] ?? 0)) >>> 0;
    let lo = (((tag[4] ?? 0) << 24) | ((tag[5] ?? 0) << 16) | ((tag[6] ?? 0) << 8) | (tag[7] ?? 0)) >>> 0;
    // 0/0 marks an empty slot; folding one value onto another costs a bit of one tag in 2^64.
    if (hi === 0 && lo === 0) lo = 1;
    return [hi, lo];
  }

  private find(hi: number, lo: number): number {
    let i = (lo ^ hi) & this.mask;
    for (;;) {
      const h = this.slots[i * 2] ?? 0;
      const l = this.slots[i * 2 + 1] ?? 0;
      if (h === 0 && l === 0) return ~i;
      if (h === hi && l === lo) return i;
      i = (i + 1) & this.mask;
    }
  }

  has(tag: Uint8Array): boolean {
    const [hi, lo] = TagSet.key(tag);
    return this.find(hi, lo) >= 0;
  }

  /** Adds the tag; false when it was already there. */
  add(tag: Uint8Array): boolean {
    const [hi, lo] = TagSet.key(tag);
    let at = this.find(hi, lo);
    if (at >= 0) return false;
    if ((this.count + 1) * 2 > this.mask + 1) {
      this.grow();
      at = this.find(hi, lo);
    }
    const i = ~at;
    this.slots[i * 2] = hi;
    this.slots[i * 2 + 1] = lo;
    this.count++;
    return true;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.mask = old.length - 1;
    for (let i = 0; i < old.length; i += 2) {
      const hi = old[i] ?? 0;
      const lo = old[i + 1] ?? 0;
      if (hi === 0 && lo === 0) continue;
      const at = ~this.find(hi, lo);
      this.slots[at * 2] = hi;
      this.slots[at * 2 + 1] = lo;
    }
  }
}

/**
 * Entries are grouped by when they expire, in buckets this wide: a whole bucket is dropped once
 * its last instant has passed, so expiry costs nothing per entry and never touches a live one.
 */
export const REPLAY_BUCKET_MS = 60_000;

export interface ReplayCacheOptions {
  /**
   * Most live entries (default 1,000,000). Past it (or past `maxBytes`) new authenticators are
   * refused until old ones expire; live entries are never evicted.
   */
  maxEntries?: number;
  /** Most bytes of memory the entries may take (default 64 MiB; an entry takes 16–32 bytes). */
  maxBytes?: number;
}

const DEFAULT_MAX_ENTRIES = 1_000_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** Checks a numeric bound option: finite (NaN or Infinity would silently remove the bound), >= 1. */
export function replayBound(name: string, value: number | undefined, dflt: number): number {
  const v = value ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ConfigError('BAD_OPTION', `replay cache ${name} must be a finite number, got ${String(v)}`);
  return Math.max(1, Math.floor(v));
}

function fullError(what: string): ReplayCacheError {
  return new ReplayCacheError(
    'REPLAY_CACHE_FULL',
    `the replay cache is full (${what}): refusing new authenticators until old ones expire (live entries are never evicted)`,
    { hint: 'raise the replay cache bound (maxEntries / maxBytes), or find who floods this service' },
  );
}

/**
 * The in-memory replay cache: one process only (tests, or a single-process server that accepts
 * that a restart forgets). Grows as needed up to its bounds, then refuses.
 */
export class MemoryReplayCache implements ReplayCache {
  private readonly buckets = new Map<number, TagSet>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private entries = 0;
  private bytes = 0;

  constructor(opts: ReplayCacheOptions = {}) {
    this.maxEntries = replayBound('maxEntries', opts.maxEntries, DEFAULT_MAX_ENTRIES);
    this.maxBytes = replayBound('maxBytes', opts.maxBytes, DEFAULT_MAX_BYTES);
  }

  /** Live entries held. */
  get size(): number {
    return this.entries;
  }

  private prune(nowMs: number): void {
    for (const [b, set] of this.buckets) {
      if ((b + 1) * REPLAY_BUCKET_MS > nowMs) continue;
      this.entries -= set.size;
      this.bytes -= set.bytes;
      this.buckets.delete(b);
    }
  }

  checkAndStore(tag: Uint8Array, expiresAtMs: number, nowMs: number): boolean {
    this.prune(nowMs);
    // Already past its window: it cannot pass the skew check, so it needs no room.
    if (expiresAtMs < nowMs) return true;
    const b = Math.floor(expiresAtMs / REPLAY_BUCKET_MS);
    let set = this.buckets.get(b);
    if (set?.has(tag)) return false;
    if (this.entries >= this.maxEntries)
      throw fullError(`${this.entries} live entries, maxEntries ${this.maxEntries}`);
    if (!set) {
      set = new TagSet(64);
      if (this.bytes + set.bytes > this.maxBytes) throw fullError(`maxBytes ${this.maxBytes}`);
      this.buckets.set(b, set);
      this.bytes += set.bytes;
    }
    const grown = set.bytesAfterInsert() - set.bytes;
    if (this.bytes + grown > this.maxBytes)
      throw fullError(`${this.entries} live entries in ${this.bytes} bytes, maxBytes ${this.maxBytes}`);
    set.add(tag);
    this.bytes += grown;
    this.entries++;
    return true;
  }
}

/**
 * The in-memory cache under its former name, so `new ReplayCache()` keeps working.
 * @deprecated use MemoryReplayCache (or, in servers, the default per-host file cache).
 */
export const ReplayCache = MemoryReplayCache;

/** The process-wide in-memory cache GSS acceptors share unless given one (servers default to a per-host file). */
export const defaultReplayCache: ReplayCache = new MemoryReplayCache();
