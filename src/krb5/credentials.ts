// `Credentials`: a client principal's TGT (from a ccache, a keytab or a password) and the
// service tickets obtained with it. Service tickets are cached in memory by server name,
// fetched single-flight, written back to the FILE ccache as MIT does, refreshed when the
// ccache file is replaced (the user ran kinit again) and dropped when it is destroyed (kdestroy).
import { decodeTicket, type Ticket } from '../asn1/index.js';
import type { EncryptionKey } from '../asn1/types.js';
import { NameType } from '../asn1/types.js';
import { type Ccache, type CcacheCredential, isConfigEntry, newCcache } from '../ccache/ccache.js';
import { TicketFlag } from '../ccache/flags.js';
import { findKeytabEntry, type Keytab, readKeytab } from '../ccache/keytab.js';
import { type Principal, parsePrincipal, unparsePrincipal } from '../ccache/principal-text.js';
import { defaultCcacheName } from '../ccache/resolve.js';
import { type CcacheStore, findCcacheForPrincipal, openCcache } from '../ccache/store.js';
import { isEnctypeSupported, type Key, makeKey, stringToKey } from '../crypto/index.js';
import { CredentialsError, KerberosError } from '../errors.js';
import { getEnv } from '../runtime/env.js';
import { statFile } from '../runtime/fs.js';
import { createLog, type Logger, type NamespacedLog } from '../runtime/log.js';
import { type AsRequestOptions, type ClientSecret, runAsExchange, tgsPrincipal } from './as.js';
import type { Krb5Config } from './config.js';
import { loadConfig } from './config-load.js';
import { type KdcReply, kdcError, readKdcAnswer, toCcacheCredential } from './kdc-reply.js';
import { locateKdcs } from './locate.js';
import { mappedRealmOfHost } from './realm-of-host.js';
import { buildTgsReq, openTgsRep, type TgsRequestOptions, type TgtCredential, tgsRealmOf } from './tgs.js';
import { type KdcTransport, sendToKdcs } from './transport.js';

/** A service ticket ready for an AP-REQ. */
export interface ServiceTicket {
  client: Principal;
  server: Principal;
  ticket: Ticket;
  ticketBytes: Uint8Array;
  sessionKey: Key;
  flags: number;
  authTime: Date;
  startTime: Date;
  endTime: Date;
  renewTill: Date | undefined;
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
}

export interface AcquireOptions extends CredentialsOptions {
  /** Ticket lifetime in seconds; default ticket_lifetime from krb5.conf. */
  lifetime?: number;
  /** Renewable lifetime in seconds; default renew_lifetime from krb5.conf. */
  renewLifetime?: number;
  forwardable?: boolean;
  proxiable?: boolean;
  canonicalize?: boolean;
  /** Treat the name as an enterprise principal (`user@domain@REALM`, RFC 6806 §5). */
  enterprise?: boolean;
  requestPac?: boolean;
}

const MAX_REFERRALS = 10;
/** Renew a renewable TGT when less than this remains (seconds). */
const RENEW_MARGIN = 300;

function defaultTransport(config: Krb5Config, log: NamespacedLog): KdcTransport {
  return {
    async send(realm, request) {
      const lib = config.libdefaultsFor(realm);
      const kdcs = await locateKdcs(realm, config, { preferTcp: request.length > lib.udpPreferenceLimit });
      log(
        `sending ${request.length} bytes to realm ${realm} (${kdcs.map((k) => `${k.host}:${k.port}`).join(', ')})`,
      );
      return sendToKdcs(realm, kdcs, request, {
        udpPreferenceLimit: lib.udpPreferenceLimit,
        timeoutMs: (lib.kdcTimeout ?? 3) * 1000,
        totalTimeoutMs: lib.requestTimeout > 0 ? lib.requestTimeout * 1000 : 30_000,
      });
    },
  };
}

const toDate = (s: number): Date => new Date(s * 1000);
const secs = (d: Date): number => Math.floor(d.getTime() / 1000);

function isTgsName(p: Principal): boolean {
  return p.name.nameString.length === 2 && p.name.nameString[0] === 'krbtgt';
}

function credToTicket(c: CcacheCredential): ServiceTicket {
  return {
    client: c.client,
    server: c.server,
    ticket: decodeTicket(c.ticket),
    ticketBytes: c.ticket,
    sessionKey: makeKey(c.key.keytype, c.key.keyvalue),
    flags: c.flags,
    authTime: toDate(c.authTime),
    startTime: toDate(c.startTime || c.authTime),
    endTime: toDate(c.endTime),
    renewTill: c.renewTill ? toDate(c.renewTill) : undefined,
  };
}

