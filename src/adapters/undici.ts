// `spnego/undici`: HTTP Negotiate as an undici Dispatcher, so `undici.request`, `fetch(url,
// { dispatcher })` (Node's own fetch included) and any undici-based client authenticate. A thin
// layer over the shared flow (src/http/flow.ts): the same options and semantics as negotiate().
//
// What the dispatcher adds over fetch is the connection. It keeps its own undici `Client`s (one
// Client is one connection at a time) and a connector that numbers each socket it opens, so:
// - every leg of one request goes over the same connection, as a multi-leg server expects;
// - a server that authenticates the connection (IIS: a 200 without further challenge on the same
//   keep-alive socket) gets one token per connection, not one per request, and a response on
//   that socket counts as mutually authenticated once its context completed with a verified
//   AP-REP, on that socket and no other (a reconnect starts over);
// - the TLS socket of each connection is at hand: `ConnectionInfo.peerCertificate()` gives the
//   certificate the peer presented on the very socket a token will travel on, which is what
//   RFC 5929 tls-server-end-point channel bindings are computed from (never cached across hosts
//   or connections).
//
// Redirects are followed by whoever drives the dispatcher (fetch, undici's redirect
// interceptor): each hop reaches dispatch() as a request of its own.
import { buildConnector, Client, Dispatcher } from 'undici';
import { ChannelBindingError, ConfigError } from '../errors.js';
import { createNegotiator, type NegotiateInternals } from '../http/fetch.js';
import { type ConnectionInfo, type RedirectChain, sameBytes } from '../http/flow.js';
import { DISABLED, type NegotiateOptions } from '../http/options.js';
import { NULL_BODY } from '../runtime/node-incoming.js';
import { collectBody } from './body.js';

type DispatchOptions = Dispatcher.DispatchOptions;
type DispatchHandler = Dispatcher.DispatchHandler;

/** Options of negotiateDispatcher(): negotiate()'s, and how many connections per origin. */
export interface NegotiateDispatcherOptions extends NegotiateOptions {
  /** Connections kept per origin (default 16); a request waits for a free one past that. */
  connections?: number;
  /** TLS options for https origins (ca, rejectUnauthorized, …), as undici's `connect`. */
  tls?: buildConnector.BuildOptions;
}

/** One connection: an undici Client, and the socket it is on now. */
interface Connection {
  readonly client: Client;
  /** Bumped for every socket the connector opens: a reconnect is another connection. */
  socket: number;
  tls:
    | { getPeerCertificate?(detailed: boolean): { raw?: Uint8Array } | null; destroyed?: boolean }
    | undefined;
  /** The DER certificate the peer of the current socket presented (taken when it connected). */
  cert: Uint8Array | undefined;
  /**
   * The certificate a token in flight is bound to: a socket opened meanwhile (the server closed
   * the connection between legs) that presents another one is refused before the token is sent.
   */
  boundTo: Uint8Array | undefined;
  busy: boolean;
  /** The socket whose context completed, and whether the server's AP-REP was verified. */
  authenticated: { socket: number; verified: boolean } | undefined;
  /**
   * The socket on which the server, after a context completed, challenged a request sent without
   * a token: it authenticates requests, not the connection (Apache's default), so tokens go up
   * front again there instead of every request paying a 401 first.
   */
  perRequest: number | undefined;
}

/** Which socket a response came over (set when its headers arrived). */
const cameOver = new WeakMap<Response, { conn: Connection; socket: number }>();

function headerPairs(h: DispatchOptions['headers']): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (h === undefined || h === null) return out;
  if (Array.isArray(h)) {
    if (h.length > 0 && Array.isArray(h[0])) {
      for (const [k, v] of h as unknown as Array<[string, string]>) out.push([k, String(v)]);
    } else for (let i = 0; i + 1 < h.length; i += 2) out.push([String(h[i]), String(h[i + 1])]);
    return out;
  }
  const entries: Iterable<[string, unknown]> =
    Symbol.iterator in (h as object) ? (h as Iterable<[string, unknown]>) : Object.entries(h);
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push([k, String(x)]);
    else out.push([k, String(v)]);
  }
  return out;
}

