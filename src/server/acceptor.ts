// `createAcceptor`: the server side of HTTP Negotiate (RFC 4559 §4/§5) on top of the SPNEGO
// acceptor context. One acceptor per service; each request gets a fresh context. The keytab is
// read once and re-read when the file changes (key rotation with ktadd), never per request.

import { type Keytab, parseKeytab } from '../ccache/keytab.js';
import type { Principal } from '../ccache/principal-text.js';
import { parsePrincipal, unparsePrincipal } from '../ccache/principal-text.js';
import { ChannelBindingError, ConfigError, CredentialsError, KerberosError, SpnegoError } from '../errors.js';
import type { Krb5Config } from '../krb5/config.js';
import { loadConfig } from '../krb5/config-load.js';
import type { Credentials } from '../krb5/credentials.js';
import { type Capaths, ClientRejectedError, type ReplayCache } from '../krb5/gss/index.js';
import { getEnv } from '../runtime/env.js';
import { readFile, statFile } from '../runtime/fs.js';
import { createLog, type Logger, type NamespacedLog } from '../runtime/log.js';
import { type AcceptorContext, createAcceptorContext } from '../spnego/index.js';
import type { S4UEvidence, StepResult } from '../spnego/types.js';
import { FileReplayCache } from './replay-cache.js';

export interface AcceptorOptions {
  /** Keytab path (`FILE:` prefix allowed), bytes, or parsed; default KRB5_KTNAME, else /etc/krb5.keytab. */
  keytab?: string | Uint8Array | Keytab;
  /** Accept only tickets for this service principal (e.g. `HTTP/web.example.com@EXAMPLE.COM`); default any key in the keytab. */
  principal?: string;
  /** Accept only clients of these realms. */
  realms?: readonly string[];
  /**
   * Accept only these clients (`user@REALM`), or a predicate over the client principal (it may
   * be async; only `true` admits the client).
   */
  principals?: readonly string[] | ((client: Principal) => boolean | Promise<boolean>);
  /** Clock skew allowed for authenticators, seconds (default 300, MIT's clockskew). */
  clockskew?: number;
  /**
   * krb5.conf used for delegated credentials and for the [capaths] that transited paths of
   * cross-realm tickets are checked against (default loadConfig(), read when first needed).
   */
  config?: Krb5Config;
  /**
   * Where accepted authenticators are recorded, so a captured header cannot be replayed.
   * Default: the per-host file cache (`FileReplayCache`, in KRB5RCACHEDIR or the temp dir),
   * shared by every process of this user on this host. `MemoryReplayCache` protects one process
   * only (tests); `RedisReplayCache` protects servers on several hosts. Any object with
   * `checkAndStore(tag, expiresAtMs, nowMs)` (see `ReplayCache`) will do.
   */
  replayCache?: ReplayCache;
  logger?: Logger;
  /**
   * How often (ms) to check whether a keytab file changed, e.g. after `ktadd` (default 1000; 0 =
   * every request). A ticket the cached keys cannot open triggers a check at once.
   */
  keytabCheckIntervalMs?: number;
}

export interface AcceptResult {
  /** The authenticated client. */
  principal: Principal;
  /** `user@REALM` as MIT prints it. */
  user: string;
  /** The token to send back in `WWW-Authenticate: Negotiate` (the AP-REP when mutual auth was asked). */
  responseToken: Uint8Array | undefined;
  /** Credentials the client delegated (forwarded TGT), when it did. */
  delegated: Credentials | undefined;
  /** The client's ticket to this service: S4U2Proxy's evidence (`credentials.impersonate(evidence)`). */
  evidence: S4UEvidence | undefined;
  /** The client bound its token to this TLS channel (RFC 5929 bindings given to accept() matched). */
  channelBound: boolean;
}

/** The TLS channel a token arrived on, for accept(). */
export interface AcceptChannel {
  /** RFC 5929 tls-server-end-point data of this server's certificate (`tlsServerEndPoint(cert)`). */
  bindings: Uint8Array;
  /** Refuse a token not bound to `bindings` (ChannelBindingError NO_BINDINGS); default false. */
  required?: boolean;
}

/** Why a request was refused; `code` is stable (`NO_TOKEN`, `BAD_TOKEN`, `REJECTED_CLIENT`, or the Kerberos error name). */
export class NegotiateRejection extends SpnegoError {}

