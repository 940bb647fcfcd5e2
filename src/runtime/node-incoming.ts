// Node's HTTP client objects as fetch's: an IncomingMessage as a WHATWG Response (body streamed,
// optionally decoded as fetch decodes it), network failures as fetch's TypeError, and the DER
// certificate a TLS peer presented. Shared by the proxy transport and the adapters' own
// connections; kept apart so that the types of neither leak Node's into the main entry's
// declarations (a fetch-only user may have no @types/node).
import type { IncomingMessage } from 'node:http';
import type * as NodeStream from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type * as NodeZlib from 'node:zlib';
import { builtin } from './builtin.js';

const Readable = () => builtin<typeof NodeStream>('node:stream').Readable;

/** Statuses whose response has no body (RFC 9110 §6.4.1, §15.3.5, §15.4.5). */
export const NULL_BODY: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

export function headersOf(msg: IncomingMessage): Headers {
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

/**
 * The body with its Content-Encoding undone, as fetch does (WHATWG Fetch §4.6 step 16):
 * gzip, deflate and br; any other coding is left as it came.
 */
function decoded(msg: IncomingMessage): NodeStream.Readable {
  const coding = String(msg.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  const zlib = (): typeof NodeZlib => builtin<typeof NodeZlib>('node:zlib');
  const decoder =
    coding === 'gzip' || coding === 'x-gzip'
      ? zlib().createGunzip({ finishFlush: zlib().constants.Z_SYNC_FLUSH })
      : coding === 'deflate'
        ? zlib().createInflate({ finishFlush: zlib().constants.Z_SYNC_FLUSH })
        : coding === 'br'
          ? zlib().createBrotliDecompress({ finishFlush: zlib().constants.BROTLI_OPERATION_FLUSH })
          : undefined;
  if (decoder === undefined) return msg;
  msg.on('error', (e) => decoder.destroy(e));
  // A decoder ended before the message (its reader cancelled, or the coding broken) takes the
  // message down with it, as a cancelled plain body does: otherwise the socket stays busy under
  // a response no one reads, never back in the pool and never closed.
  decoder.on('close', () => {
    if (!msg.complete) msg.destroy();
  });
  return msg.pipe(decoder);
}

/**
 * An IncomingMessage as a WHATWG Response whose body streams from the socket; with `decode`,
 * the body is decoded as fetch would (the headers stay as the server sent them).
 */
export function toResponse(msg: IncomingMessage, url: string, method: string, decode = false): Response {
  const status = msg.statusCode ?? 0;
  const nullBody = NULL_BODY.has(status) || method === 'HEAD';
  if (nullBody) msg.resume();
  const body = nullBody
    ? null
    : (Readable().toWeb(decode ? decoded(msg) : msg) as unknown as ReadableStream<Uint8Array>);
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

export function networkError(e: unknown): TypeError {
  return e instanceof TypeError && e.message === 'fetch failed'
    ? e
    : new TypeError('fetch failed', { cause: e });
}

export function headerRecord(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

/** SNI only for names (RFC 6066 §3), never for an IP address. */
export function sni(host: string): { servername?: string } {
  return /^[\d.]+$|:/.test(host) ? {} : { servername: host };
}

/** DER of the certificate the TLS peer presented, undefined when it shows none. */
export function peerCertificate(socket: TLSSocket): Uint8Array | undefined {
  const raw = socket.getPeerCertificate(false)?.raw as Uint8Array | undefined;
  return raw && raw.length > 0 ? new Uint8Array(raw) : undefined;
}

/**
 * Follows the TLS handshake of `s` under `signal`: `secured` gets the DER certificate the peer
 * presented, `failed` fetch's TypeError or the signal's reason (an origin that never completes
 * the handshake must not outlive the caller's signal; `s` and `under`, a tunnel's socket, are
 * destroyed then). Errors stay listened to (`on`, not `once`): a socket waiting for its request
 * must not crash the process when it fails; the request on it sees the failure.
 */
export function whenSecured(
  s: TLSSocket,
  signal: AbortSignal | null | undefined,
  secured: (certificate: Uint8Array | undefined) => void,
  failed: (e: unknown) => void,
  under?: { destroy(): void },
): void {
  const onAbort = (): void => {
    s.destroy();
    under?.destroy();
    failed(signal?.reason);
  };
  if (signal?.aborted) {
    onAbort();
    return;
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  s.on('error', (e) => {
    signal?.removeEventListener('abort', onAbort);
    failed(networkError(e));
  });
  s.once('secureConnect', () => {
    signal?.removeEventListener('abort', onAbort);
    secured(peerCertificate(s));
  });
}
