// HTTPS on a connection of our own (node:tls + node:http), for clients whose fetch hides the TLS
// socket (spnego/axios, spnego/got): what RFC 5929 tls-server-end-point channel bindings need is
// the certificate of the very connection a token travels on, and only the owner of the socket
// knows it. A DirectConnection carries one request's legs to one origin at a time, in turn, over
// one keep-alive socket (and is then lent to the next request, see src/http/direct.ts); when the
// server closes it between legs, the next leg opens another, and that socket's certificate is
// shown to the guard after the handshake and before a byte of the request is written, so a token
// bound to another certificate never leaves. Every socket makes a full handshake (no session
// resumption): a resumed session shows no peer certificate. Only bytes and sockets live here;
// which certificate a token is bound to is src/http's.

import type { ClientRequest, IncomingMessage } from 'node:http';
import type * as NodeHttps from 'node:https';
import type * as NodeStream from 'node:stream';
import type * as NodeTls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { builtin, hasBuiltins } from './builtin.js';
import { headerRecord, networkError, sni, toResponse, whenSecured } from './node-incoming.js';

/** TLS for origins reached on our own connections: trust anchors instead of Node's store. */
export interface DirectTlsOptions {
  /** PEM or DER certificates trusted instead of the default store (default: Node's store and NODE_EXTRA_CA_CERTS). */
  ca?: string | Uint8Array | ReadonlyArray<string | Uint8Array>;
  /** false: accept any certificate (tests only; the token is still bound to what was presented). */
  rejectUnauthorized?: boolean;
}

/** One leg as the flow builds it. */
export interface DirectLeg {
  method: string;
  headers: Headers;
  body: ArrayBuffer | ReadableStream<Uint8Array> | null;
  signal: AbortSignal | null | undefined;
}

export interface DirectConnection {
  /**
   * Sees the certificate of every socket opened from now on, after the handshake and before the
   * request is written; throwing refuses the socket (it is destroyed and the leg fails with what
   * was thrown). Set by the request that holds the connection.
   */
  guard: (cert: Uint8Array | undefined) => void;
  /** Makes sure a socket is up (opening one now if none is), and resolves with its certificate. */
  open(signal: AbortSignal | null | undefined): Promise<Uint8Array | undefined>;
  /** The certificate of the socket the next leg goes on (the last one opened). */
  certificate(): Uint8Array | undefined;
  send(url: URL, leg: DirectLeg): Promise<Response>;
  /** Idle between requests: a kept-alive socket is up and carries nothing now. */
  idle(): boolean;
  /** Gone for good: no socket is up or busy (nothing left to reuse). */
  dead(): boolean;
  /** The request holding it ended: a socket opened ahead and never used closes. */
  park(): void;
  /** No further use: idle sockets close now, the one carrying a response when it ends. */
  close(): void;
}

/**
 * Whether our own TLS connections can be made here: Node with its built-ins. Bun and Deno have
 * node:https, but not every TLS detail a bound token relies on (the peer certificate of each
 * socket) is promised there; they, and edge runtimes, keep the client's fetch.
 */
export function directTlsAvailable(): boolean {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined || g.Deno !== undefined || !hasBuiltins()) return false;
  try {
    builtin('node:https');
    builtin('node:tls');
    return true;
  } catch {
    return false;
  }
}

/** How a kept-alive socket the server has just closed fails a request sent on it. */
const STALE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * Methods a client may send again on its own (RFC 9110 §9.2.2): a reset on a reused socket may
 * come after the server acted on the request, and a POST sent twice is a payment made twice.
 */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** A connection to `origin`; no socket is opened before it is needed. */
