// `Credentials`: a client principal's TGT (from a ccache, a keytab or a password) and the
// service tickets obtained with it. Service tickets are cached in memory by server name,
// fetched single-flight, written back to the FILE ccache as MIT does, refreshed when the
// ccache file is replaced (the user ran kinit again) and dropped when it is destroyed (kdestroy).
// The class composes small modules: acquisition (keys and AS options), ccache following
// (replacement, kdestroy, write-back), the TGS path (referrals, cross-realm) and the ticket shapes.
import type { Ticket } from '../asn1/index.js';
import {
  type Ccache,
  type CcacheCredential,
  isConfigEntry,
  newCcache,
  parseCcache,
} from '../ccache/ccache.js';
import { TicketFlag } from '../ccache/flags.js';
import type { Keytab } from '../ccache/keytab.js';
import {
  type Principal,
  parsePrincipal,
  principalsEqual,
  unparsePrincipal,
} from '../ccache/principal-text.js';
import { defaultCcacheName } from '../ccache/resolve.js';
import { type CcacheStore, findCcacheForPrincipal, openCcache, type StoreOptions } from '../ccache/store.js';
import { aesReady, isEnctypeSupported } from '../crypto/index.js';
import { CredentialsError, KerberosError } from '../errors.js';
import { type DnsResolver, systemDns } from '../runtime/dns.js';
import { isWritePermissionDenied } from '../runtime/fs.js';
import { createLog, createWarn, type Logger, type NamespacedLog } from '../runtime/log.js';
import type { ClientSecret } from './as.js';
import type { Krb5Config } from './config.js';
import { loadConfig } from './config-load.js';
import {
  type AcquireRequestOptions,
  asRequestOptions,
  clientKeytabName,
  findClientKeytab,
  keytabSecret,
  loadKeytab,
  passwordSecret,
} from './credentials/acquisition.js';
import { CcacheFollower } from './credentials/ccache-follow.js';
import { clientPrincipal, servicePrincipal } from './credentials/names.js';
import { realmPath, requestWithReferrals, type TgsSession } from './credentials/tgs-path.js';
import {
  credToTicket,
  isTgsName,
  replyToTicket,
  type ServiceTicket,
  secs,
  tgtOfCred,
  toDate,
} from './credentials/tickets.js';
import { markCredentials } from './credentials-brand.js';
import { type KdcReply, kdcError, readKdcAnswer, toCcacheCredential } from './kdc-reply.js';
import { kdcProxyUrl, locateKdcs } from './locate.js';
import { buildTgsReq, openTgsRep, type TgsRequestOptions, type TgtCredential, tgsRealmOf } from './tgs.js';
import { type KdcTransport, sendToKdcs } from './transport.js';

// Loaded when first used: the AS exchange (password/keytab login; a ccache user never runs it)
// and S4U (impersonation, constrained delegation).
const asExchange = () => import('./as.js');
const s4u = () => import('./s4u.js');

export { servicePrincipal } from './credentials/names.js';
export type { ServiceTicket } from './credentials/tickets.js';

const KDC_ERR_S_PRINCIPAL_UNKNOWN = 7;

/** `service@host` (GSS_C_NT_HOSTBASED_SERVICE), as servicePrincipal() reads it. */
function hostBased(spn: string): { service: string; host: string } | undefined {
  const at = spn.indexOf('@');
  if (at <= 0 || spn.includes('/') || spn.indexOf('@', at + 1) >= 0) return undefined;
  const host = spn.slice(at + 1);
  return host === '' ? undefined : { service: spn.slice(0, at), host };
}

export interface CredentialsOptions {
  /** Parsed krb5.conf; default: loadConfig() (KRB5_CONFIG, else /etc/krb5.conf). */
  config?: Krb5Config;
  /** How requests reach KDCs; default: the realm's KDCs from krb5.conf/DNS over TCP/UDP. */
  transport?: KdcTransport;
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
  logger?: Logger;
  /** Write newly obtained service tickets back to the ccache, as MIT does (default true). */
  writeBack?: boolean;
  /** How often (ms) to check whether the ccache file was replaced, e.g. by kinit (default 1000; 0 = every call). */
  ccacheCheckIntervalMs?: number;
  /**
   * DNS for host-name canonicalization of `service@host` names (krb5.conf
   * `dns_canonicalize_hostname`, `rdns`); default the system resolver.
   * `createDnsResolver({ servers })` from 'spnego/krb5' asks other servers.
   */
  dns?: DnsResolver;
}

