// KCM: credential caches held by a daemon (sssd-kcm, the default on Fedora and RHEL 8+, or
// Heimdal's kcm) behind a Unix socket. Names as MIT takes them: `KCM:` is the collection's
// primary cache, `KCM:<uid>` and `KCM:<uid>:<name>` a named cache. Each operation opens one
// connection, makes its calls in order and closes it, under one deadline; every reply is read
// with its length checked against MIT's bound before anything is buffered, so a daemon that is
// absent, slow, hostile or gone mid-reply costs a typed error, never a hang or a big allocation.
// Reads never write; a failed read or a failed call before a write leaves the cache as it was.
import { CredentialsError } from '../errors.js';
import { type ByteStream, connectUnix } from '../runtime/net.js';
import { type Ccache, type CcacheCredential, isConfigEntry } from './ccache.js';
import {
  DEFAULT_KCM_SOCKET,
  frameKcmRequest,
  isUnsupportedOp,
  KcmOp,
  KcmReply,
  KcmRequest,
  KcmStatus,
  kcmStatusName,
  MAX_KCM_REPLY,
} from './kcm-protocol.js';
import { type Principal, principalsEqual, unparsePrincipal } from './principal-text.js';

export interface KcmOptions {
  /** The daemon's socket: krb5.conf `kcm_socket`; `-` means none; default MIT's path. */
  socketPath?: string;
  /** Deadline for one cache operation, connection included (default 10 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const NO_SERVER_HINT =
  'start the KCM daemon (sssd-kcm: systemctl start sssd-kcm.socket; or Heimdal kcm), set kcm_socket ' +
  'in [libdefaults] of krb5.conf to its socket, or use a FILE cache: export KRB5CCNAME=FILE:/tmp/krb5cc_$(id -u)';

function kcmError(code: string, message: string, hint: string, cause?: unknown): CredentialsError {
  return new CredentialsError(code, message, cause === undefined ? { hint } : { hint, cause });
}

/** A daemon's non-zero status for one call. */
class KcmStatusError extends CredentialsError {
  constructor(
    readonly status: number,
    op: string,
    name: string | undefined,
  ) {
    super(
      'KCM_ERROR',
      `the KCM daemon refused ${op}${name === undefined ? '' : ` for KCM:${name}`}: ${kcmStatusName(status)}`,
      {
        hint: 'check the daemon log (journalctl -u sssd-kcm); klist -l lists the caches it holds',
      },
    );
  }
}

const opName = (op: number): string => Object.entries(KcmOp).find(([, v]) => v === op)?.[0] ?? `opcode ${op}`;

/** One connection to the daemon, for the calls of one operation. */
class KcmConnection {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  private constructor(
    private readonly stream: ByteStream,
    private readonly socketPath: string,
    private readonly timeoutMs: number,
  ) {}

  static async open(socketPath: string, timeoutMs: number): Promise<KcmConnection> {
    if (socketPath === '-') {
      throw kcmError('KCM_NO_SERVER', 'KCM is disabled (kcm_socket = -)', NO_SERVER_HINT);
    }
    let stream: ByteStream;
    try {
      stream = await connectUnix(socketPath, Date.now() + timeoutMs);
    } catch (e) {
      const errno = (e as { code?: unknown }).code;
      if (errno === 'ENOENT' || errno === 'ECONNREFUSED' || errno === 'ENOTSOCK') {
        throw kcmError('KCM_NO_SERVER', `no KCM daemon listening at ${socketPath}`, NO_SERVER_HINT, e);
      }
      if (errno === 'EACCES' || errno === 'EPERM') {
        throw kcmError(
          'KCM_PERMISSION',
          `not allowed to connect to the KCM socket ${socketPath}`,
          'the socket belongs to another user or its directory is closed; check kcm_socket',
          e,
        );
      }
      const why = e instanceof Error ? e.message : String(e);
      throw kcmError(
        /timed out/.test(why) ? 'KCM_TIMEOUT' : 'KCM_IO',
        `cannot reach the KCM daemon at ${socketPath}: ${why}`,
        'KCM needs Unix-domain sockets (Node, Bun; Deno with --allow-read --allow-write --allow-net for the socket); ' +
          'elsewhere use a FILE: or MEMORY: cache',
        e,
      );
    }
    return new KcmConnection(stream, socketPath, timeoutMs);
  }

  close(): void {
    this.stream.close();
  }

