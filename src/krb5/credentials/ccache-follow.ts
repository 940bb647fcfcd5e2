// Following a ccache the way MIT's tools share one: notice when the cache was replaced (the
// user ran kinit again) or destroyed (kdestroy), and write new tickets back merged with what
// is there now, never recreating a destroyed cache.
import { type Ccache, isConfigEntry } from '../../ccache/ccache.js';
import { type Principal, unparsePrincipal } from '../../ccache/principal-text.js';
import type { CcacheStore } from '../../ccache/store.js';
import { statFile } from '../../runtime/fs.js';

/** What a look at the store found. */
export type StoreChange =
  | { kind: 'unchanged' }
  | { kind: 'destroyed' }
  | { kind: 'replaced'; ccache: Ccache };

/** What identifies a cache's contents: the store's own notion (KCM), else its file's inode, size, mtime. */
export async function fileIdentity(store: CcacheStore): Promise<string | undefined> {
  if (store.identity) return store.identity();
  const m = /^(?:FILE:|DIR::)(.*)$/.exec(store.name);
  if (!m?.[1]) return undefined;
  const st = await statFile(m[1]);
  return st ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}` : undefined;
}

export class CcacheFollower {
  private identity: string | undefined;
  private lastCheck = Number.NEGATIVE_INFINITY;

  private constructor(
    readonly store: CcacheStore,
    private readonly intervalMs: number,
  ) {}

  static async start(store: CcacheStore, intervalMs: number): Promise<CcacheFollower> {
    const f = new CcacheFollower(store, intervalMs);
    f.identity = await fileIdentity(store);
    return f;
  }

  /** After writing the cache ourselves: what is there now is what we know. */
  async wrote(): Promise<void> {
    this.identity = await fileIdentity(this.store);
  }

  /** Whether the cache was replaced or destroyed since we last read or wrote it. */
  async check(now: number): Promise<StoreChange> {
    // A stat per request would dominate a warm ticket's cost: look at most every interval.
    if (now - this.lastCheck < this.intervalMs && now >= this.lastCheck) return { kind: 'unchanged' };
    this.lastCheck = now;
    const id = await fileIdentity(this.store);
    if (id === this.identity) return { kind: 'unchanged' };
    const fresh = await this.store.readIfExists();
    this.identity = id;
    return fresh ? { kind: 'replaced', ccache: fresh } : { kind: 'destroyed' };
  }

  /**
   * Writes `ours` back atomically, merged with what is there now; returns false (writing
   * nothing) when the cache is gone or now belongs to another principal. Throws on I/O failure.
   */
  async writeBack(ours: Ccache, principal: Principal, log: (m: string) => void): Promise<boolean> {
    if (this.store.add) return this.addNew(ours, principal, log);
    const onDisk = await this.store.readIfExists();
    // Gone means destroyed (kdestroy): as MIT's store_cred, never recreate it with our TGT.
    if (!onDisk) {
      log(`ccache ${this.store.name} no longer exists; not writing tickets back`);
      return false;
    }
    let target = ours;
    if ((await fileIdentity(this.store)) !== this.identity) {
      // Someone rewrote it (kinit, another process): add our tickets to theirs, keep theirs otherwise.
      if (unparsePrincipal(onDisk.defaultPrincipal) !== unparsePrincipal(principal)) return false;
      const have = new Set(onDisk.credentials.map((c) => unparsePrincipal(c.server)));
      const added = ours.credentials.filter(
        (c) => !isConfigEntry(c) && !have.has(unparsePrincipal(c.server)),
      );
      target = { ...onDisk, credentials: [...onDisk.credentials, ...added] };
    }
    await this.store.write(target);
    await this.wrote();
    return true;
  }

  /** For stores that take single credentials (KCM): store only what the cache does not hold yet. */
  private async addNew(ours: Ccache, principal: Principal, log: (m: string) => void): Promise<boolean> {
    const now = await this.store.readIfExists();
    if (!now) {
      log(`ccache ${this.store.name} no longer exists; not writing tickets back`);
      return false;
    }
    const held = new Set(now.credentials.map((c) => ticketKey(c.ticket)));
    const fresh = ours.credentials.filter((c) => !isConfigEntry(c) && !held.has(ticketKey(c.ticket)));
    if (fresh.length === 0) return true;
    const servers = new Set(fresh.map((c) => unparsePrincipal(c.server)));
    if (now.credentials.some((c) => servers.has(unparsePrincipal(c.server)))) {
      // A renewed TGT (or a ticket replacing an expired one): rewrite the cache with the new one
      // in place of the old, as MIT's kinit -R does, rather than keep both.
      if (unparsePrincipal(now.defaultPrincipal) !== unparsePrincipal(principal)) return false;
      const kept = now.credentials.filter((c) => !servers.has(unparsePrincipal(c.server)));
      await this.store.write({ ...now, credentials: [...kept, ...fresh] });
      await this.wrote();
      return true;
    }
    const stored = (await this.store.add?.(fresh, principal)) ?? false;
    if (stored) await this.wrote();
    return stored;
  }
}

function ticketKey(t: Uint8Array): string {
  let s = `${t.length}:`;
  for (const b of t) s += b.toString(16).padStart(2, '0');
  return s;
}