/** Canonical host names are looked up again after this long (MIT asks every time; we spare the resolver). */
const CANON_TTL_MS = 30_000;

export interface AcquireOptions extends CredentialsOptions, AcquireRequestOptions {}

/** Renew a renewable TGT when less than this remains (seconds). */
const RENEW_MARGIN = 300;
/** After a failed refresh from a keytab, the old TGT serves this long before the next try (MIT: 30 s). */
const REFRESH_RETRY_MS = 30_000;
/** Deno without --allow-write: warned once per process, not once per ticket. */
let warnedNoWrite = false;

/** When a TGT from a key is refreshed: halfway through its life (MIT's kg_cred_set_initial_refresh). */
function refreshTime(c: CcacheCredential): number {
  const start = c.startTime || c.authTime;
  return start + (c.endTime - start) / 2;
}

/** How the ccache layer reaches stores that are not files: the KCM socket from krb5.conf. */
export function storeOptions(config: Krb5Config): StoreOptions {
  const socketPath = config.libdefaults.kcmSocket;
  return socketPath === undefined ? {} : { kcm: { socketPath } };
}

function defaultTransport(config: Krb5Config, log: NamespacedLog): KdcTransport {
  return {
    async send(realm, request) {
      const lib = config.libdefaultsFor(realm);
      const kdcs = await locateKdcs(realm, config, { preferTcp: request.length > lib.udpPreferenceLimit });
      log(
        `sending ${request.length} bytes to realm ${realm} (${kdcs.map((k) => (k.transport === 'https' ? kdcProxyUrl(k) : `${k.host}:${k.port}`)).join(', ')})`,
      );
      return sendToKdcs(realm, kdcs, request, {
        httpAnchors: config.realms.get(realm)?.httpAnchors ?? [],
        udpPreferenceLimit: lib.udpPreferenceLimit,
        timeoutMs: (lib.kdcTimeout ?? 3) * 1000,
        totalTimeoutMs: lib.requestTimeout > 0 ? lib.requestTimeout * 1000 : 30_000,
      });
    },
  };
}

export class Credentials {
  readonly principal: Principal;
  readonly config: Krb5Config;
  private readonly transport: KdcTransport;
  private readonly now: () => number;
  private readonly log: NamespacedLog;
  private readonly warn: (message: string) => void;
  private readonly writeBack: boolean;
  private readonly ccacheCheckIntervalMs: number;
  /** Where the credentials came from and go back to; undefined for keytab/password in memory. */
  private follower: CcacheFollower | undefined;
  private ccache: Ccache;
  /** KDC clock minus ours, in ms. */
  private offsetMs: number;
  private secret: { secret: ClientSecret; acquire: AcquireOptions } | undefined;
  private readonly tickets = new Map<string, ServiceTicket>();
  private readonly inflight = new Map<string, Promise<ServiceTicket>>();
  /** The AS exchange or renewal under way: concurrent callers at expiry share it. */
  private tgtInflight: Promise<unknown> | undefined;
  private refreshRetryAt = Number.NEGATIVE_INFINITY;
  /** The TGS path's view of these credentials. */
  private readonly session: TgsSession;
  private readonly options: CredentialsOptions;
  /** Set on credentials from `impersonate()`: service tickets come by S4U2Proxy through `via`. */
  private proxy: { via: Credentials; evidence: { ticket: Ticket; client: Principal } } | undefined;

  private constructor(ccache: Ccache, config: Krb5Config, opts: CredentialsOptions) {
    markCredentials(this);
    this.ccache = ccache;
    this.principal = ccache.defaultPrincipal;
    this.config = config;
    this.options = opts;
    this.log = createLog('spnego:krb5', opts.logger);
    this.warn = createWarn('spnego:krb5', opts.logger);
    this.transport = opts.transport ?? defaultTransport(config, this.log);
    this.now = opts.now ?? Date.now;
    this.writeBack = opts.writeBack ?? true;
    this.ccacheCheckIntervalMs = opts.ccacheCheckIntervalMs ?? 1000;
    this.offsetMs = (ccache.header.kdcOffset?.seconds ?? 0) * 1000;
    const self = this;
    this.session = {
      get principal() {
        return self.principal;
      },
      config,
      primaryTgt: () => this.primaryTgt(),
      findTgt: (realm, issuer) => this.findTgt(realm, issuer),
      isValid: (c) => this.isValid(c),
      tgsExchange: (o, allowReferral, alternateTgt) => this.tgsExchange(o, allowReferral, alternateTgt),
      rememberReply: (reply) => this.remember(toCcacheCredential(reply)),
      tgsEtypes: () => this.tgsEtypes(),
      requestedTill: () => this.requestedTill(),
      log: (m) => this.log(m),
    };
  }

