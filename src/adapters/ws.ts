// `spnego/ws`: a WebSocket (the `ws` package) whose upgrade request is authenticated with HTTP
// Negotiate. The shared flow drives it: each handshake attempt is one leg, a `401 Negotiate`
// answer is met with a token and the upgrade is tried again, and the `101 Switching Protocols`
// is judged for mutual authentication exactly like a 2xx (the server's token rides on its
// WWW-Authenticate). Only once the flow accepts the 101 is the socket handed to the caller.
// `ws` stays an optional peer dependency; the caller passes its WebSocket class.
import type { ClientOptions, WebSocket } from 'ws';
import { createNegotiator, type NegotiateInternals } from '../http/fetch.js';
import type { NegotiateOptions } from '../http/options.js';

type WebSocketClass = new (
  address: string | URL,
  protocols?: string | string[],
  options?: ClientOptions,
) => WebSocket;

interface Handshake {
  res: Response;
  socket?: WebSocket;
}

/** The flow speaks http(s); the socket ws(s). */
const asHttp = (u: URL): URL => new URL(u.href.replace(/^ws/, 'http'));
const asWs = (u: string): string => u.replace(/^http/, 'ws');

/**
 * How much of a refused upgrade's body is kept (a 401's page, or the final answer the caller
 * gets as `response`): the server decides its length, and an endless one grew without bound.
 */
const ANSWER_LIMIT = 1024 * 1024;

/** Marks a Response as the stand-in for a 101 (a Response cannot carry 101 itself). */
const upgraded = new WeakMap<Response, WebSocket>();

function handshake(
  Ws: WebSocketClass,
  url: string,
  headers: Headers,
  protocols: string | string[] | undefined,
  options: ClientOptions,
): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = { ...(options.headers as Record<string, string> | undefined) };
    headers.forEach((v, k) => {
      h[k] = v;
    });
    const ws = new Ws(url, protocols, { ...options, headers: h, followRedirects: false });
    let upgradeHeaders: Headers | undefined;
    const headersOf = (raw: Record<string, string | string[] | undefined>): Headers => {
      const out = new Headers();
      for (const [k, v] of Object.entries(raw)) {
        if (v === undefined) continue;
        for (const x of Array.isArray(v) ? v : [v]) out.append(k, x);
      }
      return out;
    };
    ws.once('upgrade', (res) => {
      upgradeHeaders = headersOf(res.headers);
    });
    ws.once('open', () => {
      // Held until the caller has the socket: a message the server sends right after its 101
      // (often in the same packet) would otherwise be emitted while the flow is still judging
      // the 101, before anyone listens, and be lost.
      ws.pause?.();
      // The 101, as a 200 the flow can judge; the socket rides along.
      const res = new Response(null, {
        status: 200,
        statusText: 'Switching Protocols',
        headers: upgradeHeaders,
      });
      upgraded.set(res, ws);
      resolve({ res, socket: ws });
    });
    ws.once('unexpected-response', (req, msg) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const answered = (): void => {
        const status = msg.statusCode ?? 502;
        const res = new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), {
          status: status >= 200 && status <= 599 ? status : 502,
          statusText: msg.statusMessage ?? '',
          headers: headersOf(msg.headers),
        });
        req.destroy();
        resolve({ res });
      };
      msg.on('data', (c: Buffer) => {
        if (size >= ANSWER_LIMIT) return;
        chunks.push(c.subarray(0, ANSWER_LIMIT - size));
        size += c.length;
        // Enough: the rest is not read (the connection is closed).
        if (size >= ANSWER_LIMIT) answered();
      });
      msg.on('end', () => {
        if (size < ANSWER_LIMIT) answered();
      });
      msg.on('error', reject);
    });
    ws.once('error', (e) => reject(new TypeError('fetch failed', { cause: e })));
  });
}

export interface NegotiateWebSocketOptions extends NegotiateOptions {
  /** Subprotocols for the upgrade. */
  protocols?: string | string[];
  /** Options for `ws` (headers, TLS options such as `ca`, …). */
  ws?: ClientOptions;
}

/**
 * Opens a WebSocket to `url` (ws: or wss:), answering the upgrade's `401 Negotiate` with
 * Kerberos and checking the `101` for mutual authentication as negotiate() checks a 2xx.
 * Resolves with the open socket; a refused upgrade rejects with an Error carrying the HTTP
 * `status`, a mutual-authentication failure with MutualAuthenticationError.
 */
export async function negotiateWebSocket(
  Ws: WebSocketClass,
  url: string | URL,
  options: NegotiateWebSocketOptions = {},
  internals: NegotiateInternals = {},
): Promise<WebSocket> {
  const { protocols, ws: wsOptions = {}, ...negotiate } = options;
  const negotiator = createNegotiator({ ...negotiate, proxy: false }, internals);
  const target = new URL(url);
  const opened: WebSocket[] = [];
  let res: Response;
  try {
    res = await negotiator.run(
      new Request(asHttp(target), {
        redirect: 'manual',
        headers: new Headers(wsOptions.headers as HeadersInit),
      }),
      async (legUrl, init) => {
        const h = await handshake(Ws, asWs(legUrl), new Headers(init.headers), protocols, wsOptions);
        if (h.socket) opened.push(h.socket);
        return h.res;
      },
    );
  } catch (e) {
    for (const s of opened) s.terminate();
    throw e;
  }
  const socket = upgraded.get(res);
  if (socket === undefined) {
    for (const s of opened) s.terminate();
    throw Object.assign(
      new Error(`the WebSocket upgrade to ${target.host} was answered ${res.status} ${res.statusText}`),
      {
        status: res.status,
        response: res,
      },
    );
  }
  // Resumed data flows on a later tick: the caller's `await` continuation, which attaches its
  // listeners, runs first.
  socket.resume?.();
  return socket;
}
