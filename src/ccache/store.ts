// A named credential cache you can read, write and destroy, whatever its type: FILE: (one
// file), DIR: (a collection directory whose `primary` file names the current `tkt*` member),
// MEMORY: (process-local, for tests and short-lived tools) and KCM: (held by a daemon).
import { CredentialsError } from '../errors.js';
import { randomName } from '../runtime/ccache-io.js';
import { listDir, makeDir, readFileIfExists, removeFile, statFile, writeFileAtomic } from '../runtime/fs.js';
import { readCredentialFile } from './bytes.js';
import { type Ccache, type CcacheCredential, parseCcache, serializeCcache } from './ccache.js';
import type { KcmOptions, KcmStore } from './kcm-store.js';
import { type Principal, principalsEqual, unparsePrincipal } from './principal-text.js';
import { defaultCcacheName, parseCcacheName, type ResolveOptions } from './resolve.js';

/** The KCM client (its protocol and daemon socket) loads only when a KCM: cache is named; once. */
let kcmLoading: Promise<typeof import('./kcm-store.js')> | undefined;
const kcm = (): Promise<typeof import('./kcm-store.js')> => (kcmLoading ??= import('./kcm-store.js'));

export interface CcacheStore {
  /** Full name as MIT klist prints it: `FILE:/tmp/krb5cc_1000`, `DIR::/dir/tkt`, `MEMORY:x`. */
  readonly name: string;
  read(): Promise<Ccache>;
  /** undefined when the cache does not exist (other problems still throw). */
  readIfExists(): Promise<Ccache | undefined>;
  write(ccache: Ccache): Promise<void>;
  /** true when something was removed. */
  destroy(): Promise<boolean>;
  /**
   * What identifies the current contents, to notice a kinit or kdestroy by someone else; stores
   * without it (FILE, DIR) are followed by their file's inode, size and time.
   */
  identity?(): Promise<string | undefined>;
  /**
   * Stores credentials into the existing cache without rewriting it (KCM's STORE, as MIT does
   * after a TGS exchange); false when the cache is gone or holds another principal's tickets.
   */
  add?(creds: readonly CcacheCredential[], principal: Principal): Promise<boolean>;
}

/** How stores reach what is not a file: the KCM daemon's socket (krb5.conf `kcm_socket`). */
export interface StoreOptions {
  kcm?: KcmOptions;
}

const PRIMARY = 'primary';
const DEFAULT_MEMBER = 'tkt';
const memoryCaches = new Map<string, Uint8Array>();

function notFound(name: string): CredentialsError {
  return new CredentialsError('CCACHE_NOT_FOUND', `no credential cache at ${name}`, {
    hint: 'run kinit, or set KRB5CCNAME to the cache you want',
  });
}

abstract class BaseStore implements CcacheStore {
  abstract readonly name: string;
  abstract readIfExists(): Promise<Ccache | undefined>;
  abstract write(ccache: Ccache): Promise<void>;
  abstract destroy(): Promise<boolean>;

  async read(): Promise<Ccache> {
    const c = await this.readIfExists();
    if (c === undefined) throw notFound(this.name);
    return c;
  }
}

class FileStore extends BaseStore {
  readonly name: string;
  constructor(
    readonly path: string,
    prefix = 'FILE:',
  ) {
    super();
    this.name = `${prefix}${path}`;
  }

  async readIfExists(): Promise<Ccache | undefined> {
    const bytes = await readCredentialFile(this.path, 'ccache');
    return bytes === undefined ? undefined : parseCcache(bytes);
  }

  async write(ccache: Ccache): Promise<void> {
    await writeFileAtomic(this.path, serializeCcache(ccache), 0o600);
  }

  async destroy(): Promise<boolean> {
    return removeFile(this.path);
  }
}

/** A member of a DIR: collection; writing it makes sure the collection directory exists. */
class DirMemberStore extends FileStore {
  constructor(
    readonly dir: string,
    member: string,
  ) {
    super(`${dir}/${member}`, 'DIR::');
  }