/**
 * The URL a dispatch is for. `path` is the request-target undici writes to `origin` (origin-form,
 * RFC 9112 §3.2.1), not a reference to resolve against it: resolved, '//other.example/x' (the path
 * fetch dispatches for https://a.example//other.example/x) or '/\other.example/x' named another
 * host, and the request with its token went there instead of to `origin`.
 */
function dispatchTarget(origin: DispatchOptions['origin'], path: string): URL {
  const o = new URL(String(origin ?? '')).origin;
  const url = new URL(`${o}${path}`);
  if (!path.startsWith('/') || url.origin !== o)
    throw new ConfigError('BAD_REQUEST_TARGET', `the path ${JSON.stringify(path)} is not a path on ${o}`, {
      hint: 'give undici the origin and a path starting with a single "/" (absolute-form targets are for proxies)',
    });
  return url;
}

async function bufferBody(body: DispatchOptions['body']): Promise<Uint8Array | null> {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  return collectBody(body as AsyncIterable<Uint8Array | string>);
}

/** An async iterable (undici's body) as a ReadableStream, pulled as the reader reads. */
function streamOf(
  body: AsyncIterable<Uint8Array> & { destroy?(e?: Error): void },
): ReadableStream<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await it.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      body.destroy?.(reason instanceof Error ? reason : undefined);
    },
  });
}

/**
 * An undici Dispatcher that answers `401 Negotiate` (RFC 4559) with Kerberos, with the options
 * and semantics of negotiate(). Use it as `fetch(url, { dispatcher })`, `undici.request(url,
 * { dispatcher })` or `setGlobalDispatcher(...)`.
 */
/** How long a delivered redirect waits for its hop, and how many wait at most. */
const REDIRECT_HOP_MS = 60_000;
const REDIRECTS_REMEMBERED = 256;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * The redirects this dispatcher delivered lately. Whoever follows them (fetch, undici's redirect
 * interceptor) dispatches each hop as a request of its own; without this memory a hop from https
 * to http, or to another port of the same host, got a token there, which the flow's redirect
 * rules refuse (CLEARTEXT_AFTER_HTTPS, REDIRECT_SAME_SERVICE): whoever listens there could relay
 * it to the origin asked for. A hop to a remembered Location is judged as a hop of its chain.
 */
class RedirectMemory {
  private readonly pending = new Map<string, RedirectChain & { at: number }>();

  /** The chain `url` is a hop of, when a redirect to it was delivered lately (taken once). */
  take(url: URL): RedirectChain | undefined {
    const c = this.pending.get(url.href);
    if (c === undefined) return undefined;
    this.pending.delete(url.href);
    return Date.now() - c.at <= REDIRECT_HOP_MS ? { named: c.named, wasHttps: c.wasHttps } : undefined;
  }

  /** `res`, the answer to `url` (a hop of `chain`, if any), is about to be delivered. */
  remember(url: URL, chain: RedirectChain | undefined, res: Response): void {
    const location = res.headers.get('location');
    if (!REDIRECT_STATUSES.has(res.status) || location === null) return;
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      return;
    }
    next.hash = '';
    this.pending.delete(next.href);
    this.pending.set(next.href, {
      named: chain?.named ?? url,
      wasHttps: (chain?.wasHttps ?? false) || url.protocol === 'https:',
      at: Date.now(),
    });
    if (this.pending.size > REDIRECTS_REMEMBERED) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
  }
}

export class NegotiateDispatcher extends Dispatcher {
  private readonly pools = new Map<string, Connection[]>();
  private readonly waiting = new Map<string, Array<() => void>>();
  private readonly negotiator: ReturnType<typeof createNegotiator>;
  private readonly redirects = new RedirectMemory();
  private readonly max: number;
  private readonly connector: buildConnector.connector;
  private closed = false;

  constructor(
    private readonly options: NegotiateDispatcherOptions = {},
    internals: NegotiateInternals = {},
  ) {
    super();
    const { connections, tls, ...negotiate } = options;
    this.max = connections ?? 16;
    this.negotiator = createNegotiator(negotiate, internals);
    // A resumed TLS session shows no peer certificate in Node (getPeerCertificate() is empty),
    // so with channel bindings every connection makes a full handshake: each token is bound to a
    // certificate that connection itself presented, never one remembered from another.
    this.connector = buildConnector({
      ...(tls ?? {}),
      ...(negotiate.channelBindings === false ? {} : { maxCachedSessions: 0 }),
    });
  }

