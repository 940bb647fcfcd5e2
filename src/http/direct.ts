// Channel bindings for clients whose fetch hides the TLS socket (spnego/axios, spnego/got): their
// https legs go over connections of our own (src/runtime/https-direct.ts), so each token is bound
// (RFC 5929 tls-server-end-point) to the certificate of the connection it travels on, as
// spnego/undici does with its own sockets. A DirectSession is one request's connections (all its
// legs and redirect hops): per origin, the connection and the certificate a token was bound to.
// A socket opened later for that origin (the server closed the connection between legs) that
// presents another certificate is refused before the token goes out: ChannelBindingError
// CERTIFICATE_CHANGED. When the request ends its connections go back to the negotiator's pool
// (DirectPool), and a later request to the origin takes one whose kept-alive socket is idle: a
// token is then bound to the certificate that socket presented in its own full handshake.
import { ChannelBindingError } from '../errors.js';
import {
  type DirectConnection,
  type DirectTlsOptions,
  directTlsAvailable,
  openDirect,
} from '../runtime/https-direct.js';
import { type ConnectionInfo, sameBytes } from './flow.js';

export type { DirectTlsOptions };

/** Whether https legs can go over our own connections on this platform (Node). */
export const ownConnectionsAvailable = directTlsAvailable;

/** Idle connections kept per origin between requests (each one socket). */
const POOLED_PER_ORIGIN = 16;

/** A negotiator's connections between requests: one is lent to one request at a time. */
export class DirectPool {
  private readonly parked = new Map<string, DirectConnection[]>();

  /** An idle connection to `origin` (its socket kept alive, carrying nothing), or undefined. */
  take(origin: string): DirectConnection | undefined {
    const list = this.parked.get(origin);
    if (list === undefined) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i] as DirectConnection;
      if (c.dead()) list.splice(i, 1);
      else if (c.idle()) {
        list.splice(i, 1);
        return c;
      }
    }
    return undefined;
  }

  /** Back from a request; the one carrying its final response becomes idle when that ends. */
  put(origin: string, c: DirectConnection): void {
    c.park();
    c.guard = () => undefined;
    const list = (this.parked.get(origin) ?? []).filter((x) => !x.dead());
    this.parked.set(origin, list);
    if (c.dead()) return;
    list.push(c);
    while (list.length > POOLED_PER_ORIGIN) list.shift()?.close();
  }
}

export class DirectSession {
  private readonly connections = new Map<string, DirectConnection>();
  private readonly bound = new Map<string, Uint8Array | undefined>();

  constructor(
    private readonly tls: DirectTlsOptions,
    private readonly pool: DirectPool,
  ) {}

  private connectionTo(url: URL): DirectConnection {
    const origin = url.origin;
    let c = this.connections.get(origin);
    if (c === undefined) {
      c = this.pool.take(origin) ?? openDirect(url, this.tls);
      c.guard = (cert) => {
        if (this.bound.has(origin) && !sameBytes(this.bound.get(origin), cert))
          throw new ChannelBindingError(
            'CERTIFICATE_CHANGED',
            `${url.host} presented another certificate on a new connection than the one the token in flight is bound to; the token was not sent`,
            {
              hint: 'a TLS-terminating proxy or load balancer with several certificates sits in front of the server',
            },
          );
      };
      this.connections.set(origin, c);
    }
    return c;
  }

  /**
   * The flow's `connection` hook for an https origin: the connection the token will travel on,
   * opened now when none is up (a token made before the first leg has a certificate to bind).
   */
  async connection(url: URL, signal: AbortSignal | null | undefined): Promise<ConnectionInfo> {
    const c = this.connectionTo(url);
    await c.open(signal);
    return {
      // Asked only when a token is being bound: from now on every socket to this origin must
      // present the certificate it is bound to.
      peerCertificate: () => {
        const cert = c.certificate();
        this.bound.set(url.origin, cert);
        return cert;
      },
    };
  }

  /** One leg over this request's connection to `url`'s origin. */
  send(url: URL, init: RequestInit): Promise<Response> {
    const body = init.body;
    return this.connectionTo(url).send(url, {
      method: init.method ?? 'GET',
      headers: new Headers(init.headers),
      body:
        body === null || body === undefined
          ? null
          : body instanceof ReadableStream || body instanceof ArrayBuffer
            ? body
            : new TextEncoder().encode(String(body)).buffer,
      signal: init.signal,
    });
  }

  /** The request has its final response: its connections go back to the pool. */
  close(): void {
    for (const [origin, c] of this.connections) this.pool.put(origin, c);
    this.connections.clear();
  }
}