export function openDirect(origin: URL, tls: DirectTlsOptions): DirectConnection {
  const https = builtin<typeof NodeHttps>('node:https');
  const host = origin.hostname.replace(/^\[|\]$/g, '');
  const port = origin.port === '' ? 443 : Number(origin.port);
  let cert: Uint8Array | undefined;
  /** A socket opened ahead of its leg (for a token made before any leg), not yet the agent's. */
  let ahead: TLSSocket | undefined;
  let opening: Promise<TLSSocket> | undefined;
  let live: TLSSocket | undefined;
  /** The signal of the leg now being sent: an origin that never completes a handshake must not outlive it. */
  let legSignal: AbortSignal | null | undefined;
  let closed = false;
  /** Errors the guard threw: a leg fails with them as they are. */
  const refused = new WeakSet<object>();

  const connect = (signal: AbortSignal | null | undefined): Promise<TLSSocket> =>
    new Promise<TLSSocket>((done, fail) => {
      // No `session`: a full handshake, so the peer certificate is this socket's own.
      const s = builtin<typeof NodeTls>('node:tls').connect({
        host,
        port,
        ...sni(host),
        ALPNProtocols: ['http/1.1'],
        ...(tls.ca === undefined ? {} : { ca: tls.ca as NodeTls.ConnectionOptions['ca'] }),
        ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
      });
      whenSecured(
        s,
        signal,
        (c) => {
          try {
            self.guard(c);
          } catch (e) {
            s.destroy();
            if (typeof e === 'object' && e !== null) refused.add(e);
            fail(e);
            return;
          }
          cert = c;
          live = s;
          done(s);
        },
        fail,
      );
    });

  // One socket at a time, kept alive between legs; the agent asks for another only when the
  // last one is gone, and gets it from connect() (checked) or the one opened ahead.
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
  type Create = (options: object, cb: (err: Error | null, socket?: TLSSocket) => void) => undefined;
  (agent as unknown as { createConnection: Create }).createConnection = (_options, cb) => {
    const pre = ahead;
    ahead = undefined;
    if (pre !== undefined && !pre.destroyed) cb(null, pre);
    else
      connect(legSignal).then(
        (s) => cb(null, s),
        (e: Error) => cb(e),
      );
    return undefined;
  };
  // After close(), the socket of the final response is not kept once that response has ended.
  const keep = agent.keepSocketAlive.bind(agent);
  agent.keepSocketAlive = (socket) => !closed && keep(socket);

  const self: DirectConnection = {
    guard: () => undefined,
    async open(signal) {
      if (live !== undefined && !live.destroyed) return cert;
      opening ??= connect(signal).finally(() => {
        opening = undefined;
      });
      ahead = await opening;
      return cert;
    },
    certificate: () => cert,
    send(url, leg) {
      legSignal = leg.signal;
      const headers = headerRecord(leg.headers);
      headers['host'] = url.host;
      const body = leg.body;
      if (body instanceof ArrayBuffer) headers['content-length'] = String(body.byteLength);
      const attempt = (retry: boolean): Promise<Response> =>
        new Promise<Response>((resolve, reject) => {
          const req: ClientRequest = https.request({
            host,
            port,
            method: leg.method,
            path: `${url.pathname}${url.search}`,
            headers,
            agent,
            ...(leg.signal ? { signal: leg.signal } : {}),
          });
          req.once('response', (msg: IncomingMessage) => {
            try {
              resolve(toResponse(msg, url.href, leg.method, true));
            } catch (e) {
              reject(networkError(e));
            }
          });
          req.once('error', (e: Error & { code?: string }) => {
            // As fetch: an abort rejects with the signal's reason; what the guard threw (a
            // ChannelBindingError) as it is; anything else is a network error.
            if (leg.signal?.aborted) reject(leg.signal.reason);
            else if (refused.has(e)) reject(e);
            // A kept-alive socket the server closed as we reused it (Node's `reusedSocket`
            // case): an idempotent leg once more on a new socket, which the guard checks like
            // any other; any other fails, as with fetch.
            else if (
              retry &&
              req.reusedSocket &&
              IDEMPOTENT.has(leg.method.toUpperCase()) &&
              !(body instanceof ReadableStream) &&
              STALE.has(e.code ?? '')
            )
              attempt(false).then(resolve, reject);
            else reject(networkError(e));
          });
          if (body instanceof ReadableStream) {
            // pipeline, not pipe: a body that fails as it is read ends the request and the leg
            // fails as fetch fails, instead of an 'error' no one listens to, which ended the
            // process (pipeline aborts a request without an error of its own: settled here).
            const { Readable, pipeline } = builtin<typeof NodeStream>('node:stream');
            pipeline(Readable.fromWeb(body as never), req, (e) => {
              if (e) reject(leg.signal?.aborted ? leg.signal.reason : refused.has(e) ? e : networkError(e));
            });
          } else req.end(body === null ? undefined : Buffer.from(body));
        });
      return attempt(true);
    },
    idle() {
      const free = Object.values(agent.freeSockets).flat();
      return !closed && live !== undefined && !live.destroyed && free.includes(live);
    },
    dead() {
      const busy = Object.values(agent.sockets).flat().length > 0;
      return closed || ((live === undefined || live.destroyed) && !busy && opening === undefined);
    },
    park() {
      ahead?.destroy();
      ahead = undefined;
    },
    close() {
      closed = true;
      self.park();
      for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
    },
  };
  return self;
}
