// HTTP/1.1 through a forward proxy, which fetch cannot do by itself: a plain-HTTP request in
// absolute form (RFC 9112 §3.2.2) and an HTTPS request inside a CONNECT tunnel (RFC 9110 §9.3.6).
// Only bytes and sockets live here; which headers go where, and the 407 exchange, are decided by
// src/http/proxy.ts. A proxy may itself be reached over TLS (`https://`). Each tunnel carries one
// request on a TLS connection of its own, never shared between requests or origins.

import type * as NodeHttp from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type * as NodeHttps from 'node:https';
import type { Socket } from 'node:net';
import type * as NodeTls from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { builtin } from './builtin.js';
import { headerRecord, headersOf, networkError, sni, toResponse, whenSecured } from './node-incoming.js';

const httpRequest = (options: NodeHttp.RequestOptions): ClientRequest =>
  builtin<typeof NodeHttp>('node:http').request(options);
const httpsRequest = (options: NodeHttps.RequestOptions): ClientRequest =>
  builtin<typeof NodeHttps>('node:https').request(options);
const tlsConnect = (options: NodeTls.ConnectionOptions): TLSSocket =>
  builtin<typeof NodeTls>('node:tls').connect(options);

/** One request as the flow builds it: the body already buffered. */
export interface ProxyLeg {
  method: string;
  headers: Headers;
  body: ArrayBuffer | null;
  signal: AbortSignal | null | undefined;
}

/** A CONNECT answered: the proxy's response and, on 2xx, TLS to the origin inside the tunnel. */
export interface Tunnel {
  /** The proxy's answer to CONNECT (its status and headers; a body only when not 2xx). */
  response: Response;
  /**
   * TLS to the origin inside the tunnel (2xx only), once: resolves with the DER certificate the
   * origin presented on this connection (a full handshake, never a resumed session), the one
   * channel bindings are computed from and compared with.
   */
  secure?(url: URL, signal?: AbortSignal | null): Promise<Uint8Array | undefined>;
  /** Sends the one request this tunnel carries to the origin, over its TLS (2xx only). */
  send?(url: URL, leg: ProxyLeg): Promise<Response>;
  close(): void;
}

/** TLS to an `https://` proxy: trust anchors replacing the default store (curl's --proxy-cacert). */
export interface ProxyTlsOptions {
  ca?: string | Uint8Array | ReadonlyArray<string | Uint8Array>;
  /** Trust anchors for origins inside tunnels instead of the default store (tests). */
  originCa?: string | Uint8Array | ReadonlyArray<string | Uint8Array>;
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

/** Where the proxy listens, and the TLS options when it is an `https://` proxy. */
function endpoint(proxy: URL, tls: ProxyTlsOptions) {
  const host = proxy.hostname.replace(/^\[|\]$/g, '');
  const secure = proxy.protocol === 'https:';
  const port = proxy.port === '' ? (secure ? 443 : 80) : Number(proxy.port);
  const tlsOptions: NodeTls.ConnectionOptions = secure
    ? { ...sni(host), ...(tls.ca === undefined ? {} : { ca: tls.ca as NodeTls.ConnectionOptions['ca'] }) }
    : {};
  return { host, port, secure, tlsOptions };
}

/** The bytes and sockets of one negotiator's proxies: its keep-alive pools, its proxy TLS options. */
export interface ProxyConnections {
  forward(proxy: URL, url: URL, leg: ProxyLeg): Promise<Response>;
  tunnel(proxy: URL, target: URL, headers: Headers, signal: AbortSignal | null | undefined): Promise<Tunnel>;
}

export function createProxyConnections(tls: ProxyTlsOptions = {}): ProxyConnections {
  /**
   * Keep-alive connections to proxies for forwarded plain-HTTP requests (a CONNECT tunnel is
   * never reused: it belongs to one origin). Idle sockets do not keep the process alive.
   */
  let httpAgent: NodeHttp.Agent | undefined;
  let httpsAgent: NodeHttps.Agent | undefined;
  return {
    forward(proxy, url, leg) {
      const at = endpoint(proxy, tls);
      const headers = headerRecord(leg.headers);
      headers['host'] = url.host;
      if (leg.body !== null) headers['content-length'] = String(leg.body.byteLength);
      const common = {
        host: at.host,
        port: at.port,
        method: leg.method,
        // RFC 9112 §3.2.2 absolute-form: an absolute-URI, so neither a fragment nor (RFC 9110
        // §4.2.4) userinfo, which a redirect's Location may carry.
        path: `${url.protocol}//${url.host}${url.pathname}${url.search}`,
        headers,
        ...(leg.signal ? { signal: leg.signal } : {}),
      };
      let req: ClientRequest;
      if (at.secure) {
        httpsAgent ??= new (builtin<typeof NodeHttps>('node:https').Agent)({
          keepAlive: true,
          maxSockets: 16,
          ...at.tlsOptions,
        });
        req = httpsRequest({ ...common, ...at.tlsOptions, agent: httpsAgent });
      } else {
        httpAgent ??= new (builtin<typeof NodeHttp>('node:http').Agent)({ keepAlive: true, maxSockets: 16 });
        req = httpRequest({ ...common, agent: httpAgent });
      }
      return send(req, leg.body, url.href, leg.method);
    },
    tunnel: (proxy, target, headers, signal) =>
      openTunnel(endpoint(proxy, tls), target, headers, signal, tls.originCa),
  };
}

/** CONNECT host:port through the proxy; on 2xx the tunnel can carry one TLS connection. */
function openTunnel(
  at: ReturnType<typeof endpoint>,
  target: URL,
  headers: Headers,
  signal: AbortSignal | null | undefined,
  originCa: ProxyTlsOptions['originCa'],
): Promise<Tunnel> {
  const port = target.port === '' ? 443 : Number(target.port);
  const authority = `${target.hostname}:${port}`;
  const h = headerRecord(headers);
  h['host'] = authority;
  return new Promise((resolve, reject) => {
    const options = {
      host: at.host,
      port: at.port,
      method: 'CONNECT',
      path: authority,
      headers: h,
      agent: false as const,
      ...(signal ? { signal } : {}),
    };
    // To an https:// proxy the CONNECT itself travels inside TLS (its certificate checked), and
    // the origin's TLS runs inside that: TLS in TLS, as curl does with `-x https://`.
    const req = at.secure ? httpsRequest({ ...options, ...at.tlsOptions }) : httpRequest(options);
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
      let secured: Promise<Uint8Array | undefined> | undefined;
      const secure = (url: URL, signal?: AbortSignal | null): Promise<Uint8Array | undefined> => {
        secured ??= new Promise<Uint8Array | undefined>((done, fail) => {
          const host = url.hostname.replace(/^\[|\]$/g, '');
          // No `session`: a full handshake, so the peer certificate is this connection's own.
          // `host` names whom the certificate must be for: without it (an IP address, which has
          // no SNI) Node checks it against the socket's own host, the proxy's name.
          const s = tlsConnect({
            socket,
            host,
            ...sni(host),
            ALPNProtocols: ['http/1.1'],
            ...(originCa === undefined ? {} : { ca: originCa as NodeTls.ConnectionOptions['ca'] }),
          });
          tls = s;
          whenSecured(s, signal, done, fail, socket);
        });
        return secured;
      };
      resolve({
        response,
        secure,
        async send(url, leg) {
          await secure(url, leg.signal);
          const secured = tls as TLSSocket;
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
          return send(req2, leg.body, url.href, leg.method);
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