  override async write(ccache: Ccache): Promise<void> {
    await makeDir(this.dir, 0o700);
    await super.write(ccache);
    // The first cache written into a collection becomes its primary, as with MIT kinit.
    if ((await readFileIfExists(`${this.dir}/${PRIMARY}`)) === undefined)
      await setPrimary(this.dir, this.path);
  }
}

class MemoryStore extends BaseStore {
  readonly name: string;
  constructor(readonly key: string) {
    super();
    this.name = `MEMORY:${key}`;
  }
  async readIfExists(): Promise<Ccache | undefined> {
    const bytes = memoryCaches.get(this.key);
    return bytes === undefined ? undefined : parseCcache(bytes);
  }
  async write(ccache: Ccache): Promise<void> {
    // Stored serialized so a reader never shares mutable objects with the writer.
    memoryCaches.set(this.key, serializeCcache(ccache));
  }
  async destroy(): Promise<boolean> {
    return memoryCaches.delete(this.key);
  }
}

function memberName(dir: string, path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (path.slice(0, path.lastIndexOf('/')) !== dir || !base.startsWith(DEFAULT_MEMBER)) {
    throw new CredentialsError('CCACHE_NAME', `${path} is not a member (tkt*) of the DIR collection ${dir}`);
  }
  return base;
}

async function setPrimary(dir: string, memberPath: string): Promise<void> {
  const name = memberName(dir, memberPath);
  await writeFileAtomic(`${dir}/${PRIMARY}`, new TextEncoder().encode(`${name}\n`), 0o600);
}

/**
 * The member the `primary` file names, as MIT's read_primary_file: one line read into a
 * 64-byte buffer that must end in a newline, begin with `tkt` and hold no `/` or `\\`;
 * anything else is KRB5_CC_FORMAT there, CCACHE_FORMAT here. No file: the default `tkt`.
 */
async function primaryMember(dir: string): Promise<string> {
  const bytes = await readFileIfExists(`${dir}/${PRIMARY}`);
  if (bytes === undefined) return DEFAULT_MEMBER;
  const nl = bytes.indexOf(0x0a);
  const line = new TextDecoder().decode(bytes.subarray(0, nl < 0 ? Math.min(bytes.length, 63) : nl));
  if (nl < 0 || nl > 62 || !line.startsWith(DEFAULT_MEMBER) || line.includes('/') || line.includes('\\')) {
    throw new CredentialsError('CCACHE_FORMAT', `${dir}/${PRIMARY} does not name a tkt* member: '${line}'`, {
      hint: 'remove the primary file, or run kswitch to select a cache',
    });
  }
  return line;
}

function trimSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** Opens a cache by name (FILE:/path, /path, DIR:/dir, DIR::/dir/tktX, MEMORY:x, KCM:, KCM:uid[:name]). */
export async function openCcache(name: string, opts: StoreOptions = {}): Promise<CcacheStore> {
  const { type, residual } = parseCcacheName(name);
  if (type === 'FILE') return new FileStore(residual);
  if (type === 'MEMORY') return new MemoryStore(residual);
  if (type === 'KCM') return (await kcm()).openKcmStore(residual, opts.kcm);
  if (residual.startsWith(':')) {
    const path = residual.slice(1);
    const dir = path.slice(0, path.lastIndexOf('/'));
    return new DirMemberStore(dir, memberName(dir, path));
  }
  const dir = trimSlash(residual);
  return new DirMemberStore(dir, await primaryMember(dir));
}

/** The default cache: KRB5CCNAME, else default_ccache_name, else FILE:/tmp/krb5cc_%{uid}. */
export async function openDefaultCcache(opts: ResolveOptions & StoreOptions = {}): Promise<CcacheStore> {
  return openCcache(defaultCcacheName(opts), opts);
}

/**
 * Every cache in the collection `name` belongs to, primary first. For FILE: that is the one
 * file if it exists; for DIR: each `tkt*` member (for DIR::file only that file); for MEMORY:
 * every memory cache; for KCM: every cache the daemon holds for us (KCM:uid[:name] only that one).
 */
