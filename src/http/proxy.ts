// Negotiate with a forward proxy (RFC 4559 §4 with RFC 9110 §11.7: 407, Proxy-Authenticate,
// Proxy-Authorization): which proxy a URL goes through (the `proxy` option, else curl's
// environment variables), and the proxy's own exchange, kept apart from the origin's.
//
// The proxy gets a context of its own for `HTTP@<proxy host>`, so a Negotiate proxy in front of a
// Negotiate server means two contexts and two AP-REQs. Proxy-Authorization goes only to the proxy:
// on plain HTTP the proxy consumes it (it is hop-by-hop), and an https origin is reached through
// CONNECT, so its request (and its Authorization) travels inside TLS the proxy cannot read, and
// the proxy's header never enters the tunnel. Mutual authentication of the proxy is OPTIONAL: a
// token it sends must verify; none is required (Squid sends none).
import { SPNEGOExchangeError, SpnegoError } from '../errors.js';
import { getEnv } from '../runtime/env.js';
import { forwardThroughProxy, openTunnel, type ProxyLeg, type Tunnel } from '../runtime/http-proxy.js';
import { describeBytes, type NamespacedLog } from '../runtime/log.js';
import { base64Encode } from '../spnego/base64.js';
import type { SecurityContext } from '../spnego/types.js';
import { type NegotiateOffer, negotiateOffer } from './challenge.js';
import { bypassesProxy } from './no-proxy.js';
import { DISABLED, hostOf } from './options.js';

/** The I/O a proxy needs (src/runtime/http-proxy.ts); a seam for tests. */
export interface ProxyTransport {
  forward(proxy: URL, url: URL, leg: ProxyLeg): Promise<Response>;
  tunnel(proxy: URL, target: URL, headers: Headers, signal: AbortSignal | null | undefined): Promise<Tunnel>;
}

export const nodeProxyTransport: ProxyTransport = { forward: forwardThroughProxy, tunnel: openTunnel };

/** 407s answered for one request before giving up (as MAX_LEGS for 401s). */
const MAX_PROXY_LEGS = 6;

export type ProxyOption = string | URL | false | undefined;

export function parseProxy(value: string | URL, from: string): URL {
  let url: URL;
  try {
    // curl takes `host:port` without a scheme as an http proxy.
    url =
      value instanceof URL
        ? value
        : new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new SpnegoError('BAD_PROXY', `${from} is not a proxy URL: ${JSON.stringify(String(value))}`, {
      hint: 'give it as http://host:port',
    });
  }
  if (url.protocol !== 'http:')
    throw new SpnegoError('BAD_PROXY', `${from}: only http:// proxies are supported, not ${url.protocol}`, {
      hint: 'an https origin is still reached through the http proxy with CONNECT, inside TLS',
    });
  return url;
}

const env = (name: string): string | undefined => getEnv(name.toLowerCase()) ?? getEnv(name);

/**
 * The proxy for `url`: the option when given (`false`: none), else `https_proxy`/`HTTPS_PROXY`
 * for https and `http_proxy`/`HTTP_PROXY` for http; either way, none when NO_PROXY names the host.
 */
