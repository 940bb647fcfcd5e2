// HTTP/1.1 through a forward proxy, which fetch cannot do by itself: a plain-HTTP request in
// absolute form (RFC 9112 §3.2.2) and an HTTPS request inside a CONNECT tunnel (RFC 9110 §9.3.6).
// Only bytes and sockets live here; which headers go where, and the 407 exchange, are decided by
// src/http/proxy.ts. Each call uses a connection of its own, closed after the response, so a
// tunnel (and the TLS session inside it) is never shared between requests or origins.

import type * as NodeHttp from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type * as NodeStream from 'node:stream';
import type * as NodeTls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { builtin } from './builtin.js';

const httpRequest = (options: NodeHttp.RequestOptions): ClientRequest =>
  builtin<typeof NodeHttp>('node:http').request(options);
const tlsConnect = (options: NodeTls.ConnectionOptions): TLSSocket =>
  builtin<typeof NodeTls>('node:tls').connect(options);
const Readable = () => builtin<typeof NodeStream>('node:stream').Readable;

/** One request as the flow builds it: the body already buffered. */
export interface ProxyLeg {
  method: string;
  headers: Headers;
  body: ArrayBuffer | null;
  signal: AbortSignal | null | undefined;
}

/** A CONNECT answered: the proxy's response and, on 2xx, a request sender inside the tunnel. */
export interface Tunnel {
  /** The proxy's answer to CONNECT (its status and headers; a body only when not 2xx). */
  response: Response;
  /**
   * Sends one request to the origin over TLS inside the tunnel (2xx only). `tls` is the TLS
   * socket of this connection, reachable per connection (its peer certificate is what channel
   * bindings are computed from).
   */
  send?(url: URL, leg: ProxyLeg): Promise<Response>;
  /** The TLS socket once send() has run: per connection, never shared. */
  readonly tls?: TunnelTlsSocket;
  close(): void;
}

/**
 * What the tunnel exposes of its `node:tls` socket, declared structurally so the package's
 * declarations do not need @types/node (a fetch-only TypeScript user may not have it).
 */
export interface TunnelTlsSocket {
  readonly destroyed: boolean;
  getPeerCertificate(detailed?: boolean): { raw?: Uint8Array } | null | undefined;
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function headersOf(msg: IncomingMessage): Headers {
  const h = new Headers();
  const raw = msg.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      h.append(raw[i] as string, raw[i + 1] as string);
    } catch {
      // a header value fetch would refuse (control characters): dropped, as undici does
    }
  }
  return h;
}

/** An IncomingMessage as a WHATWG Response whose body streams from the socket. */
function toResponse(msg: IncomingMessage, url: string, method: string): Response {
  const status = msg.statusCode ?? 0;
  const nullBody = NULL_BODY.has(status) || method === 'HEAD';
  if (nullBody) msg.resume();
  const body = nullBody ? null : (Readable().toWeb(msg) as unknown as ReadableStream<Uint8Array>);
  let res: Response;
  try {
    res = new Response(body, { status, statusText: msg.statusMessage ?? '', headers: headersOf(msg) });
  } catch (e) {
    msg.destroy();
    throw new TypeError('fetch failed', { cause: e });
  }
  Object.defineProperty(res, 'url', { value: url });
  return res;
}

function networkError(e: unknown): TypeError {
  return e instanceof TypeError && e.message === 'fetch failed'
    ? e
    : new TypeError('fetch failed', { cause: e });
}

function headerRecord(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

function send(req: ClientRequest, body: ArrayBuffer | null, url: string, method: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    req.once('response', (msg) => {
      try {
        resolve(toResponse(msg, url, method));
      } catch (e) {
        reject(networkError(e));
      }
    });
    req.once('error', (e) => reject(networkError(e)));
    req.end(body === null ? undefined : Buffer.from(body));
  });
}

