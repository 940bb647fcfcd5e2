// The per-request Negotiate flow (RFC 4559 §4-5), independent of any HTTP client: it takes a
// WHATWG Request and a `send` function (a fetch), and returns the final Response.
//
// Each request gets its own security context, so concurrent requests never share state. The
// body is buffered once, so every leg (and every redirect hop) re-sends it intact whatever the
// caller's client does with retries. Redirects are followed here, not by fetch, because each hop
// is a new origin decision: a token goes only to the origin being asked, an explicit target name
// and delegation only to the origin the user named, and Authorization never crosses origins.
import type { Principal } from '../ccache/principal-text.js';
import { unparsePrincipal } from '../ccache/principal-text.js';
import { MutualAuthenticationError, SPNEGOExchangeError } from '../errors.js';
import { describeBytes, type NamespacedLog } from '../runtime/log.js';
import { base64Encode } from '../spnego/base64.js';
import type { SecurityContext } from '../spnego/types.js';
import { type NegotiateOffer, negotiateOffer } from './challenge.js';
import { DISABLED, OPTIONAL, REQUIRED, type ResolvedOptions, targetFor } from './options.js';

/** What the flow asks of the GSS layer for one request. */
export interface ContextRequest {
  target: string | Principal;
  /** Request mutual authentication (the server must answer with an AP-REP). */
  mutual: boolean;
  delegate: boolean | 'policy';
}
export type ContextFactory = (req: ContextRequest) => Promise<SecurityContext>;
/** A fetch: the flow hands it a URL and a full RequestInit, so the request is built only once, there. */
export type Send = (url: string, init: RequestInit) => Promise<Response>;

/** Legs of one context (each a 401 answered with a further token) before we give up. */
export const MAX_LEGS = 6;
/** As fetch (WHATWG Fetch §4.4 step 5). */
export const MAX_REDIRECTS = 20;
/** Intermediate bodies up to this size are read to the end so the connection can be reused. */
const DRAIN_LIMIT = 64 * 1024;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CROSS_ORIGIN_STRIPPED = ['authorization', 'proxy-authorization', 'cookie'];
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
];

interface Hop {
  url: URL;
  method: string;
  headers: Headers;
  body: ArrayBuffer | null;
}

const describeTarget = (t: string | Principal): string => (typeof t === 'string' ? t : unparsePrincipal(t));
const errText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

async function discard(res: Response): Promise<void> {
  try {
    const len = Number(res.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(len) && len <= DRAIN_LIMIT) await res.arrayBuffer();
    else await res.body?.cancel();
  } catch {
    // the connection is lost either way; the next request opens another
  }
}

/**
 * The Kerberos work (ccache, KDC round trips) raced against the caller's signal: an abort must end
 * the request now, not after a slow or unreachable KDC. The work is not started once aborted.
 */
function abortable<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work().then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** requests-gssapi's SanitizedResponse: the status survives, the (unauthenticated) content does not. */
function sanitized(res: Response): Response {
  const headers = new Headers({ 'content-length': '0' });
  for (const name of ['date', 'server']) {
    const v = res.headers.get(name);
    if (v !== null) headers.set(name, v);
  }
  void res.body?.cancel().catch(() => undefined);
  const out = new Response(null, { status: res.status, statusText: res.statusText, headers });
  Object.defineProperty(out, 'url', { value: res.url });
  return out;
}

export class NegotiateFlow {
  constructor(
    private readonly o: ResolvedOptions,
    private readonly createContext: ContextFactory,
    private readonly log: NamespacedLog,
  ) {}

  /** Runs one request to completion: legs, redirects, mutual authentication. */
  async run(base: Request, send: Send): Promise<Response> {
    const follow = base.redirect === 'follow';
    const hop: Hop = {
      url: new URL(base.url),
      method: base.method,
      headers: new Headers(base.headers),
      body: base.body === null ? null : await base.arrayBuffer(),
    };
    const namedOrigin = hop.url.origin;
    const init = (h: Hop, authorization: string | undefined): RequestInit => {
      const headers = new Headers(h.headers);
      if (authorization !== undefined) headers.set('authorization', authorization);
      return {
        method: h.method,
        headers,
        body: h.body,
        signal: base.signal,
        redirect: follow ? 'manual' : base.redirect,
        credentials: base.credentials,
        cache: base.cache,
        keepalive: base.keepalive,
        referrerPolicy: base.referrerPolicy,
      };
    };
    // Fetch marks a response reached through redirects; ours come from `redirect: 'manual'` legs.
    const landed = (res: Response, redirects: number): Response =>
      redirects === 0 ? res : Object.defineProperty(res, 'redirected', { value: true });
    for (let redirects = 0; ; redirects++) {
      const res = await this.exchange(hop, hop.url.origin === namedOrigin, base.signal, (a) =>
        send(hop.url.href, init(hop, a)),
      );
      const location = res.headers.get('location');
      if (!follow || !REDIRECTS.has(res.status) || location === null) return landed(res, redirects);
      let next: URL;
      try {
        next = new URL(location, hop.url);
      } catch {
        return landed(res, redirects);
      }
      if ((next.protocol !== 'http:' && next.protocol !== 'https:') || redirects >= MAX_REDIRECTS)
        return landed(res, redirects);
      await discard(res);
      if (
        (res.status === 303 && hop.method !== 'GET' && hop.method !== 'HEAD') ||
        ((res.status === 301 || res.status === 302) && hop.method === 'POST')
      ) {
        hop.method = 'GET';
        hop.body = null;
        for (const h of BODY_HEADERS) hop.headers.delete(h);
      }
      if (next.origin !== hop.url.origin) {
        for (const h of CROSS_ORIGIN_STRIPPED) hop.headers.delete(h);
        this.log(`redirect ${res.status} to another origin ${next.origin}: starting afresh`);
      } else this.log(`redirect ${res.status} to ${next.pathname}`);
      hop.url = next;
    }
  }

