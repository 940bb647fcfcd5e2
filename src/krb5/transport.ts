// Getting a request to a KDC and its reply back (RFC 4120 §7.2). The framing and the retry
// policy are here, pure; the sockets are behind `NetIo` (src/runtime by default), so tests can
// drive this with hostile or silent KDC doubles.
import { decodeKerberosMessage } from '../asn1/index.js';
import { KdcUnreachableError } from '../errors.js';
import { type ByteStream, connectTcp, udpExchange } from '../runtime/net.js';

/** Where a KDC listens. `any` (a plain `kdc = host` line) may be tried over UDP and TCP. */
export interface KdcEndpoint {
  host: string;
  port: number;
  transport: 'tcp' | 'udp' | 'any';
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
}

export const defaultNetIo: NetIo = { connectTcp, udpExchange };

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

  for (const ep of endpoints) {
    const where = ep.host.includes(':') ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`;
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
      }
    }
  }
  if (unavailable !== undefined) return unavailable;
  if (now() >= overall) tried.push('overall deadline reached');
  throw new KdcUnreachableError(
    'KDC_UNREACHABLE',
    `no KDC for realm ${realm} answered (${tried.length === 0 ? 'no KDC configured' : tried.join('; ')})`,
    {
      hint: `check the kdc entries for ${realm} in krb5.conf (KRB5_CONFIG), the network path, and that the KDC is running`,
    },
  );
}

function reason(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' && !e.message.includes(code) ? `${code} ${e.message}` : e.message;
  }
  return String(e);
}