export async function listCcacheCollection(name: string, opts: StoreOptions = {}): Promise<CcacheStore[]> {
  const { type, residual } = parseCcacheName(name);
  if (type === 'KCM') return (await kcm()).listKcmCollection(residual, opts.kcm);
  if (type === 'FILE') {
    const st = await statFile(residual);
    return st?.isFile ? [new FileStore(residual)] : [];
  }
  if (type === 'MEMORY') return [...memoryCaches.keys()].map((k) => new MemoryStore(k));
  if (residual.startsWith(':')) {
    // MIT: a DIR::file name is a collection of that one cache, not of its whole directory.
    const path = residual.slice(1);
    const dir = path.slice(0, path.lastIndexOf('/'));
    const store = new DirMemberStore(dir, memberName(dir, path));
    return (await statFile(path))?.isFile ? [store] : [];
  }
  const dir = trimSlash(residual);
  const st = await statFile(dir);
  if (!st?.isDirectory) return [];
  // MIT lists the collection even when the primary file is unreadable, just unordered.
  const primary = await primaryMember(dir).catch(() => undefined);
  const members = (await listDir(dir)).filter((f) => f.startsWith(DEFAULT_MEMBER));
  members.sort((a, b) => (a === primary ? -1 : b === primary ? 1 : a < b ? -1 : a > b ? 1 : 0));
  return members.map((m) => new DirMemberStore(dir, m));
}

/** The cache of the collection whose default principal is `principal` (MIT krb5_cc_cache_match). */
export async function findCcacheForPrincipal(
  name: string,
  principal: Principal,
  opts: StoreOptions = {},
): Promise<CcacheStore | undefined> {
  for (const store of await listCcacheCollection(name, opts)) {
    const c = await store.readIfExists().catch(() => undefined);
    if (c !== undefined && principalsEqual(c.defaultPrincipal, principal)) return store;
  }
  return undefined;
}

/**
 * Where a new cache for `principal` goes in the collection: its existing cache if it has one;
 * in a DIR: collection otherwise a fresh `tkt` member (the default member name when unused);
 * in the KCM collection the primary when it is empty, else a new cache the daemon names.
 */
export async function ccacheForNewPrincipal(
  name: string,
  principal: Principal,
  opts: StoreOptions = {},
): Promise<CcacheStore> {
  const existing = await findCcacheForPrincipal(name, principal, opts);
  if (existing !== undefined) return existing;
  const { type, residual } = parseCcacheName(name);
  if (type === 'KCM') {
    const { openKcmStore, newKcmStore } = await kcm();
    if (residual !== '') return openKcmStore(residual, opts.kcm);
    const primary = await openKcmStore('', opts.kcm);
    return (await primary.readIfExists()) === undefined ? primary : newKcmStore(opts.kcm);
  }
  if (type !== 'DIR' || residual.startsWith(':')) return openCcache(name);
  const dir = trimSlash(residual);
  const primary = new DirMemberStore(dir, await primaryMember(dir));
  if ((await primary.readIfExists().catch(() => undefined)) === undefined) return primary;
  return new DirMemberStore(dir, `${DEFAULT_MEMBER}${randomName(6)}`);
}

/** Makes `store` the primary of its DIR: or KCM collection (MIT kswitch). */
export async function switchPrimary(store: CcacheStore): Promise<void> {
  if (store instanceof (await kcm()).KcmStore) return (store as KcmStore).makePrimary();
  if (!(store instanceof DirMemberStore)) {
    throw new CredentialsError('CCACHE_TYPE_UNSUPPORTED', `${store.name} is not in a DIR: or KCM collection`);
  }
  await setPrimary(store.dir, store.path);
}

/** For messages: `user@REALM in FILE:/tmp/krb5cc_1000`. */
export function describeCcache(store: CcacheStore, c: Ccache): string {
  return `${unparsePrincipal(c.defaultPrincipal)} in ${store.name}`;
}
