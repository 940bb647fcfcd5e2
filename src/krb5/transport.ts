// Getting a request to a KDC and its reply back (RFC 4120 §7.2). The framing and the retry
// policy are here, pure; the sockets are behind `NetIo` (src/runtime by default), so tests can
// drive this with hostile or silent KDC doubles.
import { decodeKdcProxyMessage, decodeKerberosMessage, encodeKdcProxyMessage } from '../asn1/index.js';
import { KdcProxyError, KdcUnreachableError } from '../errors.js';
import type { HttpsPostOptions, HttpsPostReply } from '../runtime/https-post.js';
import { type ByteStream, connectTcp, udpExchange } from '../runtime/net.js';
import { kdcProxyUrl } from './locate.js';

/**
 * Where a KDC listens. `any` (a plain `kdc = host` line) may be tried over UDP and TCP; `https`
 * is a KDC proxy (MS-KKDCP) at `https://host:port/path`.
 */
export interface KdcEndpoint {
  host: string;
  port: number;
  transport: 'tcp' | 'udp' | 'any' | 'https';
  path?: string;
}

/** The socket operations the transport needs; injectable for tests. */
export interface NetIo {
  connectTcp(host: string, port: number, deadline: number): Promise<ByteStream>;
  /** `accept` says whether a datagram is a reply worth taking; others are ignored until the deadline. */
  udpExchange(
    host: string,
    port: number,
    data: Uint8Array,
    deadline: number,
    accept?: (reply: Uint8Array) => boolean,
  ): Promise<Uint8Array>;
  /** One HTTPS POST with a bounded reply (KDC proxies). */
  httpsPost?(url: string, body: Uint8Array, opts: HttpsPostOptions): Promise<HttpsPostReply>;
  /** PEM texts of `http_anchors` values (FILE:, DIR:, ENV:). */
  loadHttpAnchors?(specs: readonly string[]): Promise<string[]>;
}

// The HTTPS client of a KDC proxy (MS-KKDCP) loads only when krb5.conf names an https:// KDC.
let httpsLoading: Promise<typeof import('../runtime/https-post.js')> | undefined;
const httpsClient = (): Promise<typeof import('../runtime/https-post.js')> =>
  (httpsLoading ??= import('../runtime/https-post.js'));
export const defaultNetIo: NetIo = {
  connectTcp,
  udpExchange,
  httpsPost: async (url, body, opts) => (await httpsClient()).httpsPost(url, body, opts),
  loadHttpAnchors: async (specs) => (await httpsClient()).loadHttpAnchors(specs),
};

/** Anything that can carry one KDC request to a realm and return the reply bytes. */
export interface KdcTransport {
  send(realm: string, request: Uint8Array): Promise<Uint8Array>;
}

export interface SendOptions {
  /** Per-attempt timeout (krb5.conf kdc_timeout). Default 3000 ms. */
  timeoutMs?: number;
  /** Overall deadline for the whole request across all KDCs. Default 30000 ms. */
  totalTimeoutMs?: number;
  /** Largest reply accepted over TCP (the length prefix is checked before reading). Default 1 MiB. */
  maxReplyBytes?: number;
  /** MIT udp_preference_limit: requests at least this long go over TCP. Default 1465; 1 means TCP only. */
  udpPreferenceLimit?: number;
  /** The realm's `http_anchors` (FILE:/DIR:/ENV:) for KDC proxies; empty = the system store. */
  httpAnchors?: readonly string[];
  io?: NetIo;
  now?: () => number;
}

const DEFAULT_MAX_REPLY = 1 << 20;

/** RFC 4120 §7.2.2: a 4-byte big-endian length whose high bit is reserved (must be 0). */
export function frameTcp(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + message.length);
  new DataView(out.buffer).setUint32(0, message.length);
  out.set(message, 4);
  return out;
}

