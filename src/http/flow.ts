// The per-request Negotiate flow (RFC 4559 §4-5), independent of any HTTP client: it takes a
// WHATWG Request and a `send` function (a fetch), and returns the final Response.
//
// Each request gets its own security context, so concurrent requests never share state. The
// body is buffered once, so every leg (and every redirect hop) re-sends it intact whatever the
// caller's client does with retries. Redirects are followed here, not by fetch, because each hop
// is a new origin decision: a token goes only to the origin being asked, an explicit target name
// and delegation only to the origin the user named, and Authorization never crosses origins.
//
// Two rules keep a redirect from turning a token into something an attacker can relay: once the
// request has been on https, no token goes out in clear text; and a token for the service
// principal of the origin the user asked for goes to no other origin (another scheme or port of
// the same host, or another host registered under the same principal) unless the caller says
// `trustSameServiceRedirects` (curl's --location-trusted); the upgrade from http to https of the
// same host on the default ports (80 to 443, the exemption requests makes too) is not such a move.
// "The same host" is also judged on the principal the ticket names, after DNS canonicalization:
// another name of the host (a CNAME, its short name) on another scheme or port is refused as the
// host's own name is. A redirect to another host, which needs a ticket of its own, is
// authenticated there, as requests-gssapi does.
//
// Mutual authentication judges the response the caller gets, as requests-gssapi's handle_other
// does: under REQUIRED a final non-error response that no completed context authenticated is an
// error, whether or not the server ever challenged.
import type { Principal } from '../ccache/principal-text.js';
import { unparsePrincipal } from '../ccache/principal-text.js';
import {
  ChannelBindingError,
  KerberosError,
  MutualAuthenticationError,
  SPNEGOExchangeError,
  SpnegoError,
} from '../errors.js';
import { tlsServerEndPoint } from '../krb5/gss/tls-bindings.js';
import { describeBytes, type NamespacedLog } from '../runtime/log.js';
import { base64Encode } from '../spnego/base64.js';
import type { SecurityContext } from '../spnego/types.js';
import { type NegotiateOffer, negotiateOffer } from './challenge.js';
import { DISABLED, hostOf, OPTIONAL, REQUIRED, type ResolvedOptions, targetFor } from './options.js';

/** What the flow asks of the GSS layer for one request. */
export interface ContextRequest {
  target: string | Principal;
  /** Request mutual authentication (the server must answer with an AP-REP). */
  mutual: boolean;
  delegate: boolean | 'policy';
  /**
   * The connection the token will travel on, when the client can tell (the undici dispatcher):
   * its TLS peer certificate (DER) is what RFC 5929 tls-server-end-point channel bindings are
   * computed from. Absent with fetch, which hides the socket.
   */
  connection?: ConnectionInfo;
  /** RFC 5929 tls-server-end-point application data for this connection, when bound. */
  channelBindings?: Uint8Array;
}

/** What a client that owns its connections (spnego/undici) tells the flow about one. */
export interface ConnectionInfo {
  /** The DER certificate the TLS peer of this connection presented; undefined on plain HTTP. */
  peerCertificate(): Uint8Array | undefined;
}

/** Whether two certificates (DER) are the same bytes; two absent ones are the same. */
export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Optional hooks for clients that own their connections (spnego/undici); fetch and ky pass none.
 * They let a server that authenticates the connection (IIS, some proxies: a 200 without further
 * challenge on the same keep-alive socket) be served one token per connection.
 */
export interface FlowHooks {
  /** Send an opportunistic token on the first leg (overrides the option; false on an authenticated connection). */
  opportunistic?: boolean;
  /** True when `res` came over a connection whose context completed earlier (and verified, if asked). */
  onAuthenticatedConnection?(res: Response): boolean;
  /** Called when a context completed on `res`; `verified`: the server's AP-REP was checked. */
  authenticated?(res: Response, verified: boolean): void;
  /**
   * The connection a leg to `url` will use, for channel bindings; asked when a token is about to
   * be made (a client may open the connection then, as the proxy tunnel does).
   */
  connection?(url: URL): ConnectionInfo | undefined | Promise<ConnectionInfo | undefined>;
  /**
   * This request is a hop of a redirect its client follows itself (undici's redirect interceptor,
   * fetch over a composed dispatcher): `named` is the URL the chain began with, `wasHttps` whether
   * a hop before was on https. The redirect rules judge it as a hop of that chain.
   */
  redirectChain?: RedirectChain;
}
/** Where a chain of redirects began, for a client that follows them itself. */
export interface RedirectChain {
  named: URL;
  wasHttps: boolean;
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
  /** Buffered (can be sent again), or the caller's stream (once: only when no second leg is expected). */
  body: ArrayBuffer | ReadableStream<Uint8Array> | null;
  /** The stream body has gone out: no further leg or 307/308 can carry it. */
  consumed: boolean;
}

