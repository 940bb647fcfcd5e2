// `MiniKdc`: a real Kerberos KDC (AS + TGS, RFC 4120) in the test process, on a loopback port
// over TCP and UDP, that MIT's kinit/kvno and our own client both talk to. Tests switch faults
// on (KDC clock skew, unknown principals, KDC down, slow replies) and count what it received.
//
//   const kdc = await MiniKdc.start({ principals: [{ name: 'alice', password: 'pw' }, 'HTTP/localhost'] });
//   const creds = await Credentials.fromPassword('alice', 'pw', { config: kdc.clientConfig() });
//   const acceptor = createAcceptor({ keytab: kdc.keytabFor('HTTP/localhost') });
//   await kdc.writeKrb5Conf(path);  // KRB5_CONFIG for MIT tools and child processes
//   await kdc.stop();
import type { PrincipalName } from '../asn1/types.js';
import { serializeKeytab } from '../ccache/keytab.js';
import { parsePrincipal, unparsePrincipal } from '../ccache/principal-text.js';
import { aesReady, Enctype } from '../crypto/index.js';
import { ConfigError } from '../errors.js';
import type { Krb5Config } from '../krb5/config.js';
import { parseConfig } from '../krb5/config.js';
import { writeFileAtomic } from '../runtime/fs.js';
import { createLog, type Logger, type NamespacedLog } from '../runtime/log.js';
import { type ListenerHandle, listenTcp, listenUdp, type ServerConnection } from '../runtime/server-net.js';
import { type KdcContext, KdcErr, krbErrorBytes } from './kdc/context.js';
import { KdcDatabase, keytabEntriesOf, type PrincipalSpec } from './kdc/database.js';
import { handleKdcRequest, type KdcRequestRecord } from './kdc/dispatch.js';
import { FrameReader, frame } from './kdc/tcp-frames.js';

export type { PrincipalSpec } from './kdc/database.js';
export type { KdcRequestRecord } from './kdc/dispatch.js';

export interface MiniKdcOptions {
  /** Default `EXAMPLE.TEST`. */
  realm?: string;
  /** More realms served by the same KDC, each trusting the others (cross-realm krbtgt keys both ways). */
  realms?: readonly string[];
  /** Principals to create: a name gets random keys, `{ name, password }` a password. */
  principals?: readonly (string | PrincipalSpec)[];
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port for both TCP and UDP (default: a free one). */
  port?: number;
  /** Enctypes every principal gets keys in, in preference order (default 18, 17, 20, 19, 23). */
  enctypes?: readonly number[];
  /** Maximum ticket lifetime in seconds (default 10 h). */
  lifetime?: number;
  /** Maximum renewable lifetime in seconds (default 7 days; 0 = no renewable tickets). */
  renewLifetime?: number;
  /** Accepted clock difference in seconds (default 300, MIT's). */
  clockSkew?: number;
  /** Serve UDP too (default true). */
  udp?: boolean;
  /** UDP replies longer than this become KRB_ERR_RESPONSE_TOO_BIG, so clients retry over TCP (default 1400). */
  udpMaxReply?: number;
  /** Largest TCP request accepted (default 64 KiB); longer ones get KRB_ERR_FIELD_TOOLONG. */
  maxRequestBytes?: number;
  /** A TCP connection with a half-received request is closed after this long (default 10 s). */
  idleTimeoutMs?: number;
  /** How many request records `requests`/`count` keep, newest last (default 100,000). */
  maxRecords?: number;
  logger?: Logger;
}

/** Faults a test can switch on and off at any time. */
export interface KdcFaults {
  /** The KDC's clock runs this many seconds ahead (negative: behind) of the real one. */
  clockSkewSeconds: number;
  /** Every reply is held back this long. */
  delayMs: number;
  /** `refuse`: connections are reset and datagrams dropped; `silent`: requests are read, never answered. */
  down: false | 'refuse' | 'silent';
  /** Principals (`alice`, `HTTP/localhost@EXAMPLE.TEST`) the KDC answers as unknown while listed. */
  unknownPrincipals: Set<string>;
}

export interface Krb5ConfigOptions {
  /** Let clients use UDP for small requests (default false: udp_preference_limit = 1, TCP only). */
  udp?: boolean;
  /** Extra `[libdefaults]` lines, e.g. `{ canonicalize: 'true' }`. */
  libdefaults?: Record<string, string>;
}