export interface Acceptor {
  /** Verifies the client's Negotiate token. Throws NegotiateRejection or a typed Kerberos error. */
  /**
   * Verifies the client's Negotiate token. Throws NegotiateRejection or a typed Kerberos error.
   * With `channel`, a token bound to other channel bindings is refused (GssError BAD_BINDINGS),
   * and with `channel.required` so is one bound to none (ChannelBindingError NO_BINDINGS).
   */
  accept(token: Uint8Array, channel?: AcceptChannel): Promise<AcceptResult>;
  readonly log: NamespacedLog;
}

/** KRB_AP_ERR_BAD_INTEGRITY, KRB_AP_ERR_BADKEYVER, KRB_AP_ERR_NOKEY: the keytab may have changed. */
const KEY_ERRORS = new Set([31, 44, 45]);

function keytabPath(k: string): string {
  return k.replace(/^(FILE|WRFILE):/, '');
}

function badOption(message: string): ConfigError {
  return new ConfigError('BAD_OPTION', message);
}

/**
 * Options are checked once, up front: a NaN or infinite clockskew would make every time check
 * (ticket start/end, authenticator skew, replay-cache lifetime) compare false and so pass, and a
 * string where a list is expected would silently become a list of characters.
 */
function validateOptions(opts: AcceptorOptions): void {
  const skew = opts.clockskew;
  if (skew !== undefined && (typeof skew !== 'number' || !Number.isFinite(skew) || skew < 0))
    throw badOption(`clockskew must be a finite number of seconds >= 0, got ${String(skew)}`);
  const interval = opts.keytabCheckIntervalMs;
  if (interval !== undefined && (typeof interval !== 'number' || Number.isNaN(interval) || interval < 0))
    throw badOption(`keytabCheckIntervalMs must be a number >= 0, got ${String(interval)}`);
  if (opts.realms !== undefined) {
    if (!Array.isArray(opts.realms) || !opts.realms.every((r) => typeof r === 'string' && r !== ''))
      throw badOption('realms must be an array of realm names');
  }
  const p = opts.principals;
  if (p !== undefined && typeof p !== 'function') {
    if (!Array.isArray(p) || !p.every((x) => typeof x === 'string'))
      throw badOption('principals must be an array of `user@REALM` names or a predicate');
  }
  const rc = opts.replayCache;
  if (rc !== undefined && (typeof rc !== 'object' || rc === null || typeof rc.checkAndStore !== 'function'))
    throw badOption('replayCache must be an object with checkAndStore(tag, expiresAtMs, nowMs)');
  if (opts.principal !== undefined) {
    if (typeof opts.principal !== 'string') throw badOption('principal must be a string');
    try {
      parsePrincipal(opts.principal, '');
    } catch (e) {
      throw new ConfigError('BAD_OPTION', `principal ${JSON.stringify(opts.principal)} cannot be parsed`, {
        cause: e,
      });
    }
  }
}