function replyToTicket(r: KdcReply): ServiceTicket {
  return {
    client: r.client,
    server: r.server,
    ticket: r.ticket,
    ticketBytes: r.ticketBytes,
    sessionKey: keyOf(r.sessionKey),
    flags: r.flags,
    authTime: r.authTime,
    startTime: r.startTime ?? r.authTime,
    endTime: r.endTime,
    renewTill: r.renewTill,
  };
}

/** A TGT (referral or cross-realm) obtained from a TGS reply, ready to present. */
function tgtOf(reply: KdcReply): TgtCredential {
  return {
    client: reply.client,
    server: reply.server,
    ticket: reply.ticket,
    sessionKey: keyOf(reply.sessionKey),
  };
}

function keyOf(k: EncryptionKey): Key {
  return makeKey(k.keytype, k.keyvalue);
}

/**
 * Turns a service name into a principal: `HTTP/host@REALM` as given; `HTTP@host` (GSS
 * host-based) or `HTTP/host` gets its realm from [domain_realm], else is left to the KDC to
 * place (a referral, RFC 6806) starting from the client's realm.
 */
export function servicePrincipal(
  spn: string | Principal,
  config: Krb5Config,
  clientRealm: string,
): { server: Principal; referral: boolean } {
  if (typeof spn !== 'string') return { server: spn, referral: false };
  let text = spn;
  const at = spn.indexOf('@');
  if (at > 0 && !spn.includes('/') && spn.indexOf('@', at + 1) < 0) {
    // GSS_C_NT_HOSTBASED_SERVICE: service@host
    text = `${spn.slice(0, at)}/${spn.slice(at + 1)}`;
    const host = spn.slice(at + 1);
    const realm = mappedRealmOfHost(host, config);
    const name = { nameType: NameType.SRV_HST, nameString: [spn.slice(0, at), host.toLowerCase()] };
    return realm === undefined
      ? { server: { realm: clientRealm, name }, referral: true }
      : { server: { realm, name }, referral: false };
  }
  const hasRealm = /(^|[^\\])@/.test(text);
  if (hasRealm) {
    const p = parsePrincipal(text);
    if (p.name.nameString.length === 2) p.name.nameType = NameType.SRV_HST;
    return { server: p, referral: false };
  }
  const p = parsePrincipal(text, clientRealm);
  if (p.name.nameString.length === 2) {
    p.name.nameType = NameType.SRV_HST;
    const realm = mappedRealmOfHost(p.name.nameString[1] as string, config);
    if (realm !== undefined) return { server: { ...p, realm }, referral: false };
  }
  return { server: p, referral: true };
}

export class Credentials {
  readonly principal: Principal;
  readonly config: Krb5Config;
  private readonly transport: KdcTransport;
  private readonly now: () => number;
  private readonly log: NamespacedLog;
  private readonly writeBack: boolean;
  private readonly ccacheCheckIntervalMs: number;
  private lastStoreCheck = Number.NEGATIVE_INFINITY;
  /** Where the credentials came from and go back to; undefined for keytab/password in memory. */
  private store: CcacheStore | undefined;
  private storeIdentity: string | undefined;
  private ccache: Ccache;
  /** KDC clock minus ours, in ms. */
  private offsetMs: number;
  private secret: { secret: ClientSecret; acquire: AcquireOptions } | undefined;
  private readonly tickets = new Map<string, ServiceTicket>();
  private readonly inflight = new Map<string, Promise<ServiceTicket>>();

  private constructor(ccache: Ccache, config: Krb5Config, opts: CredentialsOptions) {
    this.ccache = ccache;
    this.principal = ccache.defaultPrincipal;
    this.config = config;
    this.log = createLog('spnego:krb5', opts.logger);
    this.transport = opts.transport ?? defaultTransport(config, this.log);
    this.now = opts.now ?? Date.now;
    this.writeBack = opts.writeBack ?? true;
    this.ccacheCheckIntervalMs = opts.ccacheCheckIntervalMs ?? 1000;
    this.offsetMs = (ccache.header.kdcOffset?.seconds ?? 0) * 1000;
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
    const config = opts.config ?? (await loadConfig());
    const ccName = name ?? defaultCcacheName({ defaultCcacheName: config.libdefaults.defaultCcacheName });
    let store: CcacheStore;
    if (opts.principal !== undefined) {
      const wanted = parsePrincipal(opts.principal, config.libdefaults.defaultRealm);
      const found = await findCcacheForPrincipal(ccName, wanted);
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
    } else store = await openCcache(ccName);
    const ccache = await store.read();
    const c = new Credentials(ccache, config, opts);
    c.store = store;
    c.storeIdentity = await fileIdentity(store);
    c.log(`using ccache ${store.name} for ${unparsePrincipal(ccache.defaultPrincipal)}`);
    return c;
  }