  /** The KDC's idea of now (our clock plus the recorded offset), in ms. */
  kdcNow(): number {
    return this.now() + this.offsetMs;
  }

  /**
   * From an MIT ccache: `name` as KRB5CCNAME takes it (FILE:, DIR:, MEMORY:), default the
   * ccache MIT would use. `principal` picks a cache of a DIR: collection by client.
   */
  static async fromCcache(
    name?: string,
    opts: CredentialsOptions & { principal?: string } = {},
  ): Promise<Credentials> {
    await aesReady();
    const config = opts.config ?? (await loadConfig());
    const ccName = name ?? defaultCcacheName({ defaultCcacheName: config.libdefaults.defaultCcacheName });
    let store: CcacheStore;
    if (opts.principal !== undefined) {
      const wanted = parsePrincipal(opts.principal, config.libdefaults.defaultRealm);
      const found = await findCcacheForPrincipal(ccName, wanted, storeOptions(config));
      if (!found) {
        throw new CredentialsError(
          'CCACHE_NOT_FOUND',
          `no credential cache for ${unparsePrincipal(wanted)} in ${ccName}`,
          {
            hint: `run kinit ${unparsePrincipal(wanted)} (with KRB5CCNAME=${ccName})`,
          },
        );
      }
      store = found;
    } else store = await openCcache(ccName, storeOptions(config));
    const ccache = await store.read();
    const c = new Credentials(ccache, config, opts);
    c.follower = await CcacheFollower.start(store, c.ccacheCheckIntervalMs);
    c.log(`using ccache ${store.name} for ${unparsePrincipal(ccache.defaultPrincipal)}`);
    return c;
  }

  /**
   * From credentials already in memory: a parsed ccache (the TGT a client delegated to a service,
   * RFC 4121 §4.1.1) or the bytes of an MIT ccache file (a secret handed to a serverless
   * function). Nothing is written anywhere unless `save(name)` is called.
   */
  static async fromCcacheData(
    ccache: Ccache | Uint8Array,
    opts: CredentialsOptions = {},
  ): Promise<Credentials> {
    await aesReady();
    const config = opts.config ?? (await loadConfig());
    const parsed = ccache instanceof Uint8Array ? parseCcache(ccache) : ccache;
    const c = new Credentials({ ...parsed, credentials: [...parsed.credentials] }, config, opts);
    c.log(`using in-memory credentials of ${unparsePrincipal(parsed.defaultPrincipal)}`);
    return c;
  }

  /**
   * The credentials MIT's GSSAPI would use: the default ccache (or, with `principal`, that
   * principal's cache in the collection). When it is missing or holds no valid TGT and a client
   * keytab is configured (KRB5_CLIENT_KTNAME, default_client_keytab_name, or a file at MIT's
   * built-in default path), a TGT from the keytab instead, kept in memory only and re-acquired
   * before it expires. Without a client keytab, the ccache's own error (with its kinit hint).
   */
  static async fromEnvironment(opts: AcquireOptions & { principal?: string } = {}): Promise<Credentials> {
    const config = opts.config ?? (await loadConfig());
    const o = { ...opts, config };
    let ccacheError: unknown;
    let fromCache: Credentials | undefined;
    try {
      fromCache = await Credentials.fromCcache(undefined, o);
      if (fromCache.hasValidTgt()) return fromCache;
    } catch (e) {
      if (!(e instanceof CredentialsError)) throw e;
      ccacheError = e;
    }
    const found = await findClientKeytab(config);
    const wanted =
      opts.principal !== undefined
        ? parsePrincipal(opts.principal, config.libdefaults.defaultRealm)
        : (fromCache?.principal ?? found?.keytab.entries[0]?.principal);
    const holds =
      wanted !== undefined &&
      found?.keytab.entries.some((e) => principalsEqual(e.principal, wanted)) === true;
    if (found === undefined || wanted === undefined || !holds) {
      if (fromCache) return fromCache;
      throw ccacheError;
    }
    fromCache?.log(`the ccache holds no valid TGT; using the client keytab ${found.name}`);
    return Credentials.fromKeytab(wanted, found.keytab, o);
  }