  /** Sends one request and reads its reply; `status` is the daemon's answer (0 = success). */
  async call(req: KcmRequest, name?: string): Promise<{ status: number; reply: KcmReply }> {
    const what = `${opName(req.opcode)}${name === undefined ? '' : ` for KCM:${name}`}`;
    try {
      await this.stream.write(frameKcmRequest(req.finish()));
      const head = await this.readExactly(8, what);
      const view = new DataView(head.buffer, head.byteOffset, 8);
      const length = view.getUint32(0);
      const transport = view.getInt32(4);
      if (length > MAX_KCM_REPLY) {
        throw kcmError(
          'KCM_REPLY_TOO_BIG',
          `the KCM daemon announced a ${length}-byte reply to ${what} (more than ${MAX_KCM_REPLY})`,
          'the daemon at this socket does not speak KCM, or is misbehaving; check kcm_socket',
        );
      }
      if (transport !== 0) return { status: transport, reply: new KcmReply(new Uint8Array(0)) };
      const body = await this.readExactly(length, what);
      if (this.pendingBytes > 0) {
        throw kcmError(
          'KCM_MALFORMED_REPLY',
          `the KCM daemon sent ${this.pendingBytes} bytes beyond its reply to ${what}`,
          'the daemon at this socket does not speak KCM; check kcm_socket',
        );
      }
      if (body.length < 4) {
        throw kcmError(
          'KCM_MALFORMED_REPLY',
          `the KCM reply to ${what} has no status word`,
          'the daemon at this socket does not speak KCM; check kcm_socket',
        );
      }
      const status = new DataView(body.buffer, body.byteOffset, 4).getInt32(0);
      return { status, reply: new KcmReply(body.subarray(4)) };
    } catch (e) {
      if (e instanceof CredentialsError) throw e;
      const why = e instanceof Error ? e.message : String(e);
      if (/timed out/.test(why)) {
        throw kcmError(
          'KCM_TIMEOUT',
          `the KCM daemon at ${this.socketPath} did not answer ${what} within ${this.timeoutMs} ms`,
          'the daemon is stuck or overloaded; check it (journalctl -u sssd-kcm) or use a FILE: cache',
          e,
        );
      }
      throw kcmError(
        'KCM_IO',
        `talking to the KCM daemon at ${this.socketPath} (${what}): ${why}`,
        NO_SERVER_HINT,
        e,
      );
    }
  }

  /** Exactly `n` bytes, gathered from as many chunks as the socket gives; never more buffered than n plus one chunk. */
  private async readExactly(n: number, what: string): Promise<Uint8Array> {
    while (this.pendingBytes < n) {
      const chunk = await this.stream.read();
      if (chunk === null) {
        throw kcmError(
          'KCM_IO',
          `the KCM daemon at ${this.socketPath} closed the connection after ${this.pendingBytes} of ${n} bytes of its reply to ${what}`,
          'the daemon stopped or restarted mid-reply; try again, and check its log',
        );
      }
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.pending[0] as Uint8Array;
      const take = Math.min(c.length, n - at);
      out.set(c.subarray(0, take), at);
      at += take;
      if (take === c.length) this.pending.shift();
      else this.pending[0] = c.subarray(take);
    }
    this.pendingBytes -= n;
    return out;
  }
}

/** Parses a reply, turning a format failure into KCM_MALFORMED_REPLY with a KCM hint. */
function parsed<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof CredentialsError && e.code !== 'KCM_MALFORMED_REPLY' && e.code !== 'CCACHE_FORMAT')
      throw e;
    throw kcmError(
      'KCM_MALFORMED_REPLY',
      `malformed KCM reply to ${what}: ${e instanceof Error ? e.message : String(e)}`,
      'the daemon at this socket does not speak KCM or holds a damaged cache; check kcm_socket',
      e,
    );
  }
}