  private connection(origin: string): Promise<Connection> {
    const pool = this.pools.get(origin) ?? [];
    this.pools.set(origin, pool);
    // An authenticated idle connection first: it needs no token.
    const idle =
      pool.find((c) => !c.busy && c.authenticated?.socket === c.socket) ?? pool.find((c) => !c.busy);
    if (idle) {
      idle.busy = true;
      return Promise.resolve(idle);
    }
    if (pool.length < this.max) {
      const conn: Connection = {
        socket: 0,
        tls: undefined,
        cert: undefined,
        boundTo: undefined,
        busy: true,
        authenticated: undefined,
        perRequest: undefined,
        client: undefined as unknown as Client,
      };
      (conn as { client: Client }).client = new Client(origin, {
        pipelining: 1,
        connect: (opts, cb) =>
          this.connector(opts, (err, socket) => {
            if (!err && socket) {
              conn.socket++;
              conn.tls = 'getPeerCertificate' in socket ? (socket as Connection['tls']) : undefined;
              const raw = conn.tls?.getPeerCertificate?.(false)?.raw;
              conn.cert = raw ? new Uint8Array(raw) : undefined;
              if (conn.boundTo !== undefined && !sameBytes(conn.boundTo, conn.cert)) {
                socket.destroy();
                const changed = new ChannelBindingError(
                  'CERTIFICATE_CHANGED',
                  `${String(opts.hostname)} presented another certificate on a new connection than the one the token in flight is bound to; the token was not sent`,
                  {
                    hint: 'a TLS-terminating proxy or load balancer with several certificates sits in front of the server',
                  },
                );
                (cb as (e: Error | null, s: null) => void)(changed, null);
                return;
              }
            }
            (cb as (e: Error | null, s: typeof socket | null) => void)(err, socket);
          }),
      });
      pool.push(conn);
      return Promise.resolve(conn);
    }
    return new Promise((resolve) => {
      const q = this.waiting.get(origin) ?? [];
      q.push(() => resolve(this.connection(origin)));
      this.waiting.set(origin, q);
    });
  }

  private release(origin: string, conn: Connection): void {
    conn.busy = false;
    conn.boundTo = undefined;
    this.waiting.get(origin)?.shift()?.();
  }

  /** One leg on `conn`, as a Response whose socket is remembered. */
  private async leg(conn: Connection, url: URL, init: RequestInit): Promise<Response> {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const body =
      init.body === null || init.body === undefined
        ? null
        : init.body instanceof ReadableStream
          ? new Uint8Array(await new Response(init.body).arrayBuffer())
          : new Uint8Array(init.body as ArrayBuffer);
    const r = await conn.client.request({
      path: `${url.pathname}${url.search}`,
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      body,
      ...(init.signal ? { signal: init.signal } : {}),
    });
    const socket = conn.socket;
    if (
      r.statusCode === 401 &&
      headers['authorization'] === undefined &&
      conn.authenticated?.socket === socket
    )
      conn.perRequest = socket;
    const h = new Headers();
    for (const [k, v] of Object.entries(r.headers)) {
      if (v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) h.append(k, x);
    }
    const nullBody = r.statusCode === 204 || r.statusCode === 304 || init.method === 'HEAD';
    if (nullBody) r.body.resume();
    const res = new Response(nullBody ? null : streamOf(r.body), {
      status: r.statusCode,
      headers: h,
    });
    Object.defineProperty(res, 'url', { value: url.href });
    cameOver.set(res, { conn, socket });
    return res;
  }

  override dispatch(opts: DispatchOptions, handler: DispatchHandler): boolean {
    const abortController = new AbortController();
    const caller = callerOf(handler as AnyHandler, (e) => abortController.abort(e));
    caller.start();
    this.run(opts, caller, abortController.signal).catch((e: unknown) => caller.fail(e));
    return true;
  }