  /**
   * From credentials already in memory, e.g. the TGT a client delegated to a service (RFC 4121
   * §4.1.1). Nothing is written anywhere unless `save(name)` is called.
   */
  static async fromCcacheData(ccache: Ccache, opts: CredentialsOptions = {}): Promise<Credentials> {
    const config = opts.config ?? (await loadConfig());
    const c = new Credentials({ ...ccache, credentials: [...ccache.credentials] }, config, opts);
    c.log(`using in-memory credentials of ${unparsePrincipal(ccache.defaultPrincipal)}`);
    return c;
  }

  /** From a keytab (default: KRB5_CLIENT_KTNAME, default_client_keytab_name). Runs the AS exchange. */
  static async fromKeytab(
    principal: string | Principal,
    keytab?: string | Keytab,
    opts: AcquireOptions = {},
  ): Promise<Credentials> {
    const config = opts.config ?? (await loadConfig());
    const client = clientPrincipal(principal, config, opts.enterprise === true);
    let kt: Keytab;
    if (keytab === undefined || typeof keytab === 'string') {
      const name =
        keytab ??
        getEnv('KRB5_CLIENT_KTNAME') ??
        config.libdefaults.defaultClientKeytabName ??
        'FILE:/etc/krb5.keytab';
      kt = await readKeytab(name.replace(/^(FILE|WRFILE):/, ''));
    } else kt = keytab;
    const entries = kt.entries.filter(
      (e) =>
        e.principal.realm === client.realm &&
        e.principal.name.nameString.join('/') === client.name.nameString.join('/'),
    );
    if (entries.length === 0) {
      throw new CredentialsError(
        'KEYTAB_NO_PRINCIPAL',
        `the keytab has no key for ${unparsePrincipal(client)}`,
        {
          hint: 'check the principal name (klist -k KEYTAB lists what it holds)',
        },
      );
    }
    const secret: ClientSecret = {
      enctypes: [...new Set(entries.map((e) => e.key.keytype))],
      keyFor: (hint) => {
        const e = findKeytabEntry(kt, {
          principal: client.name.nameString.join('/'),
          realm: client.realm,
          enctype: hint.etype,
        });
        return e === undefined || !isEnctypeSupported(e.key.keytype)
          ? undefined
          : makeKey(e.key.keytype, e.key.keyvalue);
      },
    };
    return Credentials.acquire(client, secret, config, opts);
  }