  /** Whether a TGT for the client's own realm is held and still valid. */
  private hasValidTgt(): boolean {
    const tgt = this.findTgt(this.principal.realm, this.principal.realm);
    return tgt !== undefined && this.isValid(tgt);
  }

  /** From a keytab (default: KRB5_CLIENT_KTNAME, default_client_keytab_name). Runs the AS exchange. */
  static async fromKeytab(
    principal: string | Principal,
    keytab?: string | Keytab,
    opts: AcquireOptions = {},
  ): Promise<Credentials> {
    await aesReady();
    const config = opts.config ?? (await loadConfig());
    const client = clientPrincipal(principal, config, opts.enterprise === true);
    const kt =
      keytab === undefined || typeof keytab === 'string'
        ? await loadKeytab(keytab ?? clientKeytabName(config) ?? 'FILE:/etc/krb5.keytab')
        : keytab;
    return Credentials.acquire(client, keytabSecret(kt, client), config, opts);
  }

  /** From a password (our own AS exchange with PA-ENC-TIMESTAMP); the password is not kept. */
  static async fromPassword(
    principal: string | Principal,
    password: string,
    opts: AcquireOptions = {},
  ): Promise<Credentials> {
    await aesReady();
    const config = opts.config ?? (await loadConfig());
    const client = clientPrincipal(principal, config, opts.enterprise === true);
    const maxIterations =
      opts.maxStringToKeyIterations ?? config.libdefaultsFor(client.realm).maxS2kIterations;
    return Credentials.acquire(client, passwordSecret(password, maxIterations), config, opts);
  }

  private static async acquire(
    client: Principal,
    secret: ClientSecret,
    config: Krb5Config,
    opts: AcquireOptions,
  ): Promise<Credentials> {
    const c = new Credentials(newCcache(client), config, opts);
    c.secret = { secret, acquire: opts };
    await c.runAs();
    return c;
  }

  private async runAs(): Promise<void> {
    if (!this.secret) throw new CredentialsError('NO_SECRET', 'no key to obtain a TGT with');
    const opts = asRequestOptions(this.principal, this.config, this.secret.acquire);
    this.log(`AS-REQ for ${unparsePrincipal(opts.client)} (enctypes ${opts.etypes.join(',')})`);
    const res = await (await asExchange()).runAsExchange(
      opts,
      this.secret.secret,
      { send: (r, b) => this.transport.send(r, b), now: this.now },
      this.offsetMs,
    );
    this.offsetMs = res.kdcOffsetSeconds * 1000;
    const cred = toCcacheCredential(res.reply);
    // A canonicalized reply may name the client differently: the ccache follows the KDC.
    this.ccache = newCcache(res.reply.client, { seconds: res.kdcOffsetSeconds, microseconds: 0 });
    (this as { principal: Principal }).principal = res.reply.client;
    this.ccache.credentials.push(cred);
    this.tickets.clear();
    this.log(`got TGT ${unparsePrincipal(res.reply.server)} valid until ${res.reply.endTime.toISOString()}`);
  }

  /** Every credential currently held (TGTs, service tickets, config entries). */
  toCcache(): Ccache {
    return { ...this.ccache, credentials: [...this.ccache.credentials] };
  }

  /** Writes the credentials to a ccache (default: the one they came from, else the default name). */
  async save(ccacheName?: string): Promise<string> {
    const store =
      ccacheName !== undefined
        ? await openCcache(ccacheName, storeOptions(this.config))
        : (this.follower?.store ??
          (await openCcache(
            defaultCcacheName({ defaultCcacheName: this.config.libdefaults.defaultCcacheName }),
            storeOptions(this.config),
          )));
    await store.write(this.toCcache());
    if (store === this.follower?.store) await this.follower.wrote();
    return store.name;
  }