  private async run(opts: DispatchOptions, caller: Caller, signal: AbortSignal): Promise<void> {
    if (this.closed) throw new Error('the dispatcher is closed');
    const origin = String(opts.origin ?? '');
    const url = dispatchTarget(origin, opts.path);
    const method = opts.method;
    const body = await bufferBody(opts.body);
    const request = new Request(url, {
      method,
      headers: headerPairs(opts.headers),
      ...(body === null || method === 'GET' || method === 'HEAD' ? {} : { body: body as BodyInit }),
      redirect: 'manual',
      signal,
    });
    const pinned = new Map<string, Connection>();
    const connFor = async (o: string): Promise<Connection> => {
      let c = pinned.get(o);
      if (!c) {
        c = await this.connection(o);
        pinned.set(o, c);
      }
      return c;
    };
    const named = await connFor(url.origin);
    const mutual = this.options.mutualAuthentication ?? DISABLED;
    const chain = this.redirects.take(url);
    try {
      const res = await this.negotiator.run(
        request,
        async (legUrl, init) => {
          const u = new URL(legUrl);
          return this.leg(await connFor(u.origin), u, init);
        },
        {
          ...(chain === undefined ? {} : { redirectChain: chain }),
          // No token up front on a connection authenticated earlier: it needs none.
          ...((named.authenticated !== undefined &&
            named.authenticated.socket === named.socket &&
            named.perRequest !== named.socket) ||
          // A bound token needs the certificate, which a connection not yet opened has not shown:
          // the first leg goes without one.
          (url.protocol === 'https:' &&
            this.options.channelBindings !== false &&
            (named.cert === undefined || named.tls?.destroyed === true))
            ? { opportunistic: false }
            : {}),
          onAuthenticatedConnection: (res) => {
            const seen = cameOver.get(res);
            const a = seen?.conn.authenticated;
            return !!seen && !!a && a.socket === seen.socket && (a.verified || mutual === DISABLED);
          },
          authenticated: (res, verified) => {
            const seen = cameOver.get(res);
            if (seen && seen.socket === seen.conn.socket)
              seen.conn.authenticated = { socket: seen.socket, verified };
          },
          connection: (u): ConnectionInfo | undefined => {
            const c = pinned.get(u.origin);
            if (!c) return undefined;
            return {
              // Asked only when a token is being bound: it is now bound to this certificate.
              peerCertificate: () => {
                c.boundTo = c.cert;
                return c.cert;
              },
            };
          },
        },
      );
      this.redirects.remember(url, chain, res);
      await caller.deliver(res);
    } finally {
      for (const [o, c] of pinned) this.release(o, c);
    }
  }

  override async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.values()].flat().map((c) => c.client.close()));
  }

  override async destroy(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.values()].flat().map((c) => c.client.destroy()));
  }
}

/** `new NegotiateDispatcher(options)`: pass it as `dispatcher` to fetch or undici.request. */
export function negotiateDispatcher(options: NegotiateDispatcherOptions = {}): NegotiateDispatcher {
  return new NegotiateDispatcher(options);
}

// ---------------------------------------------------------------------------------------------
// negotiateInterceptor: the same flow as an undici interceptor, for `dispatcher.compose(...)`.
// Each leg goes down the chain through the `dispatch` it wraps (the Agent's connection pool, or
// the next interceptor); the caller's handler sees only the final response. The wrapped
// dispatcher owns the sockets and shows them to no interceptor, so these tokens carry no channel
// bindings and a connection-bound server gets a token per request, as with fetch: for either,
// use NegotiateDispatcher.

type Dispatch = Dispatcher['dispatch'];

