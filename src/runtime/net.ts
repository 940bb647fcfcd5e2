// Sockets for talking to KDCs. Kept minimal and byte-oriented: framing and retries are protocol
// concerns and live in src/krb5/transport.ts.
import type * as NodeDgram from 'node:dgram';
import type * as NodeNet from 'node:net';
import { builtin } from './builtin.js';

const dgram = () => builtin<typeof NodeDgram>('node:dgram');
const net = () => builtin<typeof NodeNet>('node:net');

export interface ByteStream {
  write(data: Uint8Array): Promise<void>;
  /** Next chunk, or null at end of stream. Rejects on socket error or when the deadline passes. */
  read(): Promise<Uint8Array | null>;
  close(): void;
}

/**
 * Opens a TCP connection; every operation fails once `deadline` (ms since epoch) passes. Where
 * node:net is absent, Cloudflare Workers' `connect()` (`cloudflare:sockets`) serves instead;
 * elsewhere the PLATFORM_UNSUPPORTED error stands.
 */
export async function connectTcp(host: string, port: number, deadline: number): Promise<ByteStream> {
  try {
    net();
  } catch (absent) {
    const connect = await workerConnect();
    if (connect === undefined) throw absent;
    return connectWorkerSocket(connect, host, port, deadline);
  }
  return connectStream({ host, port }, deadline);
}

/** The parts of a `cloudflare:sockets` Socket we use. */
interface WorkerSocket {
  readonly opened: Promise<unknown>;
  readonly closed: Promise<unknown>;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  close(): Promise<void>;
}
type WorkerConnect = (
  address: { hostname: string; port: number },
  options?: { secureTransport?: 'off'; allowHalfOpen?: boolean },
) => WorkerSocket;

let workerConnectLoaded: Promise<WorkerConnect | undefined> | undefined;

/**
 * `connect` from `cloudflare:sockets`, only inside workerd (its navigator.userAgent). The import
 * is a literal inside try/catch: esbuild then leaves it to the runtime without an error, webpack
 * and Vite skip it by their comments, Miniflare's module walker accepts a built-in it knows, and
 * Node, Deno and Bun never evaluate it. (A computed specifier, which would hide it from every
 * bundler, makes Miniflare refuse the whole Worker: ERR_MODULE_DYNAMIC_SPEC.)
 */