  /** Re-reads the ccache if its file was replaced since we read it (kinit again, kdestroy). */
  private async refreshFromStore(): Promise<void> {
    if (!this.follower) return;
    const change = await this.follower.check(this.now());
    if (change.kind === 'unchanged') return;
    if (change.kind === 'destroyed') {
      // kdestroy: as with MIT, whose every call re-reads the cache, the user's tickets are gone.
      // Only a keytab or password behind these credentials may get new ones.
      if (this.secret) return;
      this.ccache = { ...this.ccache, credentials: [] };
      this.tickets.clear();
      throw new CredentialsError(
        'CCACHE_DESTROYED',
        `credential cache ${this.follower.store.name} no longer exists`,
        {
          hint: 'it was destroyed (kdestroy) or removed; run kinit to get new tickets',
        },
      );
    }
    this.log(`ccache ${this.follower.store.name} changed on disk; reloading`);
    const fresh = change.ccache;
    this.ccache = fresh;
    (this as { principal: Principal }).principal = fresh.defaultPrincipal;
    this.offsetMs = (fresh.header.kdcOffset?.seconds ?? 0) * 1000;
    this.tickets.clear();
  }

  private clockskewMs(): number {
    return this.config.libdefaults.clockskew * 1000;
  }

  private isValid(c: { endTime: number; startTime: number; authTime: number }): boolean {
    return c.endTime * 1000 - this.clockskewMs() > this.kdcNow();
  }

  /**
   * The TGT for `realm` (krbtgt/REALM@ISSUER, issued by `issuer`) held by our own client principal:
   * a ticket another principal left in the same cache is never used on our behalf (as MIT's
   * krb5_cc_retrieve_cred compares the client exactly).
   */
  private findTgt(realm: string, issuer: string): CcacheCredential | undefined {
    let best: CcacheCredential | undefined;
    for (const c of this.ccache.credentials) {
      if (isConfigEntry(c) || c.isSkey) continue;
      if (!isTgsName(c.server) || c.server.name.nameString[1] !== realm || c.server.realm !== issuer)
        continue;
      if (!this.sameClient(c.client)) continue;
      if (!best || c.endTime > best.endTime) best = c;
    }
    return best;
  }

  private sameClient(p: Principal): boolean {
    return (
      p.realm === this.principal.realm &&
      p.name.nameString.join('/') === this.principal.name.nameString.join('/')
    );
  }

  /**
   * A usable TGT for the client's realm. A renewable one is renewed close to its end (MIT's
   * kinit -R, done for the user). With a key (keytab, password) a TGT that cannot be renewed is
   * re-acquired once past the middle of its life, as MIT's GSSAPI refreshes client-keytab
   * credentials, so a service ticket obtained now does not die with the TGT a moment later.
   * A failed renewal or refresh keeps the old TGT while it lasts (a refresh is retried after a
   * pause); concurrent callers share one exchange.
   */
  private async primaryTgt(): Promise<TgtCredential> {
    if (this.proxy) return this.proxy.via.primaryTgt();
    const realm = this.principal.realm;
    let tgt = this.findTgt(realm, realm);
    const nowSec = this.kdcNow() / 1000;
    if (tgt && tgt.endTime > nowSec) {
      const renewable = (tgt.flags & TicketFlag.RENEWABLE) !== 0 && tgt.renewTill > nowSec;
      const due = nowSec >= refreshTime(tgt);
      if (renewable && ((due && tgt.endTime - nowSec < RENEW_MARGIN) || !this.isValid(tgt))) {
        const old: CcacheCredential = tgt;
        tgt = await this.singleFlightTgt(() => this.renewTgt(old)).catch((e: unknown) => {
          this.log(`TGT renewal failed: ${e instanceof Error ? e.message : String(e)}`);
          return old;
        });
      } else if (!renewable && due && this.secret && this.isValid(tgt) && this.now() >= this.refreshRetryAt) {
        try {
          await this.singleFlightTgt(() => this.runAs());
          tgt = this.findTgt(this.principal.realm, this.principal.realm) ?? tgt;
        } catch (e) {
          this.refreshRetryAt = this.now() + REFRESH_RETRY_MS;
          this.log(
            `TGT refresh failed, keeping the current TGT: ${e instanceof Error ? e.message : String(e)}`,
          );
        }
      }
      if (this.isValid(tgt) || !this.secret) return tgtOfCred(tgt);
    }
    if (this.secret) {
      await this.singleFlightTgt(() => this.runAs());
      const fresh = this.findTgt(this.principal.realm, this.principal.realm);
      if (fresh) return tgtOfCred(fresh);
    }
    if (tgt) {
      throw new CredentialsError(
        'TGT_EXPIRED',
        `the TGT of ${unparsePrincipal(this.principal)} expired at ${new Date(tgt.endTime * 1000).toISOString()}`,
        {
          hint: `run kinit ${unparsePrincipal(this.principal)} to get a new one`,
        },
      );
    }
    throw new CredentialsError(
      'NO_TGT',
      `no TGT for realm ${realm} in ${this.follower?.store.name ?? 'these credentials'}`,
      {
        hint: `run kinit ${unparsePrincipal(this.principal)}`,
      },
    );
  }

