// Negotiate with a forward proxy (RFC 4559 §4 with RFC 9110 §11.7: 407, Proxy-Authenticate,
// Proxy-Authorization): which proxy a URL goes through (the `proxy` option, else curl's
// environment variables), and the proxy's own exchange, kept apart from the origin's.
//
// The proxy gets a context of its own for `HTTP@<proxy host>`, so a Negotiate proxy in front of a
// Negotiate server means two contexts and two AP-REQs. Proxy-Authorization goes only to the proxy:
// on plain HTTP the proxy consumes it (it is hop-by-hop), and an https origin is reached through
// CONNECT, so its request (and its Authorization) travels inside TLS the proxy cannot read, and
// the proxy's header never enters the tunnel. The proxy itself may be reached over TLS
// (`https://`, its certificate checked), with CONNECT and the origin's TLS inside that.
// Mutual authentication of the proxy follows `proxyMutualAuthentication` (default OPTIONAL: a
// token it sends must verify; Squid sends none).
//
// Behind CONNECT the origin's TLS connection is ours, so the origin's token is bound (RFC 5929
// tls-server-end-point) to the certificate the origin presented inside the tunnel. Each tunnel
// carries one request; a ProxySession remembers, per request and origin, the certificate the
// last tunnel showed and the one a token was bound to: a later tunnel that presents another
// certificate is closed before the token goes out.
import {
  ChannelBindingError,
  MutualAuthenticationError,
  SPNEGOExchangeError,
  SpnegoError,
} from '../errors.js';
import { getEnv } from '../runtime/env.js';
import {
  createProxyConnections,
  type ProxyLeg,
  type ProxyTlsOptions,
  type Tunnel,
} from '../runtime/http-proxy.js';
import { describeBytes, type NamespacedLog } from '../runtime/log.js';
import { base64Encode } from '../spnego/base64.js';
import type { SecurityContext } from '../spnego/types.js';
import { type NegotiateOffer, negotiateOffer } from './challenge.js';
import { type ConnectionInfo, sameBytes } from './flow.js';
import { bypassesProxy } from './no-proxy.js';
import { DISABLED, hostOf, type MutualAuthMode, REQUIRED } from './options.js';

/** The I/O a proxy needs (src/runtime/http-proxy.ts); a seam for tests. */
export interface ProxyTransport {
  forward(proxy: URL, url: URL, leg: ProxyLeg): Promise<Response>;
  tunnel(proxy: URL, target: URL, headers: Headers, signal: AbortSignal | null | undefined): Promise<Tunnel>;
}

export type { ProxyTlsOptions };

/** 407s answered for one request before giving up (as MAX_LEGS for 401s). */
const MAX_PROXY_LEGS = 6;

export type ProxyOption = string | URL | false | undefined;

/** The proxy URL as an error may quote it: a password in its userinfo is never shown. */
function quoted(value: string | URL): string {
  return JSON.stringify(String(value).replace(/^((?:[^/]*\/\/)?[^/@]*?:)[^/]*@/, '$1***@'));
}