export function proxyFor(url: URL, option: ProxyOption): URL | undefined {
  if (option === false) return undefined;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (bypassesProxy(url, env('NO_PROXY'))) return undefined;
  if (option !== undefined) return parseProxy(option, 'the proxy option');
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

/** Sends legs through proxies, answering their 407s; one per negotiator. */
export class ProxyClient {
  /** Proxies that asked for Negotiate: later requests to them carry a token from the start. */
  private readonly wantsNegotiate = new Set<string>();

  constructor(
    private readonly mutual: number,
    private readonly createContext: (req: ProxyContextRequest) => Promise<SecurityContext>,
    private readonly log: NamespacedLog,
    private readonly transport: ProxyTransport = nodeProxyTransport,
  ) {}

  private async token(proxy: URL, ctx: SecurityContext | undefined, offer: NegotiateOffer | undefined) {
    if (ctx === undefined) {
      const fresh = await this.createContext({
        target: `HTTP@${hostOf(proxy)}`,
        mutual: this.mutual !== DISABLED,
      });
      const first = await fresh.step();
      if (!first.token)
        throw new SPNEGOExchangeError('NO_INITIAL_TOKEN', 'the proxy context produced no token');
      this.log(`proxy ${proxy.host}: target HTTP@${hostOf(proxy)}, token (${describeBytes(first.token)})`);
      return { ctx: fresh, header: `Negotiate ${base64Encode(first.token)}` };
    }
    if (!offer?.token) return undefined;
    const step = await ctx.step(offer.token);
    if (!step.token) return undefined;
    this.log(`proxy ${proxy.host}: continuing (${describeBytes(step.token)})`);
    return { ctx, header: `Negotiate ${base64Encode(step.token)}` };
  }

  /** OPTIONAL mutual authentication of the proxy: a token it sends on success must verify. */
  private async checkProxyToken(proxy: URL, res: Response, ctx: SecurityContext | undefined): Promise<void> {
    if (this.mutual === DISABLED || ctx === undefined || ctx.complete) return;
    let offer: NegotiateOffer;
    try {
      offer = negotiateOffer(res.headers.get('proxy-authenticate'));
    } catch {
      return;
    }
    if (!offer.token) return;
    try {
      await ctx.step(offer.token);
    } catch (e) {
      await discard(res);
      throw proxyFailure(
        'PROXY_MUTUAL_AUTH_FAILED',
        `the proxy ${proxy.host} sent a token that does not verify`,
        'something other than the proxy you meant may be answering',
        e,
      );
    }
    this.log(`proxy ${proxy.host}: mutual authentication verified`);
  }

  /**
   * One leg to `url` through `proxy`: forwarded in absolute form for http, inside a CONNECT
   * tunnel for https. The leg's own Proxy-Authorization, if the caller set one, is left alone
   * and no Negotiate is attempted with the proxy.
   */
  async send(proxy: URL, url: URL, leg: ProxyLeg): Promise<Response> {
    const own = leg.headers.get('proxy-authorization');
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
      let res: Response;
      let tunnel: Tunnel | undefined;
      if (url.protocol === 'https:') {
        tunnel = await this.transport.tunnel(proxy, url, proxyHeaders, leg.signal);
        res = tunnel.response;
      } else {
        const headers = new Headers(leg.headers);
        headers.delete('proxy-authorization');
        for (const [k, v] of proxyHeaders) headers.set(k, v);
        res = await this.transport.forward(proxy, url, { ...leg, headers });
      }
      if (res.status !== 407) {
        if (tunnel === undefined) {
          await this.checkProxyToken(proxy, res, ctx);
          return res;
        }
        if (res.status < 200 || res.status > 299 || tunnel.send === undefined) {
          tunnel.close();
          throw proxyFailure(
            'PROXY_CONNECT_FAILED',
            `the proxy ${proxy.host} answered CONNECT ${url.host} with ${res.status} ${res.statusText}`.trim(),
            'the proxy refused the tunnel: check its access rules for this host and port',
          );
        }
        await this.checkProxyToken(proxy, res, ctx);
        const headers = new Headers(leg.headers);
        headers.delete('proxy-authorization');
        this.log(`proxy ${proxy.host}: tunnel to ${url.host} open`);
        try {
          return await tunnel.send(url, { ...leg, headers });
        } catch (e) {
          tunnel.close();
          throw e;
        }
      }
      let offer: NegotiateOffer | undefined;
      try {
        offer = negotiateOffer(res.headers.get('proxy-authenticate'));
      } catch (e) {
        failure = e;
      }
      const giveUp = async (why: string): Promise<Response> => {
        this.log(`proxy ${proxy.host}: ${why}: returning the 407`);
        if (tunnel === undefined) return res;
        await discard(res);
        tunnel.close();
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
        if (leg.signal?.aborted) throw leg.signal.reason;
        failure = e;
        return giveUp(`cannot authenticate: ${e instanceof Error ? e.message : String(e)}`);
      }
      await discard(res);
      tunnel?.close();
    }
  }
}