  /** Runs `fn` unless a TGT refresh is already under way, in which case its result is awaited. */
  private singleFlightTgt<T>(fn: () => Promise<T>): Promise<T> {
    const pending = this.tgtInflight as Promise<T> | undefined;
    if (pending) return pending;
    const p = fn().finally(() => {
      if (this.tgtInflight === p) this.tgtInflight = undefined;
    });
    this.tgtInflight = p;
    return p;
  }

  private async renewTgt(c: CcacheCredential): Promise<CcacheCredential> {
    const tgt = tgtOfCred(c);
    this.log(`renewing TGT ${unparsePrincipal(c.server)}`);
    const reply = await this.tgsExchange({
      tgt,
      server: c.server,
      etypes: this.tgsEtypes(),
      till: toDate(c.renewTill),
      renew: true,
    });
    const cred = toCcacheCredential(reply);
    this.remember(cred);
    await this.persist();
    return cred;
  }

  /** End time asked of the TGS: the configured ticket lifetime; the KDC caps it at the TGT's. */
  private requestedTill(): Date {
    const life = this.config.libdefaultsFor(this.principal.realm).ticketLifetime;
    return new Date((Math.floor(this.kdcNow() / 1000) + life) * 1000);
  }

  private tgsEtypes(): number[] {
    return this.config
      .libdefaultsFor(this.principal.realm)
      .defaultTgsEnctypes.filter((e) => isEnctypeSupported(e));
  }

  /** One TGS round trip, with one retry after KRB_AP_ERR_SKEW using the KDC's clock. */
  private async tgsExchange(
    opts: TgsRequestOptions,
    allowReferral = false,
    alternateTgt = false,
  ): Promise<KdcReply> {
    for (let attempt = 0; ; attempt++) {
      const built = buildTgsReq(opts, this.kdcNow());
      const answer = readKdcAnswer(await this.transport.send(tgsRealmOf(opts.tgt), built.bytes), 'tgs-rep');
      if (answer.kind === 'rep') return openTgsRep(answer.rep, built, opts, allowReferral, alternateTgt);
      const err = answer.error;
      if (err.errorCode === 37 && attempt === 0) {
        this.offsetMs = err.stime.getTime() + Math.floor(err.susec / 1000) - this.now();
        // Kept in the ccache header too, as MIT's kdc_timesync does, so the next process starts right.
        this.ccache.header = {
          ...this.ccache.header,
          kdcOffset: { seconds: Math.round(this.offsetMs / 1000), microseconds: 0 },
        };
        this.log(
          `clock skew reported by the KDC; adjusting offset to ${Math.round(this.offsetMs / 1000)} s and retrying`,
        );
        continue;
      }
      throw kdcError(err, `TGS-REQ for ${unparsePrincipal(opts.server)}`);
    }
  }

  /** Stores a credential in the in-memory ccache, replacing one for the same server. */
  private remember(cred: CcacheCredential): void {
    const key = unparsePrincipal(cred.server);
    this.ccache.credentials = this.ccache.credentials.filter(
      (c) => isConfigEntry(c) || unparsePrincipal(c.server) !== key || c.isSkey,
    );
    this.ccache.credentials.push(cred);
  }

  /**
   * A service ticket for `spn` (`HTTP/host@REALM`, `HTTP/host`, `HTTP@host` or a Principal):
   * from memory, else the ccache, else the KDC (following referrals). Concurrent callers for
   * the same service share one TGS-REQ.
   */
  async getServiceTicket(spn: string | Principal): Promise<ServiceTicket> {
    const hb = typeof spn === 'string' ? hostBased(spn) : undefined;
    if (hb === undefined) return this.serviceTicketFor(spn);
    // GSS_C_NT_HOSTBASED_SERVICE: the host is canonicalized as MIT's krb5_sname_to_principal does
    // (dns_canonicalize_hostname, rdns); a principal name (`svc/host@REALM`) is used as given.
    const mode = this.config.libdefaults.dnsCanonicalizeHostname;
    const given = hb.host.replace(/\.$/, '').toLowerCase();
    if (mode === false) return this.serviceTicketFor(`${hb.service}@${given}`);
    if (mode === true) return this.serviceTicketFor(`${hb.service}@${await this.canonicalHost(hb.host)}`);
    // fallback: the name as given first; canonicalized only when the KDC does not know it.
    try {
      return await this.serviceTicketFor(`${hb.service}@${given}`);
    } catch (e) {
      if (!(e instanceof KerberosError) || e.errorCode !== KDC_ERR_S_PRINCIPAL_UNKNOWN) throw e;
      const canon = await this.canonicalHost(hb.host);
      if (canon === given) throw e;
      this.log(
        `${hb.service}@${given} unknown to the KDC; trying the canonical name ${canon} (dns_canonicalize_hostname = fallback)`,
      );
      return this.serviceTicketFor(`${hb.service}@${canon}`);
    }
  }

