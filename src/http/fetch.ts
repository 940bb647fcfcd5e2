// `negotiateFetch`: HTTP Negotiate as a fetch-compatible function. The same negotiator also
// backs the ky integration (ky.ts), so both clients behave identically.
import { ConfigError } from '../errors.js';
import type { Credentials } from '../krb5/credentials.js';
import { isCredentials } from '../krb5/credentials-brand.js';
import { createLog, createWarn, type NamespacedLog } from '../runtime/log.js';
import { createInitiatorContext } from '../spnego/initiator-lazy.js';
import { DirectPool, DirectSession, type DirectTlsOptions, ownConnectionsAvailable } from './direct.js';
import { type ContextFactory, type FlowHooks, NegotiateFlow, type Send } from './flow.js';
import { type NegotiateOptions, resolveOptions } from './options.js';
import { ProxyClient, ProxySession, type ProxyTransport, parseProxy, proxyFor } from './proxy.js';

// The Kerberos engine (Credentials with the ccache, crypto, ASN.1 and KDC exchanges under it) loads
// with the first token, as the initiator does (src/spnego/initiator-lazy.ts), not with the entry:
// importing spnego stays cheap for a serverless instance, and a request that is never challenged
// never loads it. The promise is kept: every import() goes through the module loader again (and
// through the customization hooks' worker when a loader such as tsx is registered), about 0.3 ms
// per token.
let engineLoading: Promise<typeof import('./engine.js')> | undefined;
const engine = (): Promise<typeof import('./engine.js')> => (engineLoading ??= import('./engine.js'));

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Test seams; not part of the public contract. */
export interface NegotiateInternals {
  contextFactory?: ContextFactory;
  /** Where warnings go (default: the logger's warn, else stderr). */
  warn?: (message: string) => void;
  proxyTransport?: ProxyTransport;
  /** Trust anchors for origins reached through CONNECT (default: Node's store, NODE_EXTRA_CA_CERTS). */
  originCa?: string | ReadonlyArray<string>;
}

// RequestInit members a Request carries itself; anything else in `init` (undici's `dispatcher`,
// ky's pass-through options) is handed to the underlying fetch on every leg.
const REQUEST_INIT_KEYS = new Set([
  'method',
  'headers',
  'body',
  'signal',
  'redirect',
  'credentials',
  'cache',
  'keepalive',
  'referrer',
  'referrerPolicy',
  'integrity',
  'mode',
  'duplex',
  'priority',
  'window',
]);

function passThrough(init: RequestInit | undefined): Record<string, unknown> | undefined {
  if (init === undefined) return undefined;
  let extra: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(init)) {
    if (REQUEST_INIT_KEYS.has(k)) continue;
    extra ??= {};
    extra[k] = v;
  }
  return extra;
}

/** Credentials are loaded once per negotiator, lazily; a failed load is retried next time (after kinit). */
/** True when `init` holds nothing a Request would take (only a client's own options). */
function onlyExtras(init: RequestInit, extra: Record<string, unknown> | undefined): boolean {
  return Object.keys(init).length === (extra === undefined ? 0 : Object.keys(extra).length);
}

function credentialSource(o: NegotiateOptions): () => Promise<Credentials> {
  // Read once, here: the caller's options object changed later (or a getter) must not turn the
  // checked choice into something that falls through to the default ccache.
  const chosen = o.credentials;
  // Anything else (a plain object, a Credentials of a second installed copy of this package)
  // would otherwise fall through to the default ccache: the request would go out as whoever
  // ran kinit last, not as the identity the caller chose.
  if (chosen !== undefined && typeof chosen !== 'string' && !isCredentials(chosen)) {
    throw new ConfigError('BAD_OPTION', 'credentials must be a Credentials or a principal name', {
      hint: "build it with Credentials.fromCcache/fromKeytab/fromPassword from 'spnego/krb5'; two installed copies of spnego do not share the class",
    });
  }
  if (
    o.config !== undefined &&
    (typeof o.config !== 'object' || o.config === null || !('libdefaults' in o.config))
  ) {
    throw new ConfigError('BAD_OPTION', 'config must be a parsed krb5.conf', {
      hint: "parse the text with parseConfig(text) from 'spnego/krb5', or load a file with loadConfig()",
    });
  }
  let pending: Promise<Credentials> | undefined;
  return () => {
    if (isCredentials(chosen)) return Promise.resolve(chosen);
    if (!pending) {
      pending = engine().then(({ Credentials }) =>
        Credentials.fromEnvironment({
          ...(typeof chosen === 'string' ? { principal: chosen } : {}),
          ...(o.logger === undefined ? {} : { logger: o.logger }),
          ...(o.config === undefined ? {} : { config: o.config }),
        }),
      );
      pending.catch(() => {
        pending = undefined;
      });
    }
    return pending;
  };
}

/** Contexts from the options' credentials (default: the default ccache, loaded once, lazily). */
export function defaultContextFactory(o: NegotiateOptions): ContextFactory {
  const credentials = credentialSource(o);
  return async (req) =>
    createInitiatorContext({
      credentials: await credentials(),
      target: req.target,
      mutual: req.mutual,
      delegate: req.delegate,
      ...(req.channelBindings === undefined ? {} : { channelBindings: req.channelBindings }),
      ...(o.logger === undefined ? {} : { logger: o.logger }),
    });
}

/**
 * For clients whose fetch hides the TLS socket (spnego/axios, spnego/got): their https legs go
 * over connections of our own, so that tokens are bound to the certificate of the connection
 * they travel on (channelBindings). Node only; elsewhere, and for http, `fetchImpl` sends.
 */
export interface OwnConnections {
  tls?: DirectTlsOptions;
}