export function createAcceptor(opts: AcceptorOptions = {}): Acceptor {
  validateOptions(opts);
  const log = createLog('spnego:http', opts.logger);
  const source = opts.keytab ?? getEnv('KRB5_KTNAME') ?? '/etc/krb5.keytab';
  let cached: { keytab: Keytab; id: string | undefined } | undefined;

  const checkInterval = opts.keytabCheckIntervalMs ?? 1000;
  let checkedAt = 0;
  async function currentKeytab(force = false): Promise<Keytab> {
    if (typeof source !== 'string') {
      if (source instanceof Uint8Array) {
        cached ??= { keytab: parseKeytab(source), id: undefined };
        return cached.keytab;
      }
      return source;
    }
    const now = Date.now();
    if (cached && !force && now - checkedAt < checkInterval && now >= checkedAt) return cached.keytab;
    const path = keytabPath(source);
    const st = await statFile(path);
    checkedAt = now;
    const id = st ? `${st.ino}:${st.size}:${st.mtimeMs}` : undefined;
    if (!cached || cached.id !== id) {
      cached = { keytab: parseKeytab(await readFile(path)), id };
      log(`keytab ${path} loaded (${cached.keytab.entries.length} keys)`);
    }
    return cached.keytab;
  }

  // A keytab that cannot be read is the server's fault, not the client's: a CredentialsError
  // (which checkAuthorization turns into a server error, not a 401), with the cause kept.
  async function loadKeytab(force = false): Promise<Keytab> {
    try {
      return await currentKeytab(force);
    } catch (e) {
      if (e instanceof CredentialsError) throw e;
      const where = typeof source === 'string' ? ` ${keytabPath(source)}` : '';
      throw new CredentialsError(
        'KEYTAB_UNREADABLE',
        `the service keytab${where} cannot be read: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e, hint: 'check the keytab path (KRB5_KTNAME) and that this process may read it' },
      );
    }
  }

  const allowedRealms = opts.realms ? new Set(opts.realms) : undefined;
  const allowedClients =
    typeof opts.principals === 'function'
      ? opts.principals
      : opts.principals
        ? (
            (set: Set<string>) => (p: Principal) =>
              set.has(unparsePrincipal(p))
          )(new Set(opts.principals.map((p) => unparsePrincipal(parsePrincipal(p)))))
        : undefined;

  // Filters run inside the Kerberos acceptor, after the authenticator checked out and before it
  // is recorded: a refused client cannot fill the replay cache.
  const admitClient =
    allowedRealms || allowedClients
      ? async (client: Principal): Promise<boolean> => {
          if (allowedRealms && !allowedRealms.has(client.realm))
            throw new NegotiateRejection(
              'REJECTED_CLIENT',
              `client ${unparsePrincipal(client)} is from a realm this service does not accept`,
            );
          // Only a literal `true` admits: an async predicate's Promise (or any other truthy
          // value) must not let every client in.
          if (allowedClients && (await allowedClients(client)) !== true)
            throw new NegotiateRejection(
              'REJECTED_CLIENT',
              `client ${unparsePrincipal(client)} is not allowed by this service`,
            );
          return true;
        }
      : undefined;
  const replayCache = opts.replayCache ?? FileReplayCache.forDirectory();
  // [capaths] is only needed for a cross-realm ticket whose path the KDC did not check: read
  // krb5.conf then, once; without one the realm hierarchy decides (as MIT's).
  let capaths: Promise<Capaths | undefined> | undefined;
  const loadCapaths = (): Promise<Capaths | undefined> => {
    capaths ??= opts.config
      ? Promise.resolve(opts.config.capaths)
      : loadConfig().then(
          (c) => c.capaths,
          (e: unknown) => {
            log(
              `krb5.conf unreadable, transited paths checked against the realm hierarchy only: ${String(e)}`,
            );
            return undefined;
          },
        );
    return capaths;
  };

  return {
    log,
    async accept(token, channel) {
      const contextFor = (keytab: Keytab) =>
        createAcceptorContext({
          keytab,
          replayCache,
          capaths: loadCapaths,
          ...(admitClient ? { admitClient } : {}),
          ...(opts.principal === undefined ? {} : { principal: opts.principal }),
          ...(opts.clockskew === undefined ? {} : { clockskew: opts.clockskew }),
          ...(opts.logger === undefined ? {} : { logger: opts.logger }),
          ...(opts.config === undefined ? {} : { config: opts.config }),
          ...(channel === undefined ? {} : { channelBindings: channel.bindings }),
        });
      const step = async (c: AcceptorContext): Promise<StepResult> => {
        try {
          return await c.step(token);
        } catch (e) {
          if (e instanceof ClientRejectedError)
            throw new NegotiateRejection('REJECTED_CLIENT', e.message, { cause: e });
          throw e;
        }
      };
      const keytab = await loadKeytab();
      let ctx = contextFor(keytab);
      let out: StepResult;
      try {
        out = await step(ctx);
      } catch (e) {
        // A key the cached keytab lacks (rotated within the check interval): look at the file now,
        // and if it changed, try once more with the new keys.
        if (!(e instanceof KerberosError) || !KEY_ERRORS.has(e.errorCode) || typeof source !== 'string')
          throw e;
        const fresh = await loadKeytab(true);
        if (fresh === keytab) throw e;
        ctx = contextFor(fresh);
        out = await step(ctx);
      }
      if (!out.complete) {
        throw new NegotiateRejection(
          'CONTINUE_NEEDED',
          'the client token needs another round trip, which this server does not keep state for',
          {
            hint: 'the client should send a complete Kerberos (SPNEGO) token; NTLM is not supported',
          },
        );
      }
      const { client, delegated, evidence } = ctx.result();
      const user = unparsePrincipal(client);
      const channelBound = channel !== undefined && ctx.accepted?.channelBound === true;
      if (channel?.required && !channelBound)
        throw new ChannelBindingError('NO_BINDINGS', `${user} sent a token not bound to this TLS channel`, {
          hint: "this server requires channel bindings (channelBindings: 'required'): the client must bind its token to the server certificate (RFC 5929 tls-server-end-point), e.g. spnego/undici, curl >= 8.8, Windows",
        });
      return { principal: client, user, responseToken: out.token, delegated, evidence, channelBound };
    },
  };
}