/** Reads one length-prefixed reply, exactly the announced length, across any chunking. */
export async function readTcpReply(
  stream: ByteStream,
  maxReplyBytes = DEFAULT_MAX_REPLY,
): Promise<Uint8Array> {
  let header = new Uint8Array(0);
  let body: Uint8Array | undefined;
  let filled = 0;
  for (;;) {
    const chunk = await stream.read();
    if (chunk === null) throw new Error('connection closed before the reply was complete');
    let c = chunk;
    if (body === undefined) {
      const need = 4 - header.length;
      const merged = new Uint8Array(header.length + Math.min(need, c.length));
      merged.set(header);
      merged.set(c.subarray(0, need), header.length);
      header = merged;
      c = c.subarray(need);
      if (header.length < 4) continue;
      const len = new DataView(header.buffer, header.byteOffset, 4).getUint32(0);
      if (len & 0x80000000)
        throw new Error('reply uses the reserved high bit of the TCP length (extensions unsupported)');
      if (len > maxReplyBytes)
        throw new Error(`reply of ${len} bytes exceeds the ${maxReplyBytes}-byte limit`);
      body = new Uint8Array(len);
    }
    const take = Math.min(c.length, body.length - filled);
    body.set(c.subarray(0, take), filled);
    filled += take;
    if (take < c.length) throw new Error('KDC sent more bytes than its length prefix announced');
    if (filled === body.length) return body;
  }
}

/** KRB-ERROR with error-code 52 (KRB_ERR_RESPONSE_TOO_BIG), recognised without a full decode. */
export function isResponseTooBig(reply: Uint8Array): boolean {
  // [APPLICATION 30] KRB-ERROR; error-code is [6] INTEGER. A light scan for `a6 03 02 01 34`.
  if (reply[0] !== 0x7e) return false;
  for (let i = 0; i + 4 < reply.length; i++) {
    if (reply[i] === 0xa6 && reply[i + 1] === 0x03 && reply[i + 2] === 0x02 && reply[i + 3] === 0x01) {
      return reply[i + 4] === 52;
    }
  }
  return false;
}

/**
 * Whether a datagram can be the reply to `request`: a whole Kerberos message that is a KRB-ERROR
 * or the REP of the request's kind (AS-REQ → AS-REP, TGS-REQ → TGS-REP). Over UDP anything else
 * (garbage, a stray reply to an earlier request) is ignored and we keep waiting, rather than
 * letting one bad datagram decide the exchange.
 */
export function isReplyTo(request: Uint8Array, reply: Uint8Array): boolean {
  const want = request[0] === 0x6a ? 'as-rep' : request[0] === 0x6c ? 'tgs-rep' : undefined;
  try {
    const msg = decodeKerberosMessage(reply);
    return msg.type === 'krb-error' || (want === undefined ? msg.type.endsWith('-rep') : msg.type === want);
  } catch {
    return false;
  }
}

const KDC_ERR_SVC_UNAVAILABLE = 29;

/**
 * A KRB-ERROR with error-code 29 (KDC_ERR_SVC_UNAVAILABLE): the KDC is up but cannot serve now
 * (a read-only replica whose database is being loaded, a KDC proxy without a back end). MIT's
 * sendto_kdc treats it as that KDC not answering and asks the next one.
 */
export function isServiceUnavailable(reply: Uint8Array): boolean {
  if (reply[0] !== 0x7e) return false;
  try {
    const msg = decodeKerberosMessage(reply);
    return msg.type === 'krb-error' && msg.value.errorCode === KDC_ERR_SVC_UNAVAILABLE;
  } catch {
    return false;
  }
}

async function tcpAttempt(
  ep: KdcEndpoint,
  request: Uint8Array,
  deadline: number,
  io: NetIo,
  maxReply: number,
): Promise<Uint8Array> {
  const stream = await io.connectTcp(ep.host, ep.port, deadline);
  try {
    await stream.write(frameTcp(request));
    return await readTcpReply(stream, maxReply);
  } finally {
    stream.close();
  }
}

/**
 * MS-KKDCP §3.2.5.1: the request a KDC proxy takes: the Kerberos message with its TCP length
 * prefix, in a KDC-PROXY-MESSAGE naming the realm (target-domain).
 */
export function kdcProxyRequest(realm: string, request: Uint8Array): Uint8Array {
  return encodeKdcProxyMessage({ kerbMessage: frameTcp(request), targetDomain: realm });
}

/**
 * The Kerberos message inside a KDC proxy's HTTP reply: status 200, a KDC-PROXY-MESSAGE whose
 * kerb-message is exactly one length-prefixed message no longer than `maxReplyBytes`. Anything
 * else is KdcProxyError (`KDC_PROXY_HTTP_STATUS`, `KDC_PROXY_BAD_REPLY`) naming the URL.
 */
