// Replay caches a server can share: the per-host file cache (the default; it lives with the
// mechanism in src/krb5/gss/replay-cache-file.ts so that the SASL server can default to it too),
// and a Redis-backed one for servers behind a load balancer on several hosts. Both implement the
// small `ReplayCache` interface of src/krb5/gss/replay-cache.ts (MemoryReplayCache is the third).
import { bytesToHex } from '@noble/hashes/utils.js';
import {
  MemoryReplayCache,
  type ReplayCache,
  ReplayCacheError,
  type ReplayCacheOptions,
  replayBound,
} from '../krb5/gss/replay-cache.js';

export { FileReplayCache, type FileReplayCacheOptions } from '../krb5/gss/replay-cache-file.js';
export { MemoryReplayCache, type ReplayCache, ReplayCacheError, type ReplayCacheOptions };

const TAG = 16;

/**
 * The part of a Redis client this cache uses: `set`, as both `redis` (node-redis v4+:
 * `set(key, value, { NX: true, PX: ms })`) and `ioredis` (`set(key, value, 'PX', ms, 'NX')`)
 * spell it. Resolves to `'OK'` when the key was set, null when it existed.
 */
export interface RedisClientLike {
  set(key: string, value: string, ...options: unknown[]): unknown;
}

export interface RedisReplayCacheOptions {
  /** Key prefix (default `spnego:rcache:`); one per service if several share a Redis. */
  prefix?: string;
  /**
   * Which calling convention the client has; default: `ioredis` when it has `defineCommand`,
   * else `redis` (node-redis).
   */
  api?: 'redis' | 'ioredis';
  /**
   * Longest wait for Redis's answer, ms (default 2000). Clients queue commands while they
   * reconnect; past this the authenticator is refused (REPLAY_CACHE_UNAVAILABLE) instead of the
   * request hanging.
   */
  timeoutMs?: number;
  /**
   * How far apart the clocks of the servers sharing this Redis may be, ms (default 60000). A key
   * is kept this long past the instant the writing server's clock says the authenticator can no
   * longer pass the skew check, so a server whose clock runs behind still finds it.
   */
  clockSpreadMs?: number;
}

/**
 * A replay cache on Redis, for servers on several hosts: one atomic `SET key 1 NX PX ttl` per
 * authenticator, so exactly one of any number of servers sees it first. Redis expires the keys
 * itself. The client is the caller's (connected, reconnecting as they configure it); when Redis
 * fails, authenticators are refused (`REPLAY_CACHE_UNAVAILABLE`), never accepted unchecked.
 */
export class RedisReplayCache implements ReplayCache {
  private readonly prefix: string;
  private readonly ioredis: boolean;
  private readonly timeoutMs: number;
  private readonly clockSpreadMs: number;

  constructor(
    private readonly client: RedisClientLike,
    opts: RedisReplayCacheOptions = {},
  ) {
    if (typeof client !== 'object' || client === null || typeof client.set !== 'function')
      throw new ReplayCacheError(
        'BAD_OPTION',
        'RedisReplayCache needs a redis or ioredis client (with set())',
      );
    this.prefix = opts.prefix ?? 'spnego:rcache:';
    this.timeoutMs = replayBound('timeoutMs', opts.timeoutMs, 2000);
    this.clockSpreadMs = replayBound('clockSpreadMs', opts.clockSpreadMs, 60_000);
    this.ioredis =
      opts.api === undefined
        ? typeof (client as { defineCommand?: unknown }).defineCommand === 'function'
        : opts.api === 'ioredis';
  }

  async checkAndStore(tag: Uint8Array, expiresAtMs: number, nowMs: number): Promise<boolean> {
    if (expiresAtMs < nowMs) return true;
    const key = this.prefix + bytesToHex(tag.subarray(0, TAG));
    // Kept past the last instant the authenticator passes the skew check on this server's clock
    // by the spread allowed between servers' clocks: another server sharing this Redis may be
    // behind (it would otherwise accept the replay once the key is gone).
    const ttl = Math.max(1, Math.ceil(expiresAtMs - nowMs) + this.clockSpreadMs);
    let reply: unknown;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const set = Promise.resolve(
        this.ioredis
          ? this.client.set(key, '1', 'PX', ttl, 'NX')
          : this.client.set(key, '1', {
              NX: true,
              PX: ttl,
              condition: 'NX',
              expiration: { type: 'PX', value: ttl },
            }),
      );
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      });
      // A late answer must not become an unhandled rejection.
      set.catch(() => undefined);
      reply = await Promise.race([set, timeout]);
    } catch (e) {
      throw new ReplayCacheError(
        'REPLAY_CACHE_UNAVAILABLE',
        `the Redis replay cache failed: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e, hint: 'authenticators are refused while Redis cannot record them' },
      );
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    if (reply === 'OK') return true;
    if (reply === null || reply === undefined) return false;
    throw new ReplayCacheError(
      'REPLAY_CACHE_UNAVAILABLE',
      `the Redis replay cache answered SET with ${String(reply)}`,
    );
  }
}
