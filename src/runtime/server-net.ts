// Listening sockets for in-process servers (MiniKdc). Byte-oriented like net.ts: framing and
// protocol live above; this only accepts connections and datagrams on loopback.
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';

/** One accepted TCP connection, reduced to what a framed request/reply server needs. */
export interface ServerConnection {
  readonly remote: string;
  onData(cb: (chunk: Uint8Array) => void): void;
  onClose(cb: () => void): void;
  write(data: Uint8Array): void;
  /** Graceful close after pending writes. */
  end(): void;
  /** Immediate close; `reset` sends a TCP RST where the runtime supports it. */
  destroy(reset?: boolean): void;
}

export interface ListenerHandle {
  readonly port: number;
  close(): Promise<void>;
}

function wrap(sock: Socket): ServerConnection {
  return {
    remote: `${sock.remoteAddress ?? '?'}:${sock.remotePort ?? 0}`,
    onData: (cb) => sock.on('data', (c: Buffer) => cb(new Uint8Array(c.buffer, c.byteOffset, c.byteLength))),
    onClose: (cb) => sock.on('close', cb),
    write: (data) => {
      if (!sock.destroyed) sock.write(data);
    },
    end: () => sock.end(),
    destroy: (reset) => {
      if (reset && typeof sock.resetAndDestroy === 'function') sock.resetAndDestroy();
      else sock.destroy();
    },
  };
}

/** Listens on `host:port` (0 = any free port). Connections still open at close() are destroyed. */
export function listenTcp(
  host: string,
  port: number,
  onConnection: (c: ServerConnection) => void,
): Promise<ListenerHandle> {
  return new Promise((resolve, reject) => {
    const open = new Set<Socket>();
    const server: Server = createServer((sock) => {
      open.add(sock);
      sock.on('close', () => open.delete(sock));
      // A peer that vanishes mid-request must not surface as an unhandled 'error'.
      sock.on('error', () => sock.destroy());
      onConnection(wrap(sock));
    });
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      server.on('error', () => {});
      const a = server.address();
      const bound = a !== null && typeof a === 'object' ? a.port : 0;
      resolve({
        port: bound,
        close: () =>
          new Promise<void>((res) => {
            for (const s of open) s.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}

/** Binds a UDP socket; `onMessage` gets each datagram and a function that answers its sender. */
export function listenUdp(
  host: string,
  port: number,
  onMessage: (msg: Uint8Array, reply: (data: Uint8Array) => void) => void,
): Promise<ListenerHandle> {
  return new Promise((resolve, reject) => {
    const sock: DgramSocket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    let closed = false;
    sock.once('error', reject);
    sock.on('message', (msg: Buffer, rinfo) => {
      onMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), (data) => {
        if (!closed) sock.send(data, rinfo.port, rinfo.address);
      });
    });
    sock.bind({ address: host, port, exclusive: true }, () => {
      sock.off('error', reject);
      sock.on('error', () => {});
      resolve({
        port: sock.address().port,
        close: () =>
          new Promise<void>((res) => {
            if (closed) return res();
            closed = true;
            sock.close(() => res());
          }),
      });
    });
  });
}