  private readonly canonical = new Map<string, { name: string; until: number }>();

  /** `host` canonicalized through DNS (CNAMEs; PTR with rdns), lowercased; as given when it does not resolve. */
  private async canonicalHost(host: string): Promise<string> {
    const given = host.replace(/\.$/, '').toLowerCase();
    const rdns = this.config.libdefaults.rdns;
    const key = `${rdns ? 'r' : 'f'}:${given}`;
    const hit = this.canonical.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return hit.name;
    const dns = this.options.dns ?? systemDns;
    const found = dns.canonicalHost ? await dns.canonicalHost(given, rdns) : undefined;
    const name = found && found.length > 0 ? found : given;
    if (name !== given) this.log(`canonicalized host ${given} to ${name}${rdns ? ' (rdns)' : ''}`);
    if (this.canonical.size > 256) this.canonical.clear();
    this.canonical.set(key, { name, until: now + CANON_TTL_MS });
    return name;
  }

  private async serviceTicketFor(spn: string | Principal): Promise<ServiceTicket> {
    await this.refreshFromStore();
    const { server, referral } = servicePrincipal(spn, this.config, this.principal.realm);
    // Keyed by client too: the ccache may be replaced by another principal's (kinit as someone
    // else) while a request is in flight; its answer must not be handed to the new principal.
    const key = `${unparsePrincipal(this.principal)}\u0000${referral ? '?' : ''}${unparsePrincipal(server)}`;
    const cached = this.tickets.get(key);
    if (cached && secs(cached.endTime) * 1000 - this.clockskewMs() > this.kdcNow()) {
      this.log(() => `service ticket for ${unparsePrincipal(server)} from memory`);
      return cached;
    }
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = this.fetchServiceTicket(server, referral).then(
      (t) => {
        this.tickets.set(key, t);
        this.inflight.delete(key);
        return t;
      },
      (e: unknown) => {
        this.inflight.delete(key);
        throw e;
      },
    );
    this.inflight.set(key, p);
    return p;
  }

  private fromCcache(server: Principal, referral: boolean): ServiceTicket | undefined {
    const wanted = server.name.nameString.join('/');
    for (const c of this.ccache.credentials) {
      if (isConfigEntry(c) || c.isSkey || !this.isValid(c)) continue;
      if (c.server.name.nameString.join('/') !== wanted) continue;
      if (!referral && c.server.realm !== server.realm) continue;
      if (!this.sameClient(c.client)) continue;
      return credToTicket(c);
    }
    return undefined;
  }

  private async fetchServiceTicket(server: Principal, referral: boolean): Promise<ServiceTicket> {
    if (this.proxy) {
      const { via, evidence } = this.proxy;
      const target = referral ? { ...server, realm: via.principal.realm } : server;
      const reply = await (await s4u()).s4u2Proxy(via.session, evidence, target);
      this.remember(toCcacheCredential(reply));
      return replyToTicket(reply);
    }
    const fromFile = this.fromCcache(server, referral);
    if (fromFile) {
      this.log(`service ticket for ${unparsePrincipal(fromFile.server)} from the ccache`);
      return fromFile;
    }
    const reply = await requestWithReferrals(this.session, server, referral);
    const cred = toCcacheCredential(reply);
    // Only into a cache that is still this client's (not one replaced by another kinit meanwhile).
    if (this.sameClient(reply.client)) {
      this.remember(cred);
      await this.persist();
    }
    this.log(
      `got service ticket ${unparsePrincipal(reply.server)} (enctype ${reply.ticket.encPart.etype}) valid until ${reply.endTime.toISOString()}`,
    );
    return replyToTicket(reply);
  }