export function kdcProxyReply(
  url: string,
  reply: HttpsPostReply,
  maxReplyBytes = DEFAULT_MAX_REPLY,
): Uint8Array {
  if (reply.status !== 200) {
    throw new KdcProxyError('KDC_PROXY_HTTP_STATUS', `KDC proxy ${url} answered HTTP ${reply.status}`, {
      hint:
        reply.status === 404
          ? 'check the path of the kdc = https://... line (kdcproxy and Microsoft KDC Proxy serve /KdcProxy)'
          : "check the proxy's log: it may not reach the realm's KDCs, or not serve this realm",
    });
  }
  const bad = (why: string, cause?: unknown) =>
    new KdcProxyError('KDC_PROXY_BAD_REPLY', `KDC proxy ${url} sent ${why}`, {
      hint: `the URL answered something that is not a KDC-PROXY-MESSAGE${reply.contentType ? ` (Content-Type ${reply.contentType})` : ''}: check that it is a KDC proxy (MS-KKDCP)`,
      ...(cause === undefined ? {} : { cause }),
    });
  let inner: Uint8Array;
  try {
    inner = decodeKdcProxyMessage(reply.body).kerbMessage;
  } catch (e) {
    throw bad('a reply that is not a KDC-PROXY-MESSAGE', e);
  }
  if (inner.length < 4) throw bad('a kerb-message shorter than its length prefix');
  const len = new DataView(inner.buffer, inner.byteOffset, 4).getUint32(0);
  if (len & 0x80000000) throw bad('a kerb-message using the reserved high bit of the length');
  if (len > maxReplyBytes) throw bad(`a ${len}-byte reply, over the ${maxReplyBytes}-byte limit`);
  if (len !== inner.length - 4) throw bad(`a kerb-message of ${inner.length - 4} bytes announcing ${len}`);
  return inner.subarray(4);
}

async function proxyAttempt(
  realm: string,
  ep: KdcEndpoint,
  request: Uint8Array,
  deadline: number,
  io: NetIo,
  maxReply: number,
  anchors: () => Promise<string[] | undefined>,
): Promise<Uint8Array> {
  const url = kdcProxyUrl(ep);
  if (io.httpsPost === undefined) {
    throw new KdcUnreachableError('KDC_UNREACHABLE', `no HTTPS client to reach the KDC proxy ${url}`);
  }
  const ca = await anchors();
  let reply: HttpsPostReply;
  try {
    reply = await io.httpsPost(url, kdcProxyRequest(realm, request), {
      deadline,
      // The KDC-PROXY-MESSAGE wrapping adds a few octets to the framed reply.
      maxBytes: maxReply + 64,
      headers: { 'Content-Type': 'application/kerberos', 'Cache-Control': 'no-cache' },
      ...(ca === undefined ? {} : { ca }),
    });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'TLS') {
      throw new KdcProxyError('KDC_PROXY_TLS', `KDC proxy ${url}: certificate not trusted (${reason(e)})`, {
        hint: `trust the proxy's CA for realm ${realm} with http_anchors = FILE:/path/ca.pem in its [realms] entry (else the system store is used), and check the certificate names the host`,
        cause: e,
      });
    }
    if (code === 'HTTP_TOO_LARGE') {
      throw new KdcProxyError('KDC_PROXY_BAD_REPLY', `KDC proxy ${url}: ${reason(e)}`, {
        hint: 'the URL answered far more than a Kerberos reply: check that it is a KDC proxy (MS-KKDCP)',
        cause: e,
      });
    }
    throw e;
  }
  return kdcProxyReply(url, reply, maxReply);
}

/**
 * Tries each KDC in order, as MIT does: UDP first for small requests when the endpoint allows it
 * (and TCP on KRB_ERR_RESPONSE_TOO_BIG), TCP otherwise. A KDC answering KDC_ERR_SVC_UNAVAILABLE
 * counts as not answering and the next one is asked; if no other answers, that error is the
 * reply (so the caller reports KDC_ERR_SVC_UNAVAILABLE, as MIT's krb5_sendto_kdc does). All
 * failing gives KdcUnreachableError listing every attempt and its reason.
 */
