// KDC doubles for tests: small node:net servers speaking RFC 4120 §7.2.2 TCP framing, answering
// each request as the test says. Every double a file starts is closed after its tests.
import { createServer, type Server, type Socket } from 'node:net';
import { after } from 'node:test';
import { frameTcp } from '../../src/krb5/transport.js';

/** What the double does with one framed request: reply bytes (framed for it), raw bytes, or silence. */
export type Behaviour = (
  request: Uint8Array,
) => { reply?: Uint8Array; raw?: Uint8Array; end?: boolean } | 'silent';

export interface KdcDouble {
  port: number;
  connections: number;
  requests: Uint8Array[];
}

/** A starter of doubles for one test file. */
export function kdcDoubles(): (behaviour: Behaviour) => Promise<KdcDouble> {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });
  return async (behaviour) => {
    const d: KdcDouble = { port: 0, connections: 0, requests: [] };
    const server = createServer((sock) => {
      d.connections++;
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      sock.on('error', () => undefined);
      let buf = Buffer.alloc(0);
      sock.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (buf.length < 4) return;
        const len = buf.readUInt32BE(0);
        if (buf.length < 4 + len) return;
        const req = new Uint8Array(buf.subarray(4, 4 + len));
        buf = buf.subarray(4 + len);
        d.requests.push(req);
        const out = behaviour(req);
        if (out === 'silent') return;
        if (out.reply) sock.write(frameTcp(out.reply));
        if (out.raw) sock.write(out.raw);
        if (out.end) sock.end();
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    d.port = typeof a === 'object' && a !== null ? a.port : 0;
    return d;
  };
}
