// spnego/ws: the WebSocket upgrade's 401 answered through the shared flow, its 101 judged for
// mutual authentication as a 2xx, against a ws server double for the fake context.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { negotiateWebSocket } from '../../src/adapters/ws.js';
import { MutualAuthenticationError } from '../../src/errors.js';
import { OPTIONAL, REQUIRED } from '../../src/http/options.js';
import { b64, fakeFactory, readAuthorization, serverPool } from '../http/helpers.js';

const serve = serverPool();

interface WsDouble {
  url: string;
  upgrades: Array<{ token: boolean }>;
  close(): Promise<void>;
}

/** A WebSocket server that demands Negotiate on the upgrade; `final` decides the 101's token. */
async function wsServer(final: (id: string) => string | undefined, greeting?: string): Promise<WsDouble> {
  const upgrades: WsDouble['upgrades'] = [];
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<Socket>();
  const server = createServer();
  const tokens = new WeakMap<IncomingMessage, string>();
  wss.on('headers', (headers, req) => {
    const t = tokens.get(req);
    if (t !== undefined) headers.push(`WWW-Authenticate: Negotiate ${b64(t)}`);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const t = readAuthorization(req.headers.authorization);
    upgrades.push({ token: t !== undefined });
    if (t?.kind !== 'init') {
      socket.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const f = final(t.id);
    if (f !== undefined) tokens.set(req, f);
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (greeting !== undefined) ws.send(greeting);
      ws.on('message', (m) => ws.send(`echo ${String(m)}`));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `ws://localhost:${(server.address() as AddressInfo).port}/chat`,
    upgrades,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        wss.close();
        server.close(() => r());
      }),
  };
}
const wsServers: WsDouble[] = [];
after(async () => {
  for (const w of wsServers) await w.close();
});
async function startWs(final: (id: string) => string | undefined = (id) => `final|${id}`, greeting?: string) {
  const w = await wsServer(final, greeting);
  wsServers.push(w);
  return w;
}

describe('spnego/ws: the WebSocket upgrade', () => {
  it('answers the upgrade 401 and opens the socket; the 101 verified under REQUIRED', async () => {
    const w = await startWs();
    const factory = fakeFactory();
    const ws = await negotiateWebSocket(
      WebSocket,
      w.url,
      { mutualAuthentication: REQUIRED },
      { contextFactory: factory },
    );
    try {
      const reply = new Promise<string>((r) => ws.once('message', (m) => r(String(m))));
      ws.send('hi');
      assert.equal(await reply, 'echo hi');
      assert.deepEqual(w.upgrades, [{ token: false }, { token: true }]);
      assert.equal(factory.made[0]?.complete, true);
      assert.equal(factory.made[0]?.req.target, 'HTTP@localhost');
    } finally {
      ws.close();
    }
  });

  it('a message the server sends right after its 101 reaches the caller, who listens only after the await', async () => {
    // The greeting leaves in the 101's packet; the flow is still judging the 101 when ws parses it.
    const w = await startWs(undefined, 'welcome');
    const ws = await negotiateWebSocket(
      WebSocket,
      w.url,
      { mutualAuthentication: REQUIRED },
      { contextFactory: fakeFactory() },
    );
    try {
      const first = await new Promise<string>((resolve, reject) => {
        ws.once('message', (m) => resolve(String(m)));
        ws.once('close', () => reject(new Error('closed before a message')));
        setTimeout(() => reject(new Error('the greeting was lost')), 2000).unref();
      });
      assert.equal(first, 'welcome');
      ws.send('after');
      assert.equal(await new Promise<string>((r) => ws.once('message', (m) => r(String(m)))), 'echo after');
    } finally {
      ws.close();
    }
  });

  it('REQUIRED: a 101 without the server token is MUTUAL_AUTH_MISSING and no socket is handed out', async () => {
    const w = await startWs(() => undefined);
    await assert.rejects(
      negotiateWebSocket(
        WebSocket,
        w.url,
        { mutualAuthentication: REQUIRED },
        { contextFactory: fakeFactory() },
      ),
      (e: unknown) => e instanceof MutualAuthenticationError && e.code === 'MUTUAL_AUTH_MISSING',
    );
    const ws = await negotiateWebSocket(
      WebSocket,
      w.url,
      { mutualAuthentication: OPTIONAL },
      { contextFactory: fakeFactory() },
    );
    ws.close();
  });

  it('a bad server token on the 101 is refused; a refused upgrade rejects with its status', async () => {
    const w = await startWs(() => 'final|999');
    await assert.rejects(
      negotiateWebSocket(
        WebSocket,
        w.url,
        { mutualAuthentication: OPTIONAL },
        { contextFactory: fakeFactory() },
      ),
      MutualAuthenticationError,
    );
    const server = await serve((_req, res) => {
      res.writeHead(403);
      res.end('no');
    });
    await assert.rejects(
      negotiateWebSocket(WebSocket, server.url.replace('http', 'ws'), {}, { contextFactory: fakeFactory() }),
      (e: unknown) => e instanceof Error && (e as Error & { status?: number }).status === 403,
    );
  });

  it('a refused upgrade with an endless body: the answer is read up to a bound, not into memory without end', async () => {
    const sockets: Socket[] = [];
    const server = createServer();
    server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
      sockets.push(socket);
      socket.write('HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n');
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const more = (): void => {
        while (!socket.destroyed && socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`));
        if (!socket.destroyed) socket.once('drain', more);
      };
      more();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `ws://localhost:${(server.address() as AddressInfo).port}/chat`;
      await assert.rejects(
        negotiateWebSocket(WebSocket, url, {}, { contextFactory: fakeFactory() }),
        (e: unknown) => {
          const err = e as Error & { status?: number; response?: Response };
          return err.status === 403 && err.response instanceof Response;
        },
      );
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});