function workerConnect(): Promise<WorkerConnect | undefined> {
  const ua = (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent;
  if (ua !== 'Cloudflare-Workers') return Promise.resolve(undefined);
  workerConnectLoaded ??= (async () => {
    try {
      // @ts-expect-error -- a workerd built-in module, without types here
      const m = (await import(/* webpackIgnore: true */ /* @vite-ignore */ 'cloudflare:sockets')) as {
        connect?: unknown;
      };
      return typeof m.connect === 'function' ? (m.connect as WorkerConnect) : undefined;
    } catch {
      return undefined;
    }
  })();
  return workerConnectLoaded;
}

/**
 * A `cloudflare:sockets` connection as a ByteStream with the same deadline. The socket is closed
 * when the deadline passes (which also settles a pending read), and its `closed` promise is
 * observed so a reset is not reported as an unhandled rejection.
 */
async function connectWorkerSocket(
  connect: WorkerConnect,
  host: string,
  port: number,
  deadline: number,
): Promise<ByteStream> {
  const sock = connect({ hostname: host, port }, { secureTransport: 'off', allowHalfOpen: false });
  sock.closed.catch(() => undefined);
  const remaining = Math.max(1, deadline - Date.now());
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    sock.close().catch(() => undefined);
  };
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${remaining} ms`));
      close();
    }, remaining);
  });
  expired.catch(() => undefined);
  const bounded = <T>(p: Promise<T>): Promise<T> => Promise.race([p, expired]);
  try {
    await bounded(sock.opened);
  } catch (e) {
    close();
    throw e;
  }
  const writer = sock.writable.getWriter();
  const reader = sock.readable.getReader();
  return {
    write: (data) => bounded(writer.write(data)),
    read: async () => {
      const r = await bounded(reader.read());
      return r.done ? null : r.value;
    },
    close,
  };
}

/**
 * Opens a Unix-domain stream socket (a KCM daemon's); every operation fails once `deadline`
 * passes. Node and Bun support these through node:net; where a runtime does not, the
 * connection fails with its own error, which the caller reports.
 */
export function connectUnix(path: string, deadline: number): Promise<ByteStream> {
  return connectStream({ path }, deadline);
}

function connectStream(
  target: { host: string; port: number } | { path: string },
  deadline: number,
): Promise<ByteStream> {
  return new Promise((resolve, reject) => {
    const sock = new (net().Socket)();
    const queue: Uint8Array[] = [];
    let ended = false;
    let failure: Error | undefined;
    let waiter: { resolve: (c: Uint8Array | null) => void; reject: (e: Error) => void } | undefined;
    const remaining = Math.max(1, deadline - Date.now());
    const timer = setTimeout(() => fail(new Error(`timed out after ${remaining} ms`)), remaining);
    timer.unref?.();

    function fail(e: Error): void {
      if (failure) return;
      failure = e;
      sock.destroy();
      clearTimeout(timer);
      if (waiter) {
        waiter.reject(e);
        waiter = undefined;
      }
      reject(e);
    }
    sock.on('data', (chunk: Buffer) => {
      const c = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w.resolve(c);
      } else queue.push(c);
    });
    sock.on('end', () => {
      ended = true;
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w.resolve(null);
      }
    });
    sock.on('error', (e) => fail(e));
    sock.on('close', () => clearTimeout(timer));
    sock.connect(target, () => {
      resolve({
        write: (data) =>
          new Promise((res, rej) => {
            if (failure) return rej(failure);
            sock.write(data, (e) => (e ? rej(e) : res()));
          }),
        read: () => {
          if (failure) return Promise.reject(failure);
          const c = queue.shift();
          if (c) return Promise.resolve(c);
          if (ended) return Promise.resolve(null);
          return new Promise((res, rej) => {
            waiter = { resolve: res, reject: rej };
          });
        },
        close: () => {
          clearTimeout(timer);
          sock.destroy();
        },
      });
    });
  });
}

/**
 * Sends one datagram and waits for the reply (or the deadline). The socket is connected to the
 * KDC's address, as MIT's sendto_kdc does, so the kernel drops datagrams from anyone else; a
 * datagram whose source is not that address is ignored here as well. A datagram `accept` refuses
 * (undecodable, or not a reply to this request) is ignored too, and we keep listening until the
 * deadline: one forged or garbled packet must neither be believed nor end the exchange.
 */
export function udpExchange(
  host: string,
  port: number,
  data: Uint8Array,
  deadline: number,
  accept: (reply: Uint8Array) => boolean = () => true,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const family = net().isIP(host) === 6 || host.includes(':') ? 'udp6' : 'udp4';
    const sock = dgram().createSocket(family);
    const remaining = Math.max(1, deadline - Date.now());
    let ignored = 0;
    const timer = setTimeout(
      () =>
        done(
          new Error(
            `timed out after ${remaining} ms${ignored > 0 ? ` (${ignored} datagram${ignored === 1 ? '' : 's'} ignored: not a valid reply)` : ''}`,
          ),
        ),
      remaining,
    );
    timer.unref?.();
    let finished = false;
    let peer: { address: string; port: number } | undefined;
    function done(e: Error | null, reply?: Uint8Array): void {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.close();
      if (e) reject(e);
      else resolve(reply ?? new Uint8Array(0));
    }
    sock.on('error', (e) => done(e));
    sock.on('message', (msg: Buffer, rinfo: { address: string; port: number }) => {
      if (peer === undefined || rinfo.address !== peer.address || rinfo.port !== peer.port) {
        ignored++;
        return;
      }
      const reply = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
      if (!accept(reply)) {
        ignored++;
        return;
      }
      done(null, reply);
    });
    sock.connect(port, host, () => {
      if (finished) return;
      try {
        const remote = sock.remoteAddress();
        peer = { address: remote.address, port: remote.port };
      } catch (e) {
        done(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      sock.send(data, (e) => {
        if (e) done(e);
      });
    });
  });
}