const describeTarget = (t: string | Principal): string => (typeof t === 'string' ? t : unparsePrincipal(t));
const errText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/**
 * A target as the name the KDC issues the ticket for, without the realm: `svc@host` (GSS
 * host-based, RFC 2743 §4.1) and `svc/host@REALM` both become `svc/host`. Lower-cased, so that
 * a comparison errs towards "the same service".
 */
function serviceKey(t: string | Principal): string {
  if (typeof t !== 'string') return t.name.nameString.join('/').toLowerCase();
  if (!t.includes('/')) return t.replace('@', '/').toLowerCase();
  const at = t.lastIndexOf('@');
  return (at < 0 ? t : t.slice(0, at)).toLowerCase();
}

/** Why the flow left a 401 unanswered, per response: see negotiateFailure(). */
const failures = new WeakMap<Response, SpnegoError>();

function recordFailure(res: Response, e: unknown): void {
  failures.set(
    res,
    e instanceof SpnegoError
      ? e
      : new SPNEGOExchangeError('LOCAL_FAILURE', `cannot authenticate: ${errText(e)}`, { cause: e }),
  );
}

/**
 * The error that left this 401 unauthenticated (no ticket, KDC unreachable, a token refused by a
 * redirect rule, a broken negotiation), or undefined when the flow did not give up on it.
 */
export function negotiateFailure(response: Response): SpnegoError | undefined {
  return failures.get(response);
}

/**
 * The request body read whole, so that every leg can send it again; past `limit` bytes a typed
 * error, not an unbounded buffer (a stream that large wants opportunisticAuth, which streams it).
 */
async function bufferBody(body: ReadableStream<Uint8Array>, limit: number): Promise<ArrayBuffer> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new SpnegoError(
        'BODY_TOO_LARGE',
        `the request body is larger than maxBufferedBody (${limit} bytes)`,
        {
          hint: 'a body is buffered so it can be sent again after a 401; raise maxBufferedBody, or use opportunisticAuth: true to stream it with the token',
        },
      );
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out.buffer;
}

/**
 * What fetch does with a redirect it cannot follow (WHATWG Fetch §4.4: a network error), in the
 * shape undici gives it, so ky reports a NetworkError and callers' `catch` paths keep working.
 */