/** A call that must succeed. */
async function must(c: KcmConnection, req: KcmRequest, name: string | undefined): Promise<KcmReply> {
  const { status, reply } = await c.call(req, name);
  if (status !== 0) throw new KcmStatusError(status, opName(req.opcode), name);
  return reply;
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** A KCM-held cache, by its daemon-side name (`1000`, `1000:42`). */
export class KcmStore {
  readonly name: string;

  constructor(
    readonly residual: string,
    private readonly opts: Required<KcmOptions>,
  ) {
    this.name = `KCM:${residual}`;
  }

  private session<T>(f: (c: KcmConnection) => Promise<T>): Promise<T> {
    return withConnection(this.opts, f);
  }

  async read(): Promise<Ccache> {
    const c = await this.readIfExists();
    if (c === undefined) {
      throw new CredentialsError('CCACHE_NOT_FOUND', `no credential cache at ${this.name}`, {
        hint: 'run kinit, or set KRB5CCNAME to the cache you want (spnego klist -l lists the KCM caches)',
      });
    }
    return c;
  }

  /** The cache's principal, undefined when it does not exist (MIT: KRB5_FCC_NOFILE or an empty reply). */
  private static async principalOf(c: KcmConnection, name: string): Promise<Principal | undefined> {
    const { status, reply } = await c.call(new KcmRequest(KcmOp.GET_PRINCIPAL).name(name), name);
    if (status === KcmStatus.FCC_NOFILE || status === KcmStatus.CC_NOTFOUND) return undefined;
    if (status !== 0) throw new KcmStatusError(status, 'GET_PRINCIPAL', name);
    if (reply.remaining === 0) return undefined;
    return parsed('GET_PRINCIPAL', () => reply.principal());
  }

  async readIfExists(): Promise<Ccache | undefined> {
    return this.session(async (c) => {
      const principal = await KcmStore.principalOf(c, this.residual);
      if (principal === undefined) return undefined;
      const credentials = await KcmStore.credentialsOf(c, this.residual);
      let kdcOffset: Ccache['header']['kdcOffset'];
      const off = await c.call(new KcmRequest(KcmOp.GET_KDC_OFFSET).name(this.residual), this.residual);
      if (off.status === 0 && off.reply.remaining >= 4) {
        const seconds = parsed('GET_KDC_OFFSET', () => off.reply.i32());
        if (seconds !== 0) kdcOffset = { seconds, microseconds: 0 };
      }
      return {
        version: 4,
        header: { unknownFields: [], ...(kdcOffset === undefined ? {} : { kdcOffset }) },
        defaultPrincipal: principal,
        credentials,
      };
    });
  }

  /** GET_CRED_LIST (MIT's extension, sssd), else the UUID list and one call per credential (Heimdal). */
  private static async credentialsOf(c: KcmConnection, name: string): Promise<CcacheCredential[]> {
    const list = await c.call(new KcmRequest(KcmOp.GET_CRED_LIST).name(name), name);
    if (list.status === 0) return parsed('GET_CRED_LIST', () => list.reply.credentialList());
    if (!isUnsupportedOp(list.status)) throw new KcmStatusError(list.status, 'GET_CRED_LIST', name);
    const ids = await KcmStore.uuidsOf(c, name);
    const out: CcacheCredential[] = [];
    for (const id of ids) {
      const { status, reply } = await c.call(
        new KcmRequest(KcmOp.GET_CRED_BY_UUID).name(name).uuid(id),
        name,
      );
      // Removed between the two calls: skip it, as a cursor would.
      if (status === KcmStatus.CC_END || status === KcmStatus.CC_NOTFOUND) continue;
      if (status !== 0) throw new KcmStatusError(status, 'GET_CRED_BY_UUID', name);
      out.push(parsed('GET_CRED_BY_UUID', () => reply.credential()));
    }
    return out;
  }

  private static async uuidsOf(c: KcmConnection, name: string): Promise<Uint8Array[]> {
    const reply = await must(c, new KcmRequest(KcmOp.GET_CRED_UUID_LIST).name(name), name);
    return parsed('GET_CRED_UUID_LIST', () => reply.uuids());
  }

  /**
   * What identifies the cache's current contents: its principal and its credentials' UUIDs.
   * A kinit (new credentials) or kdestroy (none) changes it; undefined when it does not exist.
   */
  async identity(): Promise<string | undefined> {
    return this.session(async (c) => {
      const principal = await KcmStore.principalOf(c, this.residual);
      if (principal === undefined) return undefined;
      const { status, reply } = await c.call(
        new KcmRequest(KcmOp.GET_CRED_UUID_LIST).name(this.residual),
        this.residual,
      );
      if (status !== 0) return `${unparsePrincipal(principal)}:?`;
      const ids = parsed('GET_CRED_UUID_LIST', () => reply.uuids());
      return `${unparsePrincipal(principal)}:${ids.map(hex).sort().join(',')}`;
    });
  }

  /**
   * Replaces the cache's contents: REPLACE in one call where the daemon has it (sssd; MIT's
   * extension, atomic), else INITIALIZE then STORE each credential, as MIT's client does.
   */
  async write(ccache: Ccache): Promise<void> {
    const name = this.residual;
    const offset = ccache.header.kdcOffset?.seconds ?? 0;
    await this.session(async (c) => {
      const req = new KcmRequest(KcmOp.REPLACE).name(name).u32(offset).principal(ccache.defaultPrincipal);
      req.u32(ccache.credentials.length);
      for (const cred of ccache.credentials) req.sizedCredential(cred);
      const { status } = await c.call(req, name);
      if (status === 0) return;
      if (!isUnsupportedOp(status)) throw new KcmStatusError(status, 'REPLACE', name);
      await must(c, new KcmRequest(KcmOp.INITIALIZE).name(name).principal(ccache.defaultPrincipal), name);
      for (const cred of ccache.credentials) {
        await must(c, new KcmRequest(KcmOp.STORE).name(name).credential(cred), name);
      }
      if (offset !== 0) await c.call(new KcmRequest(KcmOp.SET_KDC_OFFSET).name(name).u32(offset), name);
    });
  }

  /**
   * Adds credentials to the cache as MIT's krb5_cc_store_cred does after a TGS exchange; false
   * (nothing stored) when the cache no longer exists or now belongs to another principal.
   */
  async add(creds: readonly CcacheCredential[], principal: Principal): Promise<boolean> {
    const name = this.residual;
    return this.session(async (c) => {
      const current = await KcmStore.principalOf(c, name);
      if (current === undefined || !principalsEqual(current, principal)) return false;
      for (const cred of creds) {
        if (isConfigEntry(cred)) continue;
        await must(c, new KcmRequest(KcmOp.STORE).name(name).credential(cred), name);
      }
      return true;
    });
  }

  async destroy(): Promise<boolean> {
    return this.session(async (c) => {
      const { status } = await c.call(new KcmRequest(KcmOp.DESTROY).name(this.residual), this.residual);
      if (status === KcmStatus.FCC_NOFILE || status === KcmStatus.CC_NOTFOUND) return false;
      if (status !== 0) throw new KcmStatusError(status, 'DESTROY', this.residual);
      return true;
    });
  }

  /** Makes this cache the collection's primary (kswitch; MIT's kinit does it for a new cache). */
  async makePrimary(): Promise<void> {
    await this.session(async (c) => {
      await must(c, new KcmRequest(KcmOp.SET_DEFAULT_CACHE).name(this.residual), this.residual);
    });
  }
}

function withDefaults(o: KcmOptions): Required<KcmOptions> {
  return { socketPath: o.socketPath ?? DEFAULT_KCM_SOCKET, timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS };
}

/** The daemon's name of its primary cache (GET_DEFAULT_CACHE). */
async function primaryName(c: KcmConnection): Promise<string> {
  const { status, reply: r } = await c.call(new KcmRequest(KcmOp.GET_DEFAULT_CACHE));
  if (status !== 0) throw new KcmStatusError(status, 'GET_DEFAULT_CACHE', undefined);
  return parsed('GET_DEFAULT_CACHE', () => r.name());
}

async function withConnection<T>(o: Required<KcmOptions>, f: (c: KcmConnection) => Promise<T>): Promise<T> {
  const c = await KcmConnection.open(o.socketPath, o.timeoutMs);
  try {
    return await f(c);
  } finally {
    c.close();
  }
}

/** Opens `KCM:<residual>`; an empty residual is the collection's primary cache, asked of the daemon. */
export async function openKcmStore(residual: string, o: KcmOptions = {}): Promise<KcmStore> {
  const opts = withDefaults(o);
  if (residual !== '') return new KcmStore(residual, opts);
  return new KcmStore(await withConnection(opts, primaryName), opts);
}

/**
 * Every cache of the collection, primary first (MIT's KCM per-type cursor): for `KCM:` the
 * daemon's list, for a named cache just that one when it exists.
 */
export async function listKcmCollection(residual: string, o: KcmOptions = {}): Promise<KcmStore[]> {
  const opts = withDefaults(o);
  return withConnection(opts, async (c) => {
    if (residual !== '') {
      return (await exists(c, residual)) ? [new KcmStore(residual, opts)] : [];
    }
    const list = await c.call(new KcmRequest(KcmOp.GET_CACHE_UUID_LIST));
    if (list.status === KcmStatus.FCC_NOFILE) return [];
    if (list.status !== 0) throw new KcmStatusError(list.status, 'GET_CACHE_UUID_LIST', undefined);
    const ids = parsed('GET_CACHE_UUID_LIST', () => list.reply.uuids());
    const primary = await primaryName(c);
    const names: string[] = [];
    if (await exists(c, primary)) names.push(primary);
    for (const id of ids) {
      const { status, reply } = await c.call(new KcmRequest(KcmOp.GET_CACHE_BY_UUID).uuid(id));
      // Deleted since the list was made.
      if (status === KcmStatus.CC_END || status === KcmStatus.FCC_NOFILE) continue;
      if (status !== 0) throw new KcmStatusError(status, 'GET_CACHE_BY_UUID', undefined);
      const name = parsed('GET_CACHE_BY_UUID', () => reply.name());
      if (!names.includes(name)) names.push(name);
    }
    return names.map((n) => new KcmStore(n, opts));
  });
}

async function exists(c: KcmConnection, name: string): Promise<boolean> {
  const { status } = await c.call(new KcmRequest(KcmOp.GET_PRINCIPAL).name(name), name);
  return status === 0;
}

/** A new, empty cache name from the daemon (GEN_NEW), for a principal new to the collection. */
export async function newKcmStore(o: KcmOptions = {}): Promise<KcmStore> {
  const opts = withDefaults(o);
  const name = await withConnection(opts, async (c) => {
    const reply = await must(c, new KcmRequest(KcmOp.GEN_NEW), undefined);
    return parsed('GEN_NEW', () => reply.name());
  });
  return new KcmStore(name, opts);
}