const DEFAULT_ENCTYPES = [
  Enctype.AES256_CTS_HMAC_SHA1_96,
  Enctype.AES128_CTS_HMAC_SHA1_96,
  Enctype.AES256_CTS_HMAC_SHA384_192,
  Enctype.AES128_CTS_HMAC_SHA256_128,
  Enctype.RC4_HMAC,
];

const krbtgt = (realm: string, issuer: string): string => `krbtgt/${realm}@${issuer}`;

/** Longest client-controlled string a request record keeps. */
const MAX_RECORD_TEXT = 512;

function clip(s: string | undefined): string | undefined {
  if (s === undefined || s.length <= MAX_RECORD_TEXT) return s;
  // A copy, not a slice: V8 slices keep the whole parent string alive.
  const head = new TextDecoder().decode(new TextEncoder().encode(s.slice(0, MAX_RECORD_TEXT)));
  return `${head}… (${s.length} characters)`;
}

function specOf(p: string | PrincipalSpec): PrincipalSpec {
  return typeof p === 'string' ? { name: p } : p;
}

export class MiniKdc {
  readonly realm: string;
  readonly realms: readonly string[];
  readonly host: string;
  readonly faults: KdcFaults = { clockSkewSeconds: 0, delayMs: 0, down: false, unknownPrincipals: new Set() };
  private readonly db: KdcDatabase;
  private readonly ctx: KdcContext;
  private readonly log: NamespacedLog;
  private readonly records: KdcRequestRecord[] = [];
  private readonly listeners: ListenerHandle[] = [];
  private readonly pendingTimers = new Set<ReturnType<typeof setTimeout>>();
  private boundPort = 0;
  private stopped = false;

  private constructor(private readonly opts: MiniKdcOptions) {
    this.realm = opts.realm ?? 'EXAMPLE.TEST';
    this.realms = [this.realm, ...(opts.realms ?? []).filter((r) => r !== this.realm)];
    this.host = opts.host ?? '127.0.0.1';
    this.log = createLog('spnego:minikdc', opts.logger);
    this.db = new KdcDatabase(this.realms, opts.enctypes ?? DEFAULT_ENCTYPES);
    const hiddenSet = (): Set<string> =>
      new Set([...this.faults.unknownPrincipals].map((t) => unparsePrincipal(parsePrincipal(t, this.realm))));
    this.ctx = {
      db: this.db,
      policy: {
        maxLife: opts.lifetime ?? 36_000,
        maxRenewableLife: opts.renewLifetime ?? 7 * 86_400,
        clockSkew: opts.clockSkew ?? 300,
      },
      now: () => Date.now() + this.faults.clockSkewSeconds * 1000,
      hidden: (name: PrincipalName, realm: string) =>
        this.faults.unknownPrincipals.size > 0 && hiddenSet().has(unparsePrincipal({ realm, name })),
    };
    for (const r of this.realms) {
      this.db.add({ name: krbtgt(r, r) });
      // Cross-realm trust both ways: krbtgt/OTHER@R is the key R's TGS encrypts referral TGTs in.
      for (const other of this.realms) if (other !== r) this.db.add({ name: krbtgt(other, r) });
    }
    for (const p of opts.principals ?? []) this.db.add(specOf(p));
  }

  /** Starts a KDC: `await MiniKdc.start({ principals: [{ name: 'alice', password: 'pw' }, 'HTTP/localhost'] })`. */
  static async start(opts: MiniKdcOptions = {}): Promise<MiniKdc> {
    await aesReady();
    const kdc = new MiniKdc(opts);
    await kdc.listen();
    kdc.log(`MiniKdc for ${kdc.realms.join(', ')} on ${kdc.host}:${kdc.port}`);
    return kdc;
  }

  get port(): number {
    return this.boundPort;
  }