  private async newContext(url: URL, named: boolean): Promise<{ ctx: SecurityContext; token: Uint8Array }> {
    const target = targetFor(this.o.targetName, url, named);
    // Delegation hands over the user's TGT: only to the origin the user asked for.
    const delegate = named ? this.o.delegate : false;
    this.log(
      `target ${describeTarget(target)} for ${url.origin}${delegate ? `, delegation ${delegate === true ? 'on' : 'by policy'}` : ''}`,
    );
    const ctx = await this.createContext({ target, mutual: this.o.mutual !== DISABLED, delegate });
    const first = await ctx.step();
    if (!first.token)
      throw new SPNEGOExchangeError('NO_INITIAL_TOKEN', 'the security context produced no initial token');
    this.log(`sending initial token (${describeBytes(first.token)})`);
    return { ctx, token: first.token };
  }

  /** One hop: optional opportunistic token, then 401 legs, then the mutual check. */
  private async exchange(
    hop: Hop,
    named: boolean,
    signal: AbortSignal,
    send: (authorization: string | undefined) => Promise<Response>,
  ): Promise<Response> {
    let ctx: SecurityContext | undefined;
    let authorization: string | undefined;
    let failed = false;
    if (this.o.opportunistic && named) {
      try {
        const first = await abortable(signal, () => this.newContext(hop.url, named));
        ctx = first.ctx;
        authorization = `Negotiate ${base64Encode(first.token)}`;
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        failed = true;
        this.log(`opportunistic authentication failed locally, sending without: ${errText(e)}`);
      }
    }
    for (let legs = 0; ; legs++) {
      const res = await send(authorization);
      if (res.status !== 401) {
        if (ctx === undefined) return res;
        return this.checkMutual(res, ctx);
      }
      let offer: NegotiateOffer;
      try {
        offer = negotiateOffer(res.headers.get('www-authenticate'));
      } catch (e) {
        this.log(`401 from ${hop.url.origin} with an unusable challenge: ${errText(e)}`);
        return res;
      }
      if (!offer.offered) {
        this.log(`401 from ${hop.url.origin} without Negotiate: returned as is`);
        return res;
      }
      this.log(
        `401 from ${hop.url.origin}: Negotiate${offer.token ? ` with token (${describeBytes(offer.token)})` : ''}`,
      );
      if (failed) return res;
      if (legs >= MAX_LEGS) {
        this.log(`giving up after ${legs} legs: returning the 401`);
        return res;
      }
      try {
        if (ctx === undefined) {
          const first = await abortable(signal, () => this.newContext(hop.url, named));
          ctx = first.ctx;
          authorization = `Negotiate ${base64Encode(first.token)}`;
        } else {
          if (!offer.token) {
            this.log('the server refused our token: returning the 401');
            return res;
          }
          const step = await ctx.step(offer.token);
          if (!step.token) {
            this.log('the context has nothing more to send: returning the 401');
            return res;
          }
          this.log(`continuing the same context (${describeBytes(step.token)})`);
          authorization = `Negotiate ${base64Encode(step.token)}`;
        }
      } catch (e) {
        if (signal.aborted) {
          await discard(res);
          throw signal.reason;
        }
        // As requests-gssapi: a local Kerberos failure (no ticket, KDC down, bad server token
        // mid-exchange) leaves the 401 as the answer, with the reason in the log.
        failed = true;
        this.log(`cannot authenticate to ${hop.url.origin}: ${errText(e)}`);
        return res;
      }
      await discard(res);
    }
  }

  /** requests-gssapi's handle_other, but requiring a completed context, not just a token. */
  private async checkMutual(res: Response, ctx: SecurityContext): Promise<Response> {
    const mode = this.o.mutual;
    if (mode === DISABLED) return res;
    const origin = new URL(res.url || 'http://unknown').origin;
    const fail = async (code: string, message: string, cause?: unknown): Promise<never> => {
      await discard(res);
      throw new MutualAuthenticationError(code, message, {
        ...(cause === undefined ? {} : { cause }),
        hint: 'the response may not come from the server we authenticated to; do not trust its content',
      });
    };
    let offer: NegotiateOffer;
    try {
      offer = negotiateOffer(res.headers.get('www-authenticate'));
    } catch (e) {
      return fail(
        'MUTUAL_AUTH_FAILED',
        `unable to authenticate the ${res.status} response of ${origin}: ${errText(e)}`,
        e,
      );
    }
    if (offer.token) {
      if (!ctx.complete) {
        try {
          await ctx.step(offer.token);
        } catch (e) {
          if (e instanceof MutualAuthenticationError) {
            await discard(res);
            throw e;
          }
          return fail(
            'MUTUAL_AUTH_FAILED',
            `the ${res.status} response of ${origin} failed mutual authentication: ${errText(e)}`,
            e,
          );
        }
      }
      if (!ctx.complete)
        return fail(
          'MUTUAL_AUTH_INCOMPLETE',
          `the ${res.status} response of ${origin} did not complete the security context`,
        );
      this.log(`mutual authentication of ${origin} verified (${res.status})`);
      return res;
    }
    if (res.status >= 400 || mode === OPTIONAL) {
      this.log(`no mutual authentication token on the ${res.status} response of ${origin}`);
      if (mode === REQUIRED && this.o.sanitize) return sanitized(res);
      return res;
    }
    return fail(
      'MUTUAL_AUTH_MISSING',
      `the ${res.status} response of ${origin} carries no token to authenticate the server`,
    );
  }
}