function proxyPort(proxy: URL): number {
  return proxy.port === '' ? 80 : Number(proxy.port);
}

/**
 * Keep-alive connections to proxies for forwarded plain-HTTP requests (a CONNECT tunnel is never
 * reused: it belongs to one origin). Idle sockets do not keep the process alive.
 */
let forwardAgent: NodeHttp.Agent | undefined;

/** A plain-HTTP request forwarded by the proxy: the request target is the absolute URL. */
export function forwardThroughProxy(proxy: URL, url: URL, leg: ProxyLeg): Promise<Response> {
  forwardAgent ??= new (builtin<typeof NodeHttp>('node:http').Agent)({ keepAlive: true, maxSockets: 16 });
  const headers = headerRecord(leg.headers);
  headers['host'] = url.host;
  if (leg.body !== null) headers['content-length'] = String(leg.body.byteLength);
  const req = httpRequest({
    host: proxy.hostname.replace(/^\[|\]$/g, ''),
    port: proxyPort(proxy),
    method: leg.method,
    path: url.href,
    headers,
    agent: forwardAgent,
    ...(leg.signal ? { signal: leg.signal } : {}),
  });
  return send(req, leg.body, url.href, leg.method);
}

/** CONNECT host:port through the proxy; on 2xx the tunnel can carry one TLS connection. */
export function openTunnel(
  proxy: URL,
  target: URL,
  headers: Headers,
  signal: AbortSignal | null | undefined,
): Promise<Tunnel> {
  const port = target.port === '' ? 443 : Number(target.port);
  const authority = `${target.hostname}:${port}`;
  const h = headerRecord(headers);
  h['host'] = authority;
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxyPort(proxy),
      method: 'CONNECT',
      path: authority,
      headers: h,
      agent: false,
      ...(signal ? { signal } : {}),
    });
    // A 2xx to CONNECT switches the connection to a tunnel; Node reports it as 'connect'.
    req.once('connect', (msg: IncomingMessage, socket: Socket, head: Buffer) => {
      const status = msg.statusCode ?? 0;
      const response = new Response(null, {
        status: status >= 200 && status <= 599 ? status : 502,
        statusText: msg.statusMessage ?? '',
        headers: headersOf(msg),
      });
      if (status < 200 || status > 299) {
        socket.destroy();
        resolve({ response, close: () => undefined });
        return;
      }
      if (head.length > 0) socket.unshift(head);
      let tls: TLSSocket | undefined;
      resolve({
        response,
        get tls() {
          return tls;
        },
        send(url, leg) {
          return new Promise<Response>((done, fail) => {
            const host = url.hostname.replace(/^\[|\]$/g, '');
            tls = tlsConnect({
              socket,
              // SNI only for names (RFC 6066 §3), never for an IP address.
              ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
              ALPNProtocols: ['http/1.1'],
            });
            const secured = tls;
            secured.once('error', (e) => fail(networkError(e)));
            secured.once('secureConnect', () => {
              const headers = headerRecord(leg.headers);
              headers['host'] = url.host;
              if (leg.body !== null) headers['content-length'] = String(leg.body.byteLength);
              const req2 = httpRequest({
                createConnection: () => secured,
                method: leg.method,
                path: `${url.pathname}${url.search}`,
                headers,
                ...(leg.signal ? { signal: leg.signal } : {}),
              });
              send(req2, leg.body, url.href, leg.method).then(done, fail);
            });
          });
        },
        close() {
          tls?.destroy();
          socket.destroy();
        },
      });
    });
    // Anything but 2xx is an ordinary response (the proxy's 407, 403, 502…).
    req.once('response', (msg: IncomingMessage) => {
      try {
        const response = toResponse(msg, `http://${authority}`, 'CONNECT');
        resolve({ response, close: () => msg.destroy() });
      } catch (e) {
        reject(networkError(e));
      }
    });
    req.once('error', (e) => reject(networkError(e)));
    req.end();
  });
}