export function parseProxy(value: string | URL, from: string): URL {
  let url: URL;
  try {
    // curl takes `host:port` without a scheme as an http proxy.
    url =
      value instanceof URL
        ? value
        : new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new SpnegoError('BAD_PROXY', `${from} is not a proxy URL: ${quoted(value)}`, {
      hint: 'give it as http://host:port',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new SpnegoError(
      'BAD_PROXY',
      `${from}: only http:// and https:// proxies are supported, not ${url.protocol}`,
      { hint: 'give it as http://host:port, or https://host:port for a proxy reached over TLS' },
    );
  if (url.hostname === '')
    throw new SpnegoError('BAD_PROXY', `${from} names no host: ${quoted(value)}`, {
      hint: 'give it as http://host:port',
    });
  return url;
}

const env = (name: string): string | undefined => getEnv(name.toLowerCase()) ?? getEnv(name);

/**
 * The proxy for `url`: the option when given (`false`: none), else `https_proxy`/`HTTPS_PROXY`
 * for https and `http_proxy`/`HTTP_PROXY` for http; either way, none when NO_PROXY names the host.
 *
 * httpoxy (CVE-2016-5385 and kin): a CGI program (REQUEST_METHOD set, RFC 3875 §4.1.12) finds
 * the request's `Proxy:` header in HTTP_PROXY, so whoever sends it would receive our plain-HTTP
 * requests and their tokens. There no http proxy is taken from the environment, in either case
 * (on Windows they are one variable), as Go's net/http; the option still applies.
 */
export function proxyFor(url: URL, option: ProxyOption): URL | undefined {
  if (option === false) return undefined;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (bypassesProxy(url, env('NO_PROXY'))) return undefined;
  if (option !== undefined) return parseProxy(option, 'the proxy option');
  if (url.protocol === 'http:' && getEnv('REQUEST_METHOD') !== undefined) return undefined;
  const name = url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY';
  const value = env(name);
  return value === undefined ? undefined : parseProxy(value, name);
}

export interface ProxyContextRequest {
  target: string;
  mutual: boolean;
}

/** A request failing as fetch fails (a TypeError), with our reason as its cause. */
function proxyFailure(code: string, message: string, hint: string, cause?: unknown): TypeError {
  return new TypeError('fetch failed', {
    cause: new SpnegoError(code, message, { hint, ...(cause === undefined ? {} : { cause }) }),
  });
}

async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // nothing to reuse
  }
}

/**
 * One request's tunnels (all its legs and redirect hops), for channel bindings: per origin, the
 * certificate the last tunnel presented, the one a token was bound to, and a tunnel opened ahead
 * of its first leg so that a token made before any leg (opportunistic) has a certificate to bind.
 */
export class ProxySession {
  private readonly seen = new Map<string, Uint8Array | undefined>();
  private readonly bound = new Map<string, Uint8Array | undefined>();
  private readonly ready = new Map<string, Tunnel>();

  constructor(
    private readonly client: ProxyClient,
    private readonly proxyFor: (url: URL) => URL | undefined,
    private readonly ownProxyAuthorization: string | null,
  ) {}

  /**
   * The flow's `connection` hook: for an https origin behind a proxy, the connection a token will
   * travel on. Before any tunnel to the origin exists, one is opened now (and used by the leg).
   */
  async connection(url: URL, signal: AbortSignal | null | undefined): Promise<ConnectionInfo | undefined> {
    if (url.protocol !== 'https:') return undefined;
    const proxy = this.proxyFor(url);
    if (proxy === undefined) return undefined;
    const origin = url.origin;
    if (!this.seen.has(origin)) {
      const headers = new Headers();
      if (this.ownProxyAuthorization !== null) headers.set('proxy-authorization', this.ownProxyAuthorization);
      const tunnel = await this.client.connect(proxy, url, headers, signal);
      try {
        this.arrived(url, await (tunnel.secure as NonNullable<Tunnel['secure']>)(url, signal));
      } catch (e) {
        tunnel.close();
        throw e;
      }
      this.ready.set(origin, tunnel);
    }
    return {
      // Asked only when a token is being bound: from now on every tunnel to this origin must
      // present the certificate it is bound to.
      peerCertificate: () => {
        const cert = this.seen.get(origin);
        this.bound.set(origin, cert);
        return cert;
      },
    };
  }

  /** The tunnel opened ahead for `url`'s origin, once. */
  take(url: URL): Tunnel | undefined {
    const t = this.ready.get(url.origin);
    this.ready.delete(url.origin);
    return t;
  }

  /** A tunnel's TLS to `url` is up with `cert`: refused when a token is bound to another one. */
  arrived(url: URL, cert: Uint8Array | undefined): void {
    const origin = url.origin;
    if (this.bound.has(origin) && !sameBytes(this.bound.get(origin), cert))
      throw new TypeError('fetch failed', {
        cause: new ChannelBindingError(
          'CERTIFICATE_CHANGED',
          `${url.host} presented another certificate inside the new tunnel than the one the token in flight is bound to; the token was not sent`,
          {
            hint: 'a TLS-terminating device with several certificates sits between the proxy and the server, or something intercepts the tunnel',
          },
        ),
      });
    this.seen.set(origin, cert);
  }

  /** Closes tunnels opened ahead and never used (the request ended before its leg). */
  close(): void {
    for (const t of this.ready.values()) t.close();
    this.ready.clear();
  }
}

/** Sends legs through proxies, answering their 407s; one per negotiator. */
export class ProxyClient {
  /** Proxies that asked for Negotiate: later requests to them carry a token from the start. */
  private readonly wantsNegotiate = new Set<string>();
  private readonly transport: ProxyTransport;

  constructor(
    private readonly mutual: MutualAuthMode,
    private readonly createContext: (req: ProxyContextRequest) => Promise<SecurityContext>,
    private readonly log: NamespacedLog,
    transport?: ProxyTransport,
    tls: ProxyTlsOptions = {},
  ) {
    this.transport = transport ?? createProxyConnections(tls);
  }

  private async token(proxy: URL, ctx: SecurityContext | undefined, offer: NegotiateOffer | undefined) {
    if (ctx === undefined) {
      const fresh = await this.createContext({
        target: `HTTP@${hostOf(proxy)}`,
        mutual: this.mutual !== DISABLED,
      });
      const first = await fresh.step();
      if (!first.token)
        throw new SPNEGOExchangeError('NO_INITIAL_TOKEN', 'the proxy context produced no token');
      const token = first.token;
      this.log(() => `proxy ${proxy.host}: target HTTP@${hostOf(proxy)}, token (${describeBytes(token)})`);
      return { ctx: fresh, header: `Negotiate ${base64Encode(token)}` };
    }
    if (!offer?.token) return undefined;
    const step = await ctx.step(offer.token);
    const token = step.token;
    if (!token) return undefined;
    this.log(() => `proxy ${proxy.host}: continuing (${describeBytes(token)})`);
    return { ctx, header: `Negotiate ${base64Encode(token)}` };
  }

  /**
   * Mutual authentication of the proxy on an answer that is not a 407 (proxyMutualAuthentication):
   * OPTIONAL, a token it sends must verify; REQUIRED, one must be there and complete the context.
   */
  private async checkProxyToken(proxy: URL, res: Response, ctx: SecurityContext | undefined): Promise<void> {
    if (this.mutual === DISABLED) return;
    const required = this.mutual === REQUIRED;
    const fail = async (code: string, message: string, cause?: unknown): Promise<never> => {
      await discard(res);
      throw new TypeError('fetch failed', {
        cause: new MutualAuthenticationError(code, message, {
          hint: required
            ? 'proxyMutualAuthentication: REQUIRED needs a proxy that answers with a Negotiate token (Squid sends none): use OPTIONAL for such a proxy'
            : 'something other than the proxy you meant may be answering',
          ...(cause === undefined ? {} : { cause }),
        }),
      });
    };
    let offer: NegotiateOffer;
    try {
      offer = negotiateOffer(res.headers.get('proxy-authenticate'));
    } catch (e) {
      if (!required) return;
      return fail(
        'PROXY_MUTUAL_AUTH_FAILED',
        `the proxy ${proxy.host} sent an unusable Proxy-Authenticate`,
        e,
      );
    }
    if (offer.token) {
      if (ctx === undefined) {
        if (!required) return;
        return fail(
          'PROXY_MUTUAL_AUTH_FAILED',
          `the proxy ${proxy.host} sent a Negotiate token, but no token of ours was sent to it`,
        );
      }
      if (!ctx.complete) {
        try {
          await ctx.step(offer.token);
        } catch (e) {
          return fail(
            'PROXY_MUTUAL_AUTH_FAILED',
            `the proxy ${proxy.host} sent a token that does not verify`,
            e,
          );
        }
      }
      if (!ctx.complete) {
        if (!required) return;
        return fail(
          'PROXY_MUTUAL_AUTH_INCOMPLETE',
          `the answer of the proxy ${proxy.host} did not complete its security context`,
        );
      }
      this.log(`proxy ${proxy.host}: mutual authentication verified`);
      return;
    }
    if (required)
      return fail(
        'PROXY_MUTUAL_AUTH_MISSING',
        ctx === undefined
          ? `the proxy ${proxy.host} never asked us to authenticate, so nothing proves who answered`
          : `the ${res.status} answer of the proxy ${proxy.host} carries no Proxy-Authenticate token to authenticate it`,
      );
  }

  /**
   * Sends through `proxy` (forwarded, or CONNECT) until it answers with something other than
   * 407, answering each 407 with the next token of the proxy's context, then checks the proxy's
   * mutual authentication. A 407 given up on is returned (plain HTTP) or thrown (CONNECT).
   */
  private async through<T extends { res: Response; close?(): void }>(
    proxy: URL,
    url: URL,
    headers: Headers,
    signal: AbortSignal | null | undefined,
    attempt: (proxyHeaders: Headers) => Promise<T>,
  ): Promise<T> {
    const own = headers.get('proxy-authorization');
    const connect = url.protocol === 'https:';
    let ctx: SecurityContext | undefined;
    let header: string | undefined;
    let failure: unknown;
    if (own === null && this.wantsNegotiate.has(proxy.origin)) {
      try {
        ({ ctx, header } = (await this.token(proxy, undefined, undefined)) as {
          ctx: SecurityContext;
          header: string;
        });
      } catch (e) {
        failure = e;
        this.log(`proxy ${proxy.host}: cannot authenticate: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    for (let legs = 0; ; legs++) {
      const proxyHeaders = new Headers();
      if (own !== null) proxyHeaders.set('proxy-authorization', own);
      else if (header !== undefined) proxyHeaders.set('proxy-authorization', header);
      let sent: T;
      try {
        sent = await attempt(proxyHeaders);
      } catch (e) {
        // As fetch: an aborted request rejects with the signal's reason.
        if (signal?.aborted) throw signal.reason;
        throw e;
      }
      const res = sent.res;
      if (res.status !== 407) {
        if (connect && (res.status < 200 || res.status > 299)) {
          sent.close?.();
          throw proxyFailure(
            'PROXY_CONNECT_FAILED',
            `the proxy ${proxy.host} answered CONNECT ${url.host} with ${res.status} ${res.statusText}`.trim(),
            'the proxy refused the tunnel: check its access rules for this host and port',
          );
        }
        try {
          await this.checkProxyToken(proxy, res, ctx);
        } catch (e) {
          sent.close?.();
          throw e;
        }
        return sent;
      }
      let offer: NegotiateOffer | undefined;
      try {
        offer = negotiateOffer(res.headers.get('proxy-authenticate'));
      } catch (e) {
        failure = e;
      }
      const giveUp = async (why: string): Promise<T> => {
        this.log(`proxy ${proxy.host}: ${why}: returning the 407`);
        if (!connect) return sent;
        await discard(res);
        sent.close?.();
        throw proxyFailure(
          'PROXY_AUTH_FAILED',
          `the proxy ${proxy.host} refused CONNECT ${url.host} with 407: ${why}`,
          'check that you have a ticket (kinit) and that the proxy knows HTTP/<proxy host>; DEBUG=spnego* shows the exchange',
          failure,
        );
      };
      if (own !== null) return giveUp('the Proxy-Authorization you set was refused');
      if (offer === undefined) return giveUp('an unusable Proxy-Authenticate');
      if (!offer.offered) return giveUp('the proxy does not offer Negotiate');
      this.wantsNegotiate.add(proxy.origin);
      if (failure !== undefined) return giveUp('no token could be made');
      if (legs >= MAX_PROXY_LEGS) return giveUp(`still 407 after ${legs} legs`);
      if (ctx !== undefined && !offer.token) return giveUp('the proxy refused our token');
      try {
        const next = await this.token(proxy, ctx, offer);
        if (next === undefined) return giveUp('the context has nothing more to send');
        ({ ctx, header } = next);
      } catch (e) {
        if (signal?.aborted) {
          await discard(res);
          sent.close?.();
          throw signal.reason;
        }
        failure = e;
        return giveUp(`cannot authenticate: ${e instanceof Error ? e.message : String(e)}`);
      }
      await discard(res);
      sent.close?.();
    }
  }

  /** A tunnel to `url`'s host through `proxy`, its 407s answered: open (2xx), or a TypeError. */
  async connect(
    proxy: URL,
    url: URL,
    headers: Headers,
    signal: AbortSignal | null | undefined,
  ): Promise<Tunnel> {
    const { tunnel } = await this.through(proxy, url, headers, signal, async (proxyHeaders) => {
      const t = await this.transport.tunnel(proxy, url, proxyHeaders, signal);
      return { res: t.response, tunnel: t, close: () => t.close() };
    });
    if (tunnel.send === undefined || tunnel.secure === undefined) {
      tunnel.close();
      throw proxyFailure(
        'PROXY_CONNECT_FAILED',
        `the proxy ${proxy.host} opened no tunnel to ${url.host}`,
        'the proxy refused the tunnel: check its access rules for this host and port',
      );
    }
    this.log(`proxy ${proxy.host}: tunnel to ${url.host} open`);
    return tunnel;
  }

  /**
   * One leg to `url` through `proxy`: forwarded in absolute form for http, inside a CONNECT
   * tunnel for https. The leg's own Proxy-Authorization, if the caller set one, is left alone
   * and no Negotiate is attempted with the proxy. `session` (one per request) keeps the origin's
   * certificate across legs for channel bindings.
   */
  async send(proxy: URL, url: URL, leg: ProxyLeg, session?: ProxySession): Promise<Response> {
    if (url.protocol !== 'https:') {
      const { res } = await this.through(proxy, url, leg.headers, leg.signal, async (proxyHeaders) => {
        const headers = new Headers(leg.headers);
        headers.delete('proxy-authorization');
        for (const [k, v] of proxyHeaders) headers.set(k, v);
        return { res: await this.transport.forward(proxy, url, { ...leg, headers }) };
      });
      return res;
    }
    const tunnel = session?.take(url) ?? (await this.connect(proxy, url, leg.headers, leg.signal));
    const headers = new Headers(leg.headers);
    headers.delete('proxy-authorization');
    try {
      const cert = await (tunnel.secure as NonNullable<Tunnel['secure']>)(url, leg.signal);
      session?.arrived(url, cert);
      return await (tunnel.send as NonNullable<Tunnel['send']>)(url, { ...leg, headers });
    } catch (e) {
      tunnel.close();
      if (leg.signal?.aborted) throw leg.signal.reason;
      throw e;
    }
  }
}