/** The handler APIs a caller may speak: undici 6's (onConnect/onHeaders/…) and undici 7's (onRequestStart/onResponseStart/…). */
interface AnyHandler {
  onConnect?(abort: (e?: Error) => void): void;
  onHeaders?(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(trailers: Buffer[] | null): void;
  onError?(e: Error): void;
  onRequestStart?(controller: ResponseController, context: unknown): void;
  onResponseStart?(
    controller: ResponseController,
    status: number,
    headers: Record<string, string | string[]>,
    statusText: string,
  ): void;
  onResponseData?(controller: ResponseController, chunk: Buffer): void;
  onResponseEnd?(controller: ResponseController, trailers: Record<string, string | string[]>): void;
  onResponseError?(controller: ResponseController, e: Error): void;
}

interface ResponseController {
  abort(reason?: Error): void;
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  readonly aborted: boolean;
  readonly reason: Error | null;
}

/** One leg sent down the chain, as a Response whose body streams with back-pressure. */
function legVia(
  dispatch: Dispatch,
  base: DispatchOptions,
  url: URL,
  init: RequestInit,
  signal: AbortSignal,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: string[] = [];
    new Headers(init.headers).forEach((v, k) => {
      headers.push(k, v);
    });
    const send = (body: Uint8Array | null): void => {
      let abortLeg: ((e?: Error) => void) | undefined;
      let resumeLeg: (() => void) | undefined;
      let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
      let settled = false;
      const onAbort = (): void => abortLeg?.(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      const done = (): void => signal.removeEventListener('abort', onAbort);
      const handler = {
        onConnect(abort: (e?: Error) => void): void {
          abortLeg = abort;
          if (signal.aborted) abort(signal.reason as Error);
        },
        onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
          resumeLeg = resume;
          const h = new Headers();
          for (let i = 0; i + 1 < raw.length; i += 2) {
            try {
              h.append(String(raw[i]), String(raw[i + 1]));
            } catch {
              // a value fetch would refuse: dropped, as undici's fetch does
            }
          }
          const nullBody = NULL_BODY.has(status) || init.method === 'HEAD';
          const responseBody = nullBody
            ? null
            : new ReadableStream<Uint8Array>(
                {
                  start: (c) => {
                    stream = c;
                  },
                  pull: () => resumeLeg?.(),
                  cancel: (reason) => abortLeg?.(reason instanceof Error ? reason : new Error('cancelled')),
                },
                { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
              );
          try {
            const res = new Response(responseBody, { status, statusText, headers: h });
            Object.defineProperty(res, 'url', { value: url.href });
            settled = true;
            resolve(res);
          } catch (e) {
            settled = true;
            reject(new TypeError('fetch failed', { cause: e }));
            abortLeg?.(e as Error);
          }
          return true;
        },
        onData(chunk: Buffer): boolean {
          if (stream === undefined) return true;
          try {
            stream.enqueue(new Uint8Array(chunk));
          } catch {
            return true; // cancelled by its reader
          }
          return (stream.desiredSize ?? 1) > 0;
        },
        onComplete(): void {
          done();
          try {
            stream?.close();
          } catch {
            // cancelled by its reader
          }
        },
        onError(e: Error): void {
          done();
          if (!settled) {
            settled = true;
            reject(signal.aborted ? signal.reason : e);
          } else
            try {
              stream?.error(e);
            } catch {
              // cancelled by its reader
            }
        },
      };
      const { origin: _o, path: _p, method: _m, headers: _h, body: _b, ...rest } = base;
      dispatch(
        {
          ...rest,
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
          headers,
          body,
        },
        handler as unknown as DispatchHandler,
      );
    };
    const body = init.body;
    if (body === null || body === undefined) send(null);
    else if (body instanceof ReadableStream)
      new Response(body).arrayBuffer().then((b) => send(new Uint8Array(b)), reject);
    else send(new Uint8Array(body as ArrayBuffer));
  });
}