  /** From a password (our own AS exchange with PA-ENC-TIMESTAMP); the password is not kept. */
  static async fromPassword(
    principal: string | Principal,
    password: string,
    opts: AcquireOptions = {},
  ): Promise<Credentials> {
    const config = opts.config ?? (await loadConfig());
    const client = clientPrincipal(principal, config, opts.enterprise === true);
    // Derived keys are kept per (etype, salt, params) so a renewal needs no password.
    const derived = new Map<string, Key>();
    const secret: ClientSecret = {
      keyFor: (hint) => {
        const id = `${hint.etype}:${hex(hint.salt)}:${hint.s2kparams ? hex(hint.s2kparams) : ''}`;
        let k = derived.get(id);
        if (!k) {
          k = stringToKey(hint.etype, password, hint.salt, hint.s2kparams);
          derived.set(id, k);
        }
        return k;
      },
    };
    return Credentials.acquire(client, secret, config, opts);
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

  private asOptions(): AsRequestOptions {
    const lib = this.config.libdefaultsFor(this.principal.realm);
    const o = this.secret?.acquire ?? {};
    let client = this.principal;
    if (o.enterprise && client.name.nameType !== NameType.ENTERPRISE) {
      client = {
        realm: client.realm,
        name: { nameType: NameType.ENTERPRISE, nameString: [client.name.nameString.join('/')] },
      };
    }
    return {
      client,
      etypes: lib.defaultTktEnctypes,
      lifetimeSeconds: o.lifetime ?? lib.ticketLifetime,
      renewLifetimeSeconds: o.renewLifetime ?? lib.renewLifetime,
      forwardable: o.forwardable ?? lib.forwardable,
      proxiable: o.proxiable ?? lib.proxiable,
      canonicalize: o.canonicalize ?? (lib.canonicalize || o.enterprise === true),
      ...(o.requestPac === undefined ? {} : { requestPac: o.requestPac }),
    };
  }

  private async runAs(): Promise<void> {
    if (!this.secret) throw new CredentialsError('NO_SECRET', 'no key to obtain a TGT with');
    const opts = this.asOptions();
    this.log(`AS-REQ for ${unparsePrincipal(opts.client)} (enctypes ${opts.etypes.join(',')})`);
    const res = await runAsExchange(
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
        ? await openCcache(ccacheName)
        : (this.store ??
          (await openCcache(
            defaultCcacheName({ defaultCcacheName: this.config.libdefaults.defaultCcacheName }),
          )));
    await store.write(this.toCcache());
    if (store === this.store) this.storeIdentity = await fileIdentity(store);
    return store.name;
  }

  /** Re-reads the ccache if its file was replaced since we read it (kinit again, kdestroy). */
  private async refreshFromStore(): Promise<void> {
    if (!this.store) return;
    // A stat per request would dominate a warm ticket's cost: look at most every interval.
    const now = this.now();
    if (now - this.lastStoreCheck < this.ccacheCheckIntervalMs && now >= this.lastStoreCheck) return;
    this.lastStoreCheck = now;
    const id = await fileIdentity(this.store);
    if (id === this.storeIdentity) return;
    const fresh = await this.store.readIfExists();
    if (!fresh) {
      // kdestroy: as with MIT, whose every call re-reads the cache, the user's tickets are gone.
      // Only a keytab or password behind these credentials may get new ones.
      if (this.secret) return;
      this.ccache = { ...this.ccache, credentials: [] };
      this.tickets.clear();
      this.storeIdentity = id;
      throw new CredentialsError('CCACHE_DESTROYED', `credential cache ${this.store.name} no longer exists`, {
        hint: 'it was destroyed (kdestroy) or removed; run kinit to get new tickets',
      });
    }
    this.log(`ccache ${this.store.name} changed on disk; reloading`);
    this.ccache = fresh;
    (this as { principal: Principal }).principal = fresh.defaultPrincipal;
    this.offsetMs = (fresh.header.kdcOffset?.seconds ?? 0) * 1000;
    this.storeIdentity = id;
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

  /** A usable TGT for the client's realm: renewed when close to expiry, re-acquired with a key. */
  private async primaryTgt(): Promise<TgtCredential> {
    const realm = this.principal.realm;
    let tgt = this.findTgt(realm, realm);
    const nowSec = this.kdcNow() / 1000;
    // Still alive at the KDC: usable, and renewable if close to its end (MIT's kinit -R, done for
    // the user). A renewal failure leaves the old TGT in use while it lasts.
    if (tgt && tgt.endTime > nowSec) {
      const renewable = (tgt.flags & TicketFlag.RENEWABLE) !== 0 && tgt.renewTill > nowSec;
      if (renewable && (tgt.endTime - nowSec < RENEW_MARGIN || !this.isValid(tgt))) {
        const old: CcacheCredential = tgt;
        tgt = await this.renewTgt(old).catch((e: unknown) => {
          this.log(`TGT renewal failed: ${e instanceof Error ? e.message : String(e)}`);
          return old;
        });
      }
      if (this.isValid(tgt) || !this.secret) return this.asTgt(tgt);
    }
    if (this.secret) {
      await this.runAs();
      const fresh = this.findTgt(realm, realm);
      if (fresh) return this.asTgt(fresh);
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
      `no TGT for realm ${realm} in ${this.store?.name ?? 'these credentials'}`,
      {
        hint: `run kinit ${unparsePrincipal(this.principal)}`,
      },
    );
  }

  private asTgt(c: CcacheCredential): TgtCredential {
    return {
      client: c.client,
      server: c.server,
      ticket: decodeTicket(c.ticket),
      sessionKey: makeKey(c.key.keytype, c.key.keyvalue),
    };
  }

  private async renewTgt(c: CcacheCredential): Promise<CcacheCredential> {
    const tgt = this.asTgt(c);
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
    const fromFile = this.fromCcache(server, referral);
    if (fromFile) {
      this.log(`service ticket for ${unparsePrincipal(fromFile.server)} from the ccache`);
      return fromFile;
    }
    const reply = await this.requestWithReferrals(server, referral);
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

  /**
   * TGS-REQ in the client realm; a krbtgt/OTHER@THIS answer is a referral (RFC 6806 §8): keep
   * the cross-realm TGT and ask OTHER, at most MAX_REFERRALS hops and never the same realm twice.
   * Without referral support, walk [capaths] or the realm hierarchy to the service realm.
   */
  private async requestWithReferrals(server: Principal, referral: boolean): Promise<KdcReply> {
    let tgt = await this.primaryTgt();
    const seen = new Set<string>([tgsRealmOf(tgt)]);
    const till = this.requestedTill();
    const targetRealm = server.realm;
    if (!referral && targetRealm !== this.principal.realm) {
      tgt = await this.crossRealmTgt(targetRealm);
    }
    for (let hop = 0; hop <= MAX_REFERRALS; hop++) {
      const reply = await this.tgsExchange(
        {
          tgt,
          server: { realm: tgsRealmOf(tgt), name: server.name },
          etypes: this.tgsEtypes(),
          till,
          canonicalize: true,
          forwardable: this.config.libdefaults.forwardable,
        },
        true,
      );
      const isReferralReply = isTgsName(reply.server) && !isTgsName(server);
      if (!isReferralReply) return reply;
      const next = reply.server.name.nameString[1] as string;
      if (reply.server.realm !== tgsRealmOf(tgt)) {
        throw new KerberosError(
          41,
          'KRB_AP_ERR_MODIFIED',
          `referral ${unparsePrincipal(reply.server)} was not issued by realm ${tgsRealmOf(tgt)}`,
        );
      }
      if (seen.has(next)) {
        throw new KerberosError(
          28,
          'KDC_ERR_PATH_NOT_ACCEPTED',
          `referral loop for ${unparsePrincipal(server)} (realm ${next} seen twice)`,
        );
      }
      seen.add(next);
      this.log(`referral to realm ${next}`);
      this.remember(toCcacheCredential(reply));
      tgt = tgtOf(reply);
    }
    throw new KerberosError(
      28,
      'KDC_ERR_PATH_NOT_ACCEPTED',
      `too many referrals for ${unparsePrincipal(server)}`,
    );
  }

  /**
   * A TGT for `realm`: cached, else along [capaths] or the hierarchical path (RFC 4120 §1.2). As
   * MIT's get_creds does, each step asks for the farthest realm of the path first (a direct or
   * shortcut trust), then nearer ones when the KDC has no such krbtgt; a KDC may also answer with
   * a TGT for a nearer realm of the path, which is taken as the next step.
   */
  private async crossRealmTgt(realm: string): Promise<TgtCredential> {
    const home = this.principal.realm;
    const direct = this.findTgt(realm, home);
    if (direct && this.isValid(direct)) return this.asTgt(direct);
    const path = [home, ...this.realmPath(home, realm)];
    let tgt = await this.primaryTgt();
    let cur = 0;
    while (cur < path.length - 1) {
      const at = path[cur] as string;
      let reached = -1;
      let refused: unknown;
      for (let next = path.length - 1; next > cur && reached < 0; next--) {
        const target = path[next] as string;
        const cached = this.findTgt(target, at);
        if (cached && this.isValid(cached)) {
          tgt = this.asTgt(cached);
          reached = next;
          break;
        }
        let reply: KdcReply;
        try {
          reply = await this.tgsExchange(
            { tgt, server: tgsPrincipal(target, at), etypes: this.tgsEtypes(), till: this.requestedTill() },
            false,
            true,
          );
        } catch (e) {
          // The KDC has no krbtgt for that realm: try a nearer one. Anything else ends the walk.
          if (e instanceof KerberosError && e.errorCode === 7 && next > cur + 1) {
            refused = e;
            continue;
          }
          throw e;
        }
        const got = isTgsName(reply.server) ? path.indexOf(reply.server.name.nameString[1] as string) : -1;
        if (reply.server.realm !== at || got <= cur || got > next) {
          throw new KerberosError(
            41,
            'KRB_AP_ERR_MODIFIED',
            `cross-realm TGS of ${at} answered ${unparsePrincipal(reply.server)}, not a TGT along the path to ${realm}`,
          );
        }
        this.remember(toCcacheCredential(reply));
        tgt = tgtOf(reply);
        reached = got;
      }
      if (reached < 0) throw refused;
      cur = reached;
    }
    return tgt;
  }

  /** Intermediate realms from `from` to `to`: [capaths] when configured, else the DNS-style hierarchy. */
  realmPath(from: string, to: string): string[] {
    const cap = this.config.capaths.get(from)?.get(to);
    if (cap) return [...cap.filter((r) => r !== '.'), to];
    // Hierarchical: up from `from` to the common suffix, then down to `to`.
    const a = from.split('.');
    const b = to.split('.');
    let common = 0;
    while (common < a.length && common < b.length && a[a.length - 1 - common] === b[b.length - 1 - common])
      common++;
    // Up through the client realm's parents to the common ancestor (included, as MIT's
    // walk_rtree does: A.EXAMPLE.COM → EXAMPLE.COM → B.EXAMPLE.COM), then down to `to`.
    const up: string[] = [];
    for (let i = 1; i <= a.length - common; i++) up.push(a.slice(i).join('.'));
    const down: string[] = [];
    for (let i = b.length - common - 1; i >= 1; i--) down.push(b.slice(i).join('.'));
    const path = [...up, ...down, to];
    return path.filter((r, i) => r !== '' && r !== from && path.indexOf(r) === i);
  }

  /** A forwarded TGT for delegation (RFC 4120 §2.6): krbtgt of the client realm, FORWARDED. */
  async getForwardedTgt(): Promise<KdcReply> {
    const tgt = await this.primaryTgt();
    return this.tgsExchange({
      tgt,
      server: tgt.server,
      etypes: this.tgsEtypes(),
      till: this.requestedTill(),
      forwarded: true,
    });
  }

  /** Writes new tickets back to a FILE/DIR ccache atomically, merging with what is there now. */
  private async persist(): Promise<void> {
    if (!this.store || !this.writeBack) return;
    try {
      const onDisk = await this.store.readIfExists();
      // Gone means destroyed (kdestroy): as MIT's store_cred, never recreate it with our TGT.
      if (!onDisk) {
        this.log(`ccache ${this.store.name} no longer exists; not writing tickets back`);
        return;
      }
      let target = this.ccache;
      if (onDisk && (await fileIdentity(this.store)) !== this.storeIdentity) {
        // Someone rewrote it (kinit, another process): add our tickets to theirs, keep theirs otherwise.
        const have = new Set(onDisk.credentials.map((c) => unparsePrincipal(c.server)));
        const ours = this.ccache.credentials.filter(
          (c) => !isConfigEntry(c) && !have.has(unparsePrincipal(c.server)),
        );
        target = { ...onDisk, credentials: [...onDisk.credentials, ...ours] };
        if (unparsePrincipal(onDisk.defaultPrincipal) !== unparsePrincipal(this.principal)) return;
      }
      await this.store.write(target);
      this.storeIdentity = await fileIdentity(this.store);
    } catch (e) {
      this.log(
        `could not write tickets back to ${this.store.name}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}

/** Identity of a ccache file (inode, size, mtime) to notice replacement. */
async function fileIdentity(store: CcacheStore): Promise<string | undefined> {
  const m = /^(?:FILE:|DIR::)(.*)$/.exec(store.name);
  if (!m?.[1]) return undefined;
  const st = await statFile(m[1]);
  return st ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}` : undefined;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** `user@REALM`, or with `enterprise` `user@domain@REALM` (RFC 6806 §5: one NT-ENTERPRISE component). */
function clientPrincipal(principal: string | Principal, config: Krb5Config, enterprise: boolean): Principal {
  if (typeof principal !== 'string') return principal;
  if (!enterprise) return parsePrincipal(principal, config.libdefaults.defaultRealm);
  const first = principal.indexOf('@');
  const last = principal.lastIndexOf('@');
  const realm = first >= 0 && first !== last ? principal.slice(last + 1) : config.libdefaults.defaultRealm;
  const name = first >= 0 && first !== last ? principal.slice(0, last) : principal;
  if (realm === undefined || realm === '') {
    throw new CredentialsError('NO_REALM', `no realm for enterprise principal ${principal}`, {
      hint: 'write it as user@domain@REALM, or set default_realm',
    });
  }
  return { realm, name: { nameType: NameType.ENTERPRISE, nameString: [name] } };
}