  /** Intermediate realms from `from` to `to`: [capaths] when configured, else the DNS-style hierarchy. */
  realmPath(from: string, to: string): string[] {
    return realmPath(this.config, from, to);
  }

  /**
   * S4U2Self (MS-SFU protocol transition): a ticket to this service for `user`, who authenticated
   * some other way (a form, a certificate, a token). It is the evidence `impersonate()` takes;
   * forwardable only if the KDC lets this account do protocol transition.
   */
  async getTicketForUser(user: string | Principal): Promise<ServiceTicket> {
    await this.refreshFromStore();
    const who = typeof user === 'string' ? parsePrincipal(user, this.principal.realm) : user;
    const reply = await (await s4u()).s4u2Self(this.session, who);
    return replyToTicket(reply);
  }

  /**
   * Credentials acting for a user (MS-SFU constrained delegation), usable wherever Credentials
   * are (negotiateFetch, spnego/kerberos): each service ticket is obtained by S4U2Proxy with this
   * service's TGT. `user` is the evidence — the user's ticket to this service, as the middleware
   * received it (`req.negotiate.evidence`) or as `getTicketForUser` returned it — or a name, for
   * which S4U2Self is run first. The KDC decides which back ends are allowed.
   */
  async impersonate(user: string | Principal | { ticket: Ticket; client: Principal }): Promise<Credentials> {
    const evidence =
      typeof user === 'string' || !('ticket' in user) ? await this.getTicketForUser(user) : user;
    const c = new Credentials(newCcache(evidence.client), this.config, {
      ...this.options,
      transport: this.transport,
      now: this.now,
      writeBack: false,
    });
    c.offsetMs = this.offsetMs;
    c.proxy = { via: this, evidence: { ticket: evidence.ticket, client: evidence.client } };
    c.log(
      `acting for ${unparsePrincipal(evidence.client)} through ${unparsePrincipal(this.principal)} (S4U2Proxy)`,
    );
    return c;
  }

  /** A forwarded TGT for delegation (RFC 4120 §2.6): krbtgt of the client realm, FORWARDED. */
  async getForwardedTgt(): Promise<KdcReply> {
    if (this.proxy) {
      throw new CredentialsError(
        'NO_TGT_TO_DELEGATE',
        `credentials acting for ${unparsePrincipal(this.principal)} (S4U2Proxy) hold no TGT to delegate`,
        { hint: 'do not ask for delegation (delegate: false) with impersonated credentials' },
      );
    }
    const tgt = await this.primaryTgt();
    return this.tgsExchange({
      tgt,
      server: tgt.server,
      etypes: this.tgsEtypes(),
      till: this.requestedTill(),
      forwarded: true,
    });
  }

  /**
   * Renews the client realm's TGT now (MIT `kinit -R`), whatever time it has left; a TGT that is
   * not renewable, or past its renew-till, is refused by the KDC. Returns the renewed TGT.
   */
  async renew(): Promise<CcacheCredential> {
    await this.refreshFromStore();
    const realm = this.principal.realm;
    const tgt = this.findTgt(realm, realm);
    if (!tgt) {
      throw new CredentialsError(
        'NO_TGT',
        `no TGT for realm ${realm} to renew in ${this.follower?.store.name ?? 'these credentials'}`,
        { hint: `run kinit ${unparsePrincipal(this.principal)}` },
      );
    }
    const reply = await this.tgsExchange({
      tgt: tgtOfCred(tgt),
      server: tgt.server,
      etypes: this.tgsEtypes(),
      till: tgt.renewTill ? toDate(tgt.renewTill) : this.requestedTill(),
      renew: true,
    });
    const cred = toCcacheCredential(reply);
    this.remember(cred);
    this.tickets.clear();
    return cred;
  }

  /** Writes new tickets back to the ccache they came from, merging with what is there now. */
  private async persist(): Promise<void> {
    if (!this.follower || !this.writeBack) return;
    try {
      await this.follower.writeBack(this.ccache, this.principal, (m) => this.log(m));
    } catch (e) {
      const why = `could not write tickets back to ${this.follower.store.name}: ${e instanceof Error ? e.message : String(e)}`;
      // Deno without --allow-write: every new ticket would be lost silently; say so once.
      if (isWritePermissionDenied(e) && !warnedNoWrite) {
        warnedNoWrite = true;
        this.warn(
          `${why}. Tickets are kept in memory only; grant --allow-write for the ccache to share them with later runs and MIT's tools`,
        );
      } else this.log(why);
    }
  }
}