  /** `host:port` as krb5.conf's `kdc =` takes it. */
  get address(): string {
    return this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  /** A krb5.conf pointing every served realm at this KDC, with DNS out of the picture. */
  get krb5Config(): string {
    return this.krb5ConfigText();
  }

  krb5ConfigText(o: Krb5ConfigOptions = {}): string {
    const lib: Record<string, string> = {
      default_realm: this.realm,
      dns_lookup_kdc: 'false',
      dns_lookup_realm: 'false',
      dns_canonicalize_hostname: 'false',
      rdns: 'false',
      forwardable: 'true',
      ticket_lifetime: String(this.ctx.policy.maxLife),
      ...(this.ctx.policy.maxRenewableLife > 0
        ? { renew_lifetime: String(this.ctx.policy.maxRenewableLife) }
        : {}),
      ...(o.udp ? {} : { udp_preference_limit: '1' }),
      ...o.libdefaults,
    };
    const lines = ['[libdefaults]', ...Object.entries(lib).map(([k, v]) => `  ${k} = ${v}`), '', '[realms]'];
    for (const r of this.realms) lines.push(`  ${r} = {`, `    kdc = ${this.address}`, '  }');
    lines.push('', '[domain_realm]', `  localhost = ${this.realm}`, `  .localhost = ${this.realm}`);
    if (this.realms.length > 1) {
      // Every realm trusts every other directly; without this, clients walk the DNS-style
      // hierarchy (A.TEST → TEST → B.TEST) through a realm that does not exist.
      lines.push('', '[capaths]');
      for (const r of this.realms) {
        lines.push(`  ${r} = {`, ...this.realms.filter((o) => o !== r).map((o) => `    ${o} = .`), '  }');
      }
    }
    lines.push('');
    return lines.join('\n');
  }

  /** The krb5.conf parsed, for `Credentials.fromPassword(name, pw, { config: kdc.clientConfig() })`. */
  clientConfig(o: Krb5ConfigOptions = {}): Krb5Config {
    return parseConfig(this.krb5ConfigText(o), { path: 'MiniKdc krb5.conf' });
  }

  /** Writes the krb5.conf (for MIT tools: KRB5_CONFIG=path); returns the path. */
  async writeKrb5Conf(path: string, o: Krb5ConfigOptions = {}): Promise<string> {
    await writeFileAtomic(path, new TextEncoder().encode(this.krb5ConfigText(o)), 0o644);
    return path;
  }

  /**
   * Creates (or re-keys, kvno + 1) a principal. Without a password it gets random keys in every
   * enctype. Returns its full name, e.g. `HTTP/localhost@EXAMPLE.TEST`.
   */
  addPrincipal(name: string | PrincipalSpec, password?: string): string {
    const spec = typeof name === 'string' ? { name, ...(password === undefined ? {} : { password }) } : name;
    const existing = this.db.byText(spec.name);
    const rec = this.db.add(
      existing && spec.kvno === undefined ? { ...spec, kvno: existing.kvno + 1 } : spec,
    );
    return unparsePrincipal(rec.principal);
  }

  /** True when the KDC has this principal (realm optional). */
  hasPrincipal(name: string): boolean {
    return this.db.byText(name) !== undefined;
  }

  /** MIT keytab bytes holding every key of the given principals (createAcceptor takes these). */
  keytabFor(...names: string[]): Uint8Array {
    const now = Math.floor(Date.now() / 1000);
    const entries = names.flatMap((n) => {
      const rec = this.db.byText(n);
      if (!rec)
        throw new ConfigError('MINIKDC_NO_PRINCIPAL', `MiniKdc has no principal ${n}`, {
          hint: 'add it with addPrincipal(name) or the principals option',
        });
      return keytabEntriesOf(rec, now);
    });
    return serializeKeytab(entries);
  }

  /** Writes `keytabFor(...names)` to `path` (for `kinit -k -t`, KRB5_KTNAME); returns the path. */
  async writeKeytab(path: string, ...names: string[]): Promise<string> {
    await writeFileAtomic(path, this.keytabFor(...names), 0o600);
    return path;
  }

  /**
   * Answers one request without a socket, exactly as over the wire (recorded as `direct`): for
   * tests that feed the KDC crafted or mutated bytes. Never throws.
   */
  handleRequest(bytes: Uint8Array): Uint8Array {
    const { reply, record } = handleKdcRequest(this.ctx, bytes);
    this.record({ ...record, transport: 'direct' });
    return reply;
  }

  /** Every request received so far, oldest first. */
  get requests(): readonly KdcRequestRecord[] {
    return this.records;
  }

  /** How many requests of a type arrived (optionally only those that succeeded). */
  count(type: KdcRequestRecord['type'], opts: { succeeded?: boolean } = {}): number {
    return this.records.filter(
      (r) => r.type === type && (opts.succeeded !== true || r.errorCode === undefined),
    ).length;
  }

  clearRequests(): void {
    this.records.length = 0;
  }

  /**
   * Keeps the record log bounded for a long-running KDC: the oldest tenth goes when it is full,
   * and the text a client controls (names, realms echoed in reasons) is clipped, so 64 KiB
   * requests cannot make each record weigh 64 KiB.
   */
  private record(r: KdcRequestRecord): void {
    const max = Math.max(1, this.opts.maxRecords ?? 100_000);
    if (this.records.length >= max)
      this.records.splice(0, Math.max(1, this.records.length - max + Math.ceil(max / 10)));
    this.records.push({ ...r, client: clip(r.client), server: clip(r.server), reason: clip(r.reason) });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.pendingTimers) clearTimeout(t);
    this.pendingTimers.clear();
    await Promise.all(this.listeners.map((l) => l.close()));
    this.listeners.length = 0;
    this.log(`MiniKdc on port ${this.boundPort} stopped`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  // --- wire -----------------------------------------------------------------------------------

  private async listen(): Promise<void> {
    const wantUdp = this.opts.udp !== false;
    // TCP and UDP must share one port number; a free TCP port can be taken on the UDP side, so retry.
    for (let attempt = 0; ; attempt++) {
      const tcp = await listenTcp(this.host, this.opts.port ?? 0, (c) => this.onConnection(c));
      if (!wantUdp) {
        this.listeners.push(tcp);
        this.boundPort = tcp.port;
        return;
      }
      try {
        const udp = await listenUdp(this.host, tcp.port, (m, reply) => this.onDatagram(m, reply));
        this.listeners.push(tcp, udp);
        this.boundPort = tcp.port;
        return;
      } catch (e) {
        await tcp.close();
        if (this.opts.port !== undefined || attempt >= 10) throw e;
      }
    }
  }

  /** Serves one request: dispatch, record, and hand the reply over after any delay fault. */
  private serve(bytes: Uint8Array, transport: 'tcp' | 'udp', send: (reply: Uint8Array) => void): void {
    if (this.faults.down !== false) return;
    const { reply, record } = handleKdcRequest(this.ctx, bytes);
    this.record({ ...record, transport });
    this.log(
      `${transport} ${record.type} ${record.client ?? ''} → ${record.server ?? '?'}: ${record.errorName ?? 'OK'}${record.reason ? ` (${record.reason})` : ''}`,
    );
    const delay = this.faults.delayMs;
    if (delay <= 0) {
      send(reply);
      return;
    }
    const t = setTimeout(() => {
      this.pendingTimers.delete(t);
      send(reply);
    }, delay);
    this.pendingTimers.add(t);
  }

  private onConnection(conn: ServerConnection): void {
    if (this.faults.down === 'refuse') {
      conn.destroy(true);
      return;
    }
    const reader = new FrameReader(this.opts.maxRequestBytes ?? 65_536);
    const idleMs = this.opts.idleTimeoutMs ?? 10_000;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const arm = (): void => {
      if (idle) clearTimeout(idle);
      idle = reader.partial ? setTimeout(() => conn.destroy(), idleMs) : undefined;
      idle?.unref?.();
    };
    conn.onClose(() => idle && clearTimeout(idle));
    conn.onData((chunk) => {
      for (const ev of reader.push(chunk)) {
        if (ev.kind === 'too-long') {
          const err = krbErrorBytes(
            this.ctx,
            KdcErr.FIELD_TOOLONG,
            { realm: this.realm },
            `request length ${ev.length} refused`,
          );
          this.record({
            type: 'invalid',
            transport: 'tcp',
            client: undefined,
            server: undefined,
            kdcOptions: 0,
            errorCode: KdcErr.FIELD_TOOLONG,
            errorName: 'KRB_ERR_FIELD_TOOLONG',
            reason: `length prefix ${ev.length}`,
            at: new Date(this.ctx.now()),
          });
          conn.write(frame(err));
          conn.end();
          return;
        }
        this.serve(ev.message, 'tcp', (reply) => conn.write(frame(reply)));
      }
      arm();
    });
  }

  private onDatagram(msg: Uint8Array, reply: (data: Uint8Array) => void): void {
    if (this.faults.down !== false) return;
    const limit = this.opts.udpMaxReply ?? 1400;
    this.serve(msg, 'udp', (r) => {
      // RFC 4120 §7.2.1: too big for a datagram → RESPONSE_TOO_BIG, and the client retries on TCP.
      reply(
        r.length > limit
          ? krbErrorBytes(
              this.ctx,
              KdcErr.RESPONSE_TOO_BIG,
              { realm: this.realm },
              'Response too big for UDP, retry with TCP',
            )
          : r,
      );
    });
  }
}