/** The caller's side: the start of the request, the final response with back-pressure, or a failure. */
type Caller = ReturnType<typeof callerOf>;
function callerOf(handler: AnyHandler, abort: (e?: Error) => void) {
  let paused = false;
  let aborted = false;
  let reason: Error | null = null;
  let wake: (() => void) | undefined;
  const controller: ResponseController = {
    abort(e) {
      if (aborted) return;
      aborted = true;
      reason = e ?? new Error('aborted');
      abort(reason);
      wake?.();
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      wake?.();
    },
    get paused() {
      return paused;
    },
    get aborted() {
      return aborted;
    },
    get reason() {
      return reason;
    },
  };
  const modern = typeof handler.onRequestStart === 'function';
  const waitWhilePaused = async (): Promise<void> => {
    while (paused && !aborted) await new Promise<void>((r) => (wake = r));
  };
  return {
    start(): void {
      if (modern) handler.onRequestStart?.(controller, {});
      else handler.onConnect?.((e) => controller.abort(e));
    },
    async deliver(res: Response): Promise<void> {
      if (aborted) {
        await res.body?.cancel().catch(() => undefined);
        return;
      }
      if (modern) {
        const headers: Record<string, string | string[]> = {};
        res.headers.forEach((v, k) => {
          if (k !== 'set-cookie') headers[k] = v;
        });
        const cookies = res.headers.getSetCookie?.() ?? [];
        if (cookies.length > 0) headers['set-cookie'] = cookies;
        handler.onResponseStart?.(controller, res.status, headers, res.statusText);
      } else {
        const raw: Buffer[] = [];
        res.headers.forEach((v, k) => {
          if (k !== 'set-cookie') raw.push(Buffer.from(k), Buffer.from(v));
        });
        for (const v of res.headers.getSetCookie?.() ?? [])
          raw.push(Buffer.from('set-cookie'), Buffer.from(v));
        if (handler.onHeaders?.(res.status, raw, () => controller.resume(), res.statusText) === false)
          controller.pause();
      }
      if (res.body) {
        const reader = res.body.getReader();
        for (;;) {
          await waitWhilePaused();
          if (aborted) {
            await reader.cancel(reason).catch(() => undefined);
            return;
          }
          const { value, done } = await reader.read();
          if (done) break;
          const chunk = Buffer.from(value);
          if (modern) handler.onResponseData?.(controller, chunk);
          else if (handler.onData?.(chunk) === false) controller.pause();
        }
      }
      if (aborted) return;
      if (modern) handler.onResponseEnd?.(controller, {});
      else handler.onComplete?.([]);
    },
    fail(e: unknown): void {
      const err = e instanceof Error ? e : new Error(String(e));
      if (modern) handler.onResponseError?.(controller, err);
      else handler.onError?.(err);
    },
  };
}

/**
 * An undici interceptor that answers `401 Negotiate` (RFC 4559) with Kerberos, with the options
 * and semantics of negotiate(): `new Agent().compose(negotiateInterceptor(options))` (undici ≥ 6.
 * 20 / 7). Redirects are followed by whoever drives the dispatcher (fetch, undici's redirect
 * interceptor composed after this one), each hop a request of its own. Tokens are not bound to
 * the TLS channel and a connection-bound server is answered per request: NegotiateDispatcher
 * owns its sockets and does both.
 */
export function negotiateInterceptor(
  options: NegotiateOptions = {},
): Dispatcher.DispatcherComposeInterceptor {
  return negotiateInterceptorWith(options, {});
}

/** negotiateInterceptor() with test seams. */
export function negotiateInterceptorWith(
  options: NegotiateOptions,
  internals: NegotiateInternals,
): Dispatcher.DispatcherComposeInterceptor {
  // Options are validated here, once, as by the dispatcher's constructor.
  const negotiator = createNegotiator(options, internals);
  const redirects = new RedirectMemory();
  return (dispatch) =>
    function negotiateDispatch(opts: DispatchOptions, handler: DispatchHandler): boolean {
      // Upgrades, CONNECT and methods a Request cannot carry pass through untouched.
      const method = String(opts.method).toUpperCase();
      // A path that is not origin-form (a proxy's absolute-form target) goes untouched too, without a token.
      if (
        opts.upgrade ||
        method === 'CONNECT' ||
        method === 'TRACE' ||
        method === 'TRACK' ||
        !String(opts.path).startsWith('/')
      )
        return dispatch(opts, handler);
      const aborter = new AbortController();
      const caller = callerOf(handler as AnyHandler, (e) => aborter.abort(e));
      void (async () => {
        caller.start();
        const url = dispatchTarget(opts.origin, opts.path);
        const body = await bufferBody(opts.body);
        const request = new Request(url, {
          method: opts.method,
          headers: headerPairs(opts.headers),
          ...(body === null || method === 'GET' || method === 'HEAD' ? {} : { body: body as BodyInit }),
          redirect: 'manual',
          signal: aborter.signal,
        });
        const chain = redirects.take(url);
        const res = await negotiator.run(
          request,
          (legUrl, init) => legVia(dispatch, opts, new URL(legUrl), init, aborter.signal),
          chain === undefined ? {} : { redirectChain: chain },
        );
        redirects.remember(url, chain, res);
        await caller.deliver(res);
      })().catch((e: unknown) => caller.fail(e));
      return true;
    };
}