function redirectFailure(code: string, message: string, hint: string): TypeError {
  return new TypeError('fetch failed', { cause: new SpnegoError(code, message, { hint }) });
}

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
  /** The last warning given, so that a run of identical failures warns once, not per request. */
  private lastWarning: string | undefined;

  constructor(
    private readonly o: ResolvedOptions,
    private readonly createContext: ContextFactory,
    private readonly log: NamespacedLog,
    private readonly warn: (message: string) => void = log,
  ) {}

  /**
   * A local failure (no ticket, KDC down, unknown service) that leaves the 401 as the answer is a
   * warning, as requests-gssapi logs it, not only a debug line; once until something changes.
   */
  private warnLocal(origin: string, e: unknown): void {
    const hint = e instanceof SpnegoError && e.hint ? ` (hint: ${e.hint})` : '';
    const text = `cannot authenticate to ${origin}, returning its 401: ${errText(e)}${hint}`;
    if (text === this.lastWarning) {
      this.log(text);
      return;
    }
    this.lastWarning = text;
    this.warn(text);
  }

  /** Runs one request to completion: legs, redirects, mutual authentication. */
  async run(base: Request, send: Send, hooks: FlowHooks = {}): Promise<Response> {
    const follow = base.redirect === 'follow';
    const hop: Hop = {
      url: new URL(base.url),
      method: base.method,
      headers: new Headers(base.headers),
      // Streamed as it is when the first leg carries a token (opportunistic: no 401 expected);
      // otherwise buffered, up to maxBufferedBody, so every leg can re-send it.
      body:
        base.body === null
          ? null
          : (hooks.opportunistic ?? this.o.opportunistic)
            ? base.body
            : await bufferBody(base.body, this.o.maxBufferedBody),
      consumed: false,
    };
    const namedUrl = hooks.redirectChain?.named ?? hop.url;
    const namedOrigin = namedUrl.origin;
    const namedHost = hostOf(namedUrl);
    const namedProtocol = namedUrl.protocol;
    const namedPort = namedUrl.port;
    const namedService = serviceKey(targetFor(this.o.targetName, namedUrl, true));
    let wasHttps = hooks.redirectChain?.wasHttps ?? false;
    // The upgrade of a request made over http to https of the same host on the default ports:
    // the caller was ready to send this service's token in clear text, and TLS only protects
    // it better. On another port (http://host:8080 to https://host:8443) whoever listens there
    // could relay the token to the origin asked for, so that takes the opt-in like any port.
    const upgrade = (url: URL): boolean =>
      namedProtocol === 'http:' && namedPort === '' && url.protocol === 'https:' && url.port === '';
    /** The principal the ticket for the requested origin names (after DNS canonicalization). */
    let namedPrincipal: Principal | undefined;
    /**
     * The same rule on the principal a ticket names, not the name in the URL: another name of the
     * requested origin's host (a CNAME, the short name; dns_canonicalize_hostname) gets a ticket
     * for the same principal. On the same scheme and port that is the same server, which holds
     * the key anyway; on another, whoever listens there could relay the token.
     */
    const samePrincipal = async (url: URL, ctx: SecurityContext): Promise<SpnegoError | undefined> => {
      if (this.o.trustSameServiceRedirects || url.origin === namedOrigin) return undefined;
      if ((url.protocol === namedProtocol && url.port === namedPort) || upgrade(url)) return undefined;
      const got = ctx.targetPrincipal;
      if (got === undefined) return undefined;
      namedPrincipal ??= await this.principalOf(new URL(namedOrigin), base.signal);
      if (namedPrincipal === undefined || serviceKey(namedPrincipal) !== serviceKey(got)) return undefined;
      return new SPNEGOExchangeError(
        'REDIRECT_SAME_SERVICE',
        `not sending a token for the service of ${namedOrigin} (${unparsePrincipal(got)}) to ${url.origin}, another name of the same host on another scheme or port`,
        {
          hint: 'such a token could be relayed to the origin you asked for; if you trust the redirect, pass trustSameServiceRedirects: true (spnego curl --location-trusted)',
        },
      );
    };
    /** The redirect rules (see the top of this file): undefined when a token may go to `url`. */
    const refusal = (url: URL): SpnegoError | undefined => {
      if (url.origin === namedOrigin) return undefined;
      if (wasHttps && url.protocol === 'http:')
        return new SPNEGOExchangeError(
          'CLEARTEXT_AFTER_HTTPS',
          `not sending a Negotiate token in clear text to ${url.origin}: the request was redirected there from https`,
          {
            hint: 'a token sent over http can be captured and replayed; ask the server not to redirect to http',
          },
        );
      if (this.o.trustSameServiceRedirects) return undefined;
      const sameHost = hostOf(url) === namedHost;
      if (sameHost && upgrade(url)) return undefined;
      if (sameHost || serviceKey(targetFor(this.o.targetName, url, false)) === namedService)
        return new SPNEGOExchangeError(
          'REDIRECT_SAME_SERVICE',
          `not sending a token for the service of ${namedOrigin} to ${url.origin}, ${sameHost ? 'another scheme or port of the same host' : 'another origin with the same service principal'}`,
          {
            hint: 'such a token could be relayed to the origin you asked for; if you trust the redirect, pass trustSameServiceRedirects: true (spnego curl --location-trusted)',
          },
        );
      return undefined;
    };
    const init = (h: Hop, authorization: string | undefined): RequestInit => {
      const headers = new Headers(h.headers);
      if (authorization !== undefined) headers.set('authorization', authorization);
      const streamed = h.body instanceof ReadableStream;
      if (streamed) h.consumed = true;
      return {
        method: h.method,
        headers,
        body: h.body,
        ...(streamed ? { duplex: 'half' } : {}),
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
      const named = hop.url.origin === namedOrigin;
      const { res, ctx } = await this.exchange(
        hop,
        named,
        refusal(hop.url),
        base.signal,
        (a) => send(hop.url.href, init(hop, a)),
        hooks,
        named
          ? (c) => {
              namedPrincipal ??= c.targetPrincipal;
              return Promise.resolve(undefined);
            }
          : (c) => samePrincipal(hop.url, c),
      );
      const location = res.headers.get('location');
      if (!follow || !REDIRECTS.has(res.status) || location === null)
        return landed(await this.checkMutual(res, ctx, hop.url, hooks), redirects);
      let next: URL;
      try {
        next = new URL(location, hop.url);
      } catch {
        await discard(res);
        throw redirectFailure(
          'BAD_REDIRECT_LOCATION',
          `the ${res.status} response of ${hop.url.origin} has a Location that is not a URL`,
          'the server sent a broken redirect; fetch refuses it the same way',
        );
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        await discard(res);
        throw redirectFailure(
          'REDIRECT_SCHEME',
          `the ${res.status} response of ${hop.url.origin} redirects to a ${next.protocol} URL`,
          'only http and https redirects are followed, as by fetch',
        );
      }
      if (redirects >= MAX_REDIRECTS) {
        await discard(res);
        throw redirectFailure(
          'REDIRECT_LIMIT',
          `more than ${MAX_REDIRECTS} redirects, the last from ${hop.url.origin}`,
          'a redirect loop: check the server, or pass redirect: "manual" to see the responses',
        );
      }
      // An authenticated hop's redirect is the server's word too: it must verify as any response.
      if (ctx !== undefined) await this.checkMutual(res, ctx, hop.url, hooks);
      await discard(res);
      if (hop.url.protocol === 'https:') wasHttps = true;
      if (
        (res.status === 303 && hop.method !== 'GET' && hop.method !== 'HEAD') ||
        ((res.status === 301 || res.status === 302) && hop.method === 'POST')
      ) {
        hop.method = 'GET';
        hop.body = null;
        for (const h of BODY_HEADERS) hop.headers.delete(h);
      } else if (hop.consumed)
        // WHATWG Fetch §4.4 step 11: a streamed body cannot follow a redirect that keeps it.
        throw redirectFailure(
          'REDIRECT_STREAMED_BODY',
          `the ${res.status} redirect of ${hop.url.origin} would send the request body again, but it was streamed`,
          'turn opportunisticAuth off to have the body buffered (up to maxBufferedBody), or send it to the final URL',
        );
      if (next.origin !== hop.url.origin) {
        for (const h of CROSS_ORIGIN_STRIPPED) hop.headers.delete(h);
        this.log(`redirect ${res.status} to another origin ${next.origin}: starting afresh`);
      } else this.log(`redirect ${res.status} to ${next.pathname}`);
      hop.url = next;
    }
  }

  /**
   * RFC 5929 tls-server-end-point bindings of the connection a token to `url` will travel on:
   * computed from that connection's certificate each time, never remembered.
   */
  private bindingsFor(url: URL, connection: ConnectionInfo | undefined): Uint8Array | undefined {
    if (!this.o.channelBindings || url.protocol !== 'https:') return undefined;
    if (connection === undefined) {
      this.log(
        `no channel bindings for ${url.origin}: this client does not expose its TLS connection (spnego/undici does)`,
      );
      return undefined;
    }
    const cert = connection.peerCertificate();
    if (cert === undefined)
      throw new ChannelBindingError(
        'NO_CERTIFICATE',
        `the connection to ${url.origin} shows no server certificate`,
        {
          hint: 'channel bindings need the TLS peer certificate; channelBindings: false sends tokens unbound',
        },
      );
    this.log(
      () =>
        `channel bindings: tls-server-end-point of the certificate ${url.origin} presented (${describeBytes(cert)})`,
    );
    return tlsServerEndPoint(cert);
  }

  /**
   * The principal a ticket for the origin `url` would name, from a context made for it and never
   * sent; undefined when the KDC knows no such service (then no token for it can be relayed).
   */
  private async principalOf(url: URL, signal: AbortSignal): Promise<Principal | undefined> {
    try {
      return await abortable(signal, async () => {
        const ctx = await this.createContext({
          target: targetFor(this.o.targetName, url, true),
          mutual: false,
          delegate: false,
        });
        await ctx.step();
        return ctx.targetPrincipal;
      });
    } catch (e) {
      if (e instanceof KerberosError && e.errorName === 'KDC_ERR_S_PRINCIPAL_UNKNOWN') return undefined;
      throw e;
    }
  }

  private async newContext(
    url: URL,
    named: boolean,
    hooks: FlowHooks,
  ): Promise<{ ctx: SecurityContext; token: Uint8Array }> {
    const target = targetFor(this.o.targetName, url, named);
    // Delegation hands over the user's TGT: only to the origin the user asked for.
    const delegate = named ? this.o.delegate : false;
    this.log(
      `target ${describeTarget(target)} for ${url.origin}${delegate ? `, delegation ${delegate === true ? 'on' : 'by policy'}` : ''}`,
    );
    // Channel bindings hook in here: `connection` carries the TLS peer certificate of the socket
    // this token will travel on (per connection, never cached across hosts).
    const connection = await hooks.connection?.(url);
    const channelBindings = this.bindingsFor(url, connection);
    const ctx = await this.createContext({
      target,
      mutual: this.o.mutual !== DISABLED,
      delegate,
      ...(connection === undefined ? {} : { connection }),
      ...(channelBindings === undefined ? {} : { channelBindings }),
    });
    const first = await ctx.step();
    if (!first.token)
      throw new SPNEGOExchangeError('NO_INITIAL_TOKEN', 'the security context produced no initial token');
    const token = first.token;
    // A function: describeBytes hashes the token, work wasted when the log is off.
    this.log(() => `sending initial token (${describeBytes(token)})`);
    return { ctx, token };
  }

  /**
   * One hop: optional opportunistic token, then 401 legs. Returns the hop's last response and the
   * context that answered it (undefined when no token was sent); the caller judges mutual
   * authentication, since only it knows whether this response is the final one.
   */
  private async exchange(
    hop: Hop,
    named: boolean,
    refused: SpnegoError | undefined,
    signal: AbortSignal,
    send: (authorization: string | undefined) => Promise<Response>,
    hooks: FlowHooks,
    /** Asked of each new context before its token goes out: an error keeps the token back. */
    vet: (ctx: SecurityContext) => Promise<SpnegoError | undefined>,
  ): Promise<{ res: Response; ctx: SecurityContext | undefined }> {
    let ctx: SecurityContext | undefined;
    let authorization: string | undefined;
    let failure: unknown;
    let failed = false;
    if ((hooks.opportunistic ?? this.o.opportunistic) && named) {
      try {
        const first = await abortable(signal, () => this.newContext(hop.url, named, hooks));
        await vet(first.ctx);
        ctx = first.ctx;
        authorization = `Negotiate ${base64Encode(first.token)}`;
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        failed = true;
        failure = e;
        this.log(`opportunistic authentication failed locally, sending without: ${errText(e)}`);
      }
    }
    const giveUp = (res: Response, e: unknown): { res: Response; ctx: SecurityContext | undefined } => {
      recordFailure(res, e);
      return { res, ctx };
    };
    // The opportunistic token could not be made: a 401 is now likely, so the body must be replayable.
    if (failed && hop.body instanceof ReadableStream && !hop.consumed)
      hop.body = await bufferBody(hop.body, this.o.maxBufferedBody);
    for (let legs = 0; ; legs++) {
      const res = await send(authorization);
      if (res.status !== 401) {
        if (ctx !== undefined) this.lastWarning = undefined;
        return { res, ctx };
      }
      if (hop.consumed) {
        this.log(`401 from ${hop.url.origin} after the streamed body went out: returning the 401`);
        return giveUp(
          res,
          new SPNEGOExchangeError(
            'BODY_NOT_REPLAYABLE',
            `${hop.url.origin} asked for another leg, but the request body was streamed`,
            {
              hint: 'the token sent up front was not accepted; turn opportunisticAuth off to have the body buffered and sent again',
            },
          ),
        );
      }
      let offer: NegotiateOffer;
      try {
        offer = negotiateOffer(res.headers.get('www-authenticate'));
      } catch (e) {
        this.log(`401 from ${hop.url.origin} with an unusable challenge: ${errText(e)}`);
        return giveUp(res, e);
      }
      if (!offer.offered) {
        this.log(`401 from ${hop.url.origin} without Negotiate: returned as is`);
        return { res, ctx };
      }
      this.log(
        () =>
          `401 from ${hop.url.origin}: Negotiate${offer.token ? ` with token (${describeBytes(offer.token)})` : ''}`,
      );
      if (failed) {
        this.warnLocal(hop.url.origin, failure);
        return giveUp(res, failure);
      }
      if (refused !== undefined) {
        this.log(`${refused.message}: returning the 401`);
        return giveUp(res, refused);
      }
      if (legs >= MAX_LEGS) {
        this.log(`giving up after ${legs} legs: returning the 401`);
        return giveUp(
          res,
          new SPNEGOExchangeError('TOO_MANY_LEGS', `${hop.url.origin} still answered 401 after ${legs} legs`),
        );
      }
      try {
        if (ctx === undefined) {
          const first = await abortable(signal, () => this.newContext(hop.url, named, hooks));
          const refusedHere = await vet(first.ctx);
          if (refusedHere !== undefined) {
            this.log(`${refusedHere.message}: returning the 401`);
            recordFailure(res, refusedHere);
            return { res, ctx: undefined };
          }
          ctx = first.ctx;
          authorization = `Negotiate ${base64Encode(first.token)}`;
        } else {
          if (!offer.token) {
            this.log('the server refused our token: returning the 401');
            return giveUp(
              res,
              new SPNEGOExchangeError('TOKEN_REFUSED', `${hop.url.origin} refused the Negotiate token`, {
                hint: 'the server log says why (an unknown user, a clock skew, a stale keytab)',
              }),
            );
          }
          const step = await ctx.step(offer.token);
          if (!step.token) {
            this.log('the context has nothing more to send: returning the 401');
            return giveUp(
              res,
              new SPNEGOExchangeError(
                'TOKEN_REFUSED',
                `${hop.url.origin} answered 401 to a complete exchange`,
              ),
            );
          }
          const next = step.token;
          this.log(() => `continuing the same context (${describeBytes(next)})`);
          authorization = `Negotiate ${base64Encode(next)}`;
        }
      } catch (e) {
        if (signal.aborted) {
          await discard(res);
          throw signal.reason;
        }
        // As requests-gssapi: a local Kerberos failure (no ticket, KDC down, bad server token
        // mid-exchange) leaves the 401 as the answer, with the reason in a warning and in
        // negotiateFailure(res).
        this.warnLocal(hop.url.origin, e);
        return giveUp(res, e);
      }
      await discard(res);
    }
  }

  /**
   * requests-gssapi's handle_other, but requiring a completed context, not just a token. `ctx`
   * is the context that answered this response; without one, nothing authenticated it. A 401 is
   * the answer to the authentication itself and is returned as it is (requests-gssapi never
   * hands a 401 to handle_other either).
   */
  private async checkMutual(
    res: Response,
    ctx: SecurityContext | undefined,
    url: URL,
    hooks: FlowHooks,
  ): Promise<Response> {
    const mode = this.o.mutual;
    if (res.status === 401) return res;
    if (mode === DISABLED) {
      if (ctx !== undefined) hooks.authenticated?.(res, false);
      return res;
    }
    const origin = url.origin;
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
      // A server token with no context of ours behind it cannot be verified by anything.
      if (ctx === undefined)
        return fail(
          'MUTUAL_AUTH_FAILED',
          `the ${res.status} response of ${origin} carries a Negotiate token, but no token of ours was sent to it`,
        );
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
      hooks.authenticated?.(res, true);
      return res;
    }
    // A connection-bound server (IIS): this connection's context completed, with the server's
    // AP-REP verified, on an earlier request; the response came over that same socket.
    if (ctx === undefined && hooks.onAuthenticatedConnection?.(res)) {
      this.log(`the ${res.status} response of ${origin} came on a connection authenticated earlier`);
      return res;
    }
    if (res.status >= 400 || mode === OPTIONAL) {
      if (ctx !== undefined && res.status < 400) hooks.authenticated?.(res, false);
      this.log(
        `no mutual authentication token on the ${res.status} response of ${origin}${ctx === undefined ? ' (it never asked us to authenticate)' : ''}`,
      );
      if (mode === REQUIRED && this.o.sanitize) return sanitized(res);
      return res;
    }
    return fail(
      'MUTUAL_AUTH_MISSING',
      ctx === undefined
        ? `the ${res.status} response of ${origin} was never authenticated: the server did not ask for Negotiate, so nothing proves who sent it`
        : `the ${res.status} response of ${origin} carries no token to authenticate the server`,
    );
  }
}