export interface Negotiator {
  fetch(
    input: string | URL | Request,
    init: RequestInit | undefined,
    fetchImpl: FetchLike,
    own?: OwnConnections,
  ): Promise<Response>;
  /** The flow itself, for clients that send legs their own way (spnego/undici). */
  run(base: Request, send: Send, hooks?: FlowHooks): Promise<Response>;
  readonly log: NamespacedLog;
}

/** The engine behind negotiateFetch and negotiate(); options are validated here, once. */
export function createNegotiator(
  options: NegotiateOptions = {},
  internals: NegotiateInternals = {},
): Negotiator {
  const log = createLog('spnego:http', options.logger);
  const resolved = resolveOptions(options);
  const proxyOption = options.proxy;
  if (proxyOption !== undefined && proxyOption !== false) {
    if (typeof proxyOption !== 'string' && !(proxyOption instanceof URL))
      throw new ConfigError('BAD_OPTION', 'proxy must be a URL, a string or false', {
        hint: 'proxy: "http://proxy.example.com:3128", or false to ignore HTTP(S)_PROXY',
      });
    try {
      parseProxy(proxyOption, 'the proxy option');
    } catch (e) {
      throw new ConfigError('BAD_OPTION', (e as Error).message, {
        hint: 'proxy: "http://proxy.example.com:3128"',
      });
    }
  }
  const proxyCa = options.proxyCa;
  if (
    proxyCa !== undefined &&
    !(typeof proxyCa === 'string' || proxyCa instanceof Uint8Array) &&
    !(Array.isArray(proxyCa) && proxyCa.every((c) => typeof c === 'string' || c instanceof Uint8Array))
  )
    throw new ConfigError('BAD_OPTION', 'proxyCa must be PEM text, bytes, or a list of them', {
      hint: "proxyCa: readFileSync('/etc/ssl/corp-proxy-ca.pem', 'utf8')",
    });
  const contexts = internals.contextFactory ?? defaultContextFactory(options);
  const flow = new NegotiateFlow(
    resolved,
    contexts,
    log,
    internals.warn ?? createWarn('spnego:http', options.logger),
  );
  const proxies = new ProxyClient(
    resolved.proxyMutual,
    (req) => contexts({ target: req.target, mutual: req.mutual, delegate: false }),
    log,
    internals.proxyTransport,
    {
      ...(proxyCa === undefined ? {} : { ca: proxyCa }),
      ...(internals.originCa === undefined ? {} : { originCa: internals.originCa }),
    },
  );
  let canOwn: boolean | undefined;
  /** Our own https connections between requests (kept-alive sockets, unref'd while idle). */
  const pool = new DirectPool();
  return {
    log,
    run: (base, send, hooks) => flow.run(base, send, hooks),
    fetch(input, init, fetchImpl, own) {
      const extra = passThrough(init);
      // ky hands over a finished Request (its own options travel as `extra`): use it as it is
      // rather than building a copy; the flow reads it once and builds each leg's request itself.
      const base =
        input instanceof Request && (init === undefined || onlyExtras(init, extra))
          ? input
          : new Request(input, init);
      // Behind a CONNECT proxy the origin's TLS connection is ours: the session lets the flow
      // bind the origin's token to the certificate seen inside the tunnel.
      const session = new ProxySession(
        proxies,
        (u) => proxyFor(u, proxyOption),
        base.headers.get('proxy-authorization'),
      );
      // Direct https legs on our own connections, when the client asks and bindings are on.
      if (own !== undefined && canOwn === undefined) canOwn = ownConnectionsAvailable();
      const direct =
        own !== undefined && resolved.channelBindings && canOwn === true
          ? new DirectSession(own.tls ?? {}, pool)
          : undefined;
      const owned = (u: URL): boolean =>
        direct !== undefined && u.protocol === 'https:' && proxyFor(u, proxyOption) === undefined;
      const run = flow.run(
        base,
        async (url, legInit) => {
          const target = new URL(url);
          const proxy = proxyFor(target, proxyOption);
          if (proxy === undefined && direct !== undefined && owned(target))
            return direct.send(target, legInit);
          if (proxy === undefined)
            return fetchImpl(url, extra === undefined ? legInit : ({ ...extra, ...legInit } as RequestInit));
          const body = legInit.body;
          // Through a proxy the leg needs its length up front: a streamed body is read here.
          return proxies.send(
            proxy,
            target,
            {
              method: legInit.method ?? 'GET',
              headers: new Headers(legInit.headers),
              body:
                body instanceof ReadableStream
                  ? await new Response(body).arrayBuffer()
                  : ((body as ArrayBuffer | null | undefined) ?? null),
              signal: legInit.signal,
            },
            session,
          );
        },
        {
          connection: (u) =>
            direct !== undefined && owned(u)
              ? direct.connection(u, base.signal)
              : session.connection(u, base.signal),
        },
      );
      return run.finally(() => {
        session.close();
        direct?.close();
      });
    },
  };
}

/**
 * A fetch that answers `401 Negotiate` challenges with Kerberos (RFC 4559), for plain fetch users
 * and for ky's `fetch` option. `fetchImpl` is the fetch it sends through.
 */
export function negotiateFetch(
  options: NegotiateOptions = {},
  fetchImpl: FetchLike = globalThis.fetch,
): typeof fetch {
  const negotiator = createNegotiator(options);
  const bound: FetchLike = fetchImpl === globalThis.fetch ? (i, n) => globalThis.fetch(i, n) : fetchImpl;
  return ((input: string | URL | Request, init?: RequestInit) =>
    negotiator.fetch(input, init, bound)) as typeof fetch;
}