export async function sendToKdcs(
  realm: string,
  endpoints: readonly KdcEndpoint[],
  request: Uint8Array,
  options: SendOptions = {},
): Promise<Uint8Array> {
  const io = options.io ?? defaultNetIo;
  const now = options.now ?? Date.now;
  const perAttempt = options.timeoutMs ?? 3000;
  const overall = now() + (options.totalTimeoutMs ?? 30000);
  const maxReply = options.maxReplyBytes ?? DEFAULT_MAX_REPLY;
  const udpLimit = options.udpPreferenceLimit ?? 1465;
  const tried: string[] = [];
  let unavailable: Uint8Array | undefined;

  const proxyFailures: KdcProxyError[] = [];
  let otherFailures = 0;
  let anchorsLoaded: Promise<string[] | undefined> | undefined;
  const specs = options.httpAnchors ?? [];
  const anchors = (): Promise<string[] | undefined> => {
    if (specs.length === 0) return Promise.resolve(undefined);
    anchorsLoaded ??= (io.loadHttpAnchors?.(specs) ?? Promise.resolve(undefined)).catch((e: unknown) => {
      throw new KdcProxyError('KDC_PROXY_TLS', `cannot load http_anchors for realm ${realm}: ${reason(e)}`, {
        hint: 'http_anchors takes FILE:/path/ca.pem, DIR:/path or ENV:VARIABLE naming a PEM file',
        cause: e,
      });
    });
    return anchorsLoaded;
  };

  for (const ep of endpoints) {
    const where = ep.host.includes(':') ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`;
    if (ep.transport === 'https') {
      // A KDC proxy, in its place in the list (MIT tries the entries in order, whatever their kind).
      if (now() >= overall) break;
      const url = kdcProxyUrl(ep);
      try {
        const reply = await proxyAttempt(
          realm,
          ep,
          request,
          Math.min(overall, now() + perAttempt),
          io,
          maxReply,
          anchors,
        );
        if (!isServiceUnavailable(reply)) return reply;
        unavailable = reply;
        tried.push(`${url}: service unavailable`);
      } catch (e) {
        if (e instanceof KdcProxyError) proxyFailures.push(e);
        else otherFailures++;
        tried.push(`${e instanceof KdcProxyError ? '' : `${url}: `}${reason(e)}`);
      }
      continue;
    }
    const tryUdp = ep.transport === 'udp' || (ep.transport === 'any' && request.length <= udpLimit);
    const tryTcp = ep.transport === 'tcp' || ep.transport === 'any';
    if (tryUdp) {
      if (now() >= overall) break;
      try {
        const reply = await io.udpExchange(
          ep.host,
          ep.port,
          request,
          Math.min(overall, now() + perAttempt),
          (r) => isReplyTo(request, r),
        );
        if (isServiceUnavailable(reply)) {
          unavailable = reply;
          tried.push(`udp ${where}: service unavailable`);
          continue;
        }
        if (!isResponseTooBig(reply)) return reply;
        tried.push(`udp ${where}: response too big, retrying over TCP`);
      } catch (e) {
        tried.push(`udp ${where}: ${reason(e)}`);
        otherFailures++;
      }
    }
    if (tryTcp) {
      if (now() >= overall) break;
      try {
        const reply = await tcpAttempt(ep, request, Math.min(overall, now() + perAttempt), io, maxReply);
        if (!isServiceUnavailable(reply)) return reply;
        unavailable = reply;
        tried.push(`tcp ${where}: service unavailable`);
      } catch (e) {
        tried.push(`tcp ${where}: ${reason(e)}`);
        otherFailures++;
      }
    }
  }
  if (unavailable !== undefined) return unavailable;
  if (now() >= overall) tried.push('overall deadline reached');
  const message = `no KDC for realm ${realm} answered (${tried.length === 0 ? 'no KDC configured' : tried.join('; ')})`;
  const first = proxyFailures[0];
  if (first !== undefined && otherFailures === 0) {
    // Every attempt was a KDC proxy failing in its own way: say so, with that proxy's hint.
    throw new KdcProxyError(first.code, message, { hint: first.hint ?? '', cause: first });
  }
  throw new KdcUnreachableError('KDC_UNREACHABLE', message, {
    hint: `check the kdc entries for ${realm} in krb5.conf (KRB5_CONFIG), the network path, and that the KDC is running`,
  });
}

function reason(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' && !e.message.includes(code) ? `${code} ${e.message}` : e.message;
  }
  return String(e);
}
