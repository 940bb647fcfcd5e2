// A recording TCP relay between MIT clients and a KDC (RFC 4120 §7.2.2 framing: a 4-byte
// big-endian length, then the message). Bytes are forwarded untouched as they arrive; a
// separate reassembler per direction cuts the stream into whole messages, reading exactly the
// announced length even when it spans several TCP chunks, so tests see what went on the wire.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type RelayDirection = 'request' | 'reply';

export interface RelayMessage {
  /** `request`: client → KDC; `reply`: KDC → client. */
  direction: RelayDirection;
  /** Counts the accepted client connections from 1, in order of arrival. */
  connection: number;
  /** The Kerberos message without its 4-byte length prefix. */
  bytes: Uint8Array;
}

export interface Relay {
  /** The loopback port clients should use as `kdc = 127.0.0.1:PORT`. */
  readonly port: number;
  /** Every whole message seen so far, in arrival order. */
  readonly messages: RelayMessage[];
  /** Bytes a peer sent that did not complete a frame before its connection closed. */
  readonly truncated: { direction: RelayDirection; connection: number; bytes: Uint8Array }[];
  /** Forgets the recorded messages (e.g. between two phases of a test). */
  clear(): void;
  close(): Promise<void>;
}

export interface RelayTarget {
  host?: string;
  port: number;
}

/** MIT sets the top bit of the length to announce a "reserved for extensions" frame; we refuse it. */
const MAX_FRAME = 0x7fffffff;

class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly onMessage: (bytes: Uint8Array) => void) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < 4) return;
      const head = this.peek(4);
      const length = head.readUInt32BE(0);
      if (length > MAX_FRAME)
        throw new Error(`relay: frame length 0x${length.toString(16)} has the top bit set`);
      if (this.buffered < 4 + length) return;
      const frame = this.take(4 + length);
      this.onMessage(new Uint8Array(frame.subarray(4)));
    }
  }

  rest(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.chunks));
  }

  private peek(n: number): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all.subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = Buffer.concat(this.chunks);
    const out = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}

/** Starts a relay on 127.0.0.1 (a free port unless `listenPort` is given) towards `target`. */
export async function startRelay(target: RelayTarget, listenPort = 0): Promise<Relay> {
  const host = target.host ?? '127.0.0.1';
  const messages: RelayMessage[] = [];
  const truncated: Relay['truncated'] = [];
  const sockets = new Set<Socket>();
  let connections = 0;

  const server: Server = createServer((client) => {
    const connection = ++connections;
    const upstream = createConnection({ host, port: target.port });
    sockets.add(client);
    sockets.add(upstream);
    const fromClient = new FrameReader((bytes) => messages.push({ direction: 'request', connection, bytes }));
    const fromKdc = new FrameReader((bytes) => messages.push({ direction: 'reply', connection, bytes }));
    const finish = (): void => {
      for (const [reader, direction] of [
        [fromClient, 'request'],
        [fromKdc, 'reply'],
      ] as const) {
        const rest = reader.rest();
        if (rest.length > 0) truncated.push({ direction, connection, bytes: rest });
      }
    };
    let finished = false;
    const closeBoth = (): void => {
      if (!finished) {
        finished = true;
        finish();
      }
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      try {
        fromClient.push(chunk);
      } catch {
        closeBoth();
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      try {
        fromKdc.push(chunk);
      } catch {
        closeBoth();
      }
    });
    // Half-close is forwarded so a client that shuts down its write side still gets the reply.
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('relay: no TCP address');

  return {
    port: address.port,
    messages,
    truncated,
    clear() {
      messages.length = 0;
      truncated.length = 0;
    },
    close() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The Kerberos message name for a recorded message, from its APPLICATION tag (RFC 4120 §5.10). */
export function messageName(bytes: Uint8Array): string {
  const names: Record<number, string> = {
    106: 'AS-REQ',
    107: 'AS-REP',
    108: 'TGS-REQ',
    109: 'TGS-REP',
    126: 'KRB-ERROR',
  };
  const first = bytes[0];
  return (first !== undefined ? names[first] : undefined) ?? `unknown(0x${(first ?? 0).toString(16)})`;
}
