// spnego/undici: the Negotiate dispatcher under undici.request, undici's fetch and Node's own
// fetch, and against a connection-bound server double that behaves like IIS (a connection
// authenticated once is not challenged again): one token per connection, responses on that
// connection count as mutually authenticated, on no other.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { request, fetch as undiciFetch } from 'undici';
import { NegotiateDispatcher } from '../../src/adapters/undici.js';
import { MutualAuthenticationError } from '../../src/errors.js';
import type { ContextRequest } from '../../src/http/flow.js';
import { type NegotiateOptions, REQUIRED } from '../../src/http/options.js';
import { acceptor, b64, fakeFactory, readAuthorization, serverPool } from '../http/helpers.js';

const serve = serverPool();
const dispatchers: NegotiateDispatcher[] = [];
after(async () => {
  for (const d of dispatchers) await d.destroy();
});

function dispatcher(options: NegotiateOptions & { connections?: number } = {}, factory = fakeFactory()) {
  const d = new NegotiateDispatcher(options, { contextFactory: factory });
  dispatchers.push(d);
  return Object.assign(d, { factory });
}

interface IisDouble {
  url: string;
  /** Requests seen, with the connection they came on and whether they carried a token. */
  seen: Array<{ conn: number; token: boolean; url: string }>;
  /** Make the next connection claim to be authenticated without any token (a lying server). */
  lieOnNextConnection(): void;
  /** Closes every open connection, the server keeps listening. */
  drop(): void;
  close(): Promise<void>;
}

/**
 * Authenticates the connection, as IIS does: after one good token, no more challenges on it.
 * `perRequest`: authenticates each request instead, as Apache does by default.
 */
async function iis({ perRequest = false } = {}): Promise<IisDouble> {
  const seen: IisDouble['seen'] = [];
  const authed = new WeakSet<Socket>();
  const ids = new WeakMap<Socket, number>();
  const sockets = new Set<Socket>();
  let next = 0;
  let lie = false;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const sock = req.socket;
    const t = readAuthorization(req.headers.authorization);
    seen.push({ conn: ids.get(sock) ?? -1, token: t !== undefined, url: req.url ?? '' });
    req.resume();
    req.on('end', () => {
      if (authed.has(sock) && !t) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`hello again on ${ids.get(sock)}`);
        return;
      }
      if (t?.kind !== 'init') {
        res.writeHead(401, { 'www-authenticate': 'Negotiate' });
        res.end();
        return;
      }
      if (!perRequest) authed.add(sock);
      res.writeHead(200, { 'www-authenticate': `Negotiate ${b64(`final|${t.id}`)}` });
      res.end(`welcome on ${ids.get(sock)}`);
    });
  });
  server.on('connection', (s: Socket) => {
    ids.set(s, next++);
    sockets.add(s);
    if (lie) {
      authed.add(s);
      lie = false;
    }
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    seen,
    lieOnNextConnection: () => {
      lie = true;
    },
    drop: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('spnego/undici: the dispatcher under undici clients', () => {
  it('undici.request, undici fetch and Node fetch authenticate through it (mutual REQUIRED)', async () => {
    const s = await serve(acceptor());
    const d = dispatcher({ mutualAuthentication: REQUIRED });
    const r = await request(`${s.url}/a`, { method: 'POST', body: 'one', dispatcher: d });
    assert.equal(r.statusCode, 200);
    assert.equal(await r.body.text(), 'ok POST HTTP@localhost one');
    const f = await undiciFetch(`${s.url}/b`, { method: 'PUT', body: 'two', dispatcher: d });
    assert.equal(await f.text(), 'ok PUT HTTP@localhost two');
    const n = await fetch(`${s.url}/c`, { dispatcher: d } as RequestInit);
    assert.equal(n.status, 200);
    assert.equal(await n.text(), 'ok GET HTTP@localhost ');
    assert.ok(d.factory.made.every((c) => c.complete));
  });

  it('the response reaches the caller as the server sent it: each Set-Cookie once', async () => {
    const ok = acceptor();
    const s = await serve((req, res) => {
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
      ok(req, res);
    });
    const d = dispatcher();
    const r = await request(`${s.url}/cookies`, { dispatcher: d });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/']);
    assert.equal(await r.body.text(), 'ok GET HTTP@localhost ');
  });

  it('mutual REQUIRED still holds: an unauthenticated 200 is an error', async () => {
    const s = await serve(acceptor({ finalToken: () => undefined }));
    const d = dispatcher({ mutualAuthentication: REQUIRED });
    await assert.rejects(
      request(`${s.url}/`, { dispatcher: d }),
      (e: unknown) => e instanceof MutualAuthenticationError && e.code === 'MUTUAL_AUTH_MISSING',
    );
  });

  it('tells the context which connection its token travels on (no TLS peer on plain http)', async () => {
    const s = await serve(acceptor());
    const seen: ContextRequest[] = [];
    const inner = fakeFactory();
    const d = new NegotiateDispatcher(
      {},
      {
        contextFactory: async (req) => {
          seen.push(req);
          return inner(req);
        },
      },
    );
    dispatchers.push(d);
    assert.equal((await request(`${s.url}/`, { dispatcher: d })).statusCode, 200);
    assert.equal(seen.length, 1);
    assert.ok(seen[0]?.connection, 'connection info given');
    assert.equal(seen[0]?.connection?.peerCertificate(), undefined);
  });

  it('a hop fetch follows to another port of the same host gets no token (REDIRECT_SAME_SERVICE); to another host it does', async () => {
    const target = await serve(acceptor());
    const other = await serve(acceptor(), '127.0.0.1');
    const s = await serve((req, res) => {
      res.writeHead(302, { location: req.url === '/same' ? `${target.url}/new` : `${other.url}/new` });
      res.end();
    });
    const d = dispatcher();
    const same = await undiciFetch(`${s.url}/same`, { dispatcher: d });
    assert.equal(same.status, 401);
    await same.arrayBuffer();
    assert.ok(target.requests.every((x) => x.headers.authorization === undefined));
    const elsewhere = await undiciFetch(`${s.url}/other`, { dispatcher: d });
    assert.equal(await elsewhere.text(), 'ok GET HTTP@127.0.0.1 ');
  });

  it("a path that reads as another host ('//other/x', fetch's path of https://a//b/x) stays on the dispatched origin", async () => {
    const good = await serve(acceptor());
    const other = await serve(acceptor());
    const d = dispatcher();
    const host = new URL(other.url).host;
    const res = await undiciFetch(`${good.url}//${host}/x?q`, { dispatcher: d });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const viaRequest = await d.request({ origin: good.url, path: `/\\${host}/y`, method: 'GET' });
    await viaRequest.body.text();
    assert.equal(other.requests.length, 0, 'nothing went to the other host');
    assert.ok(good.requests.length >= 2);
    assert.ok(good.requests.every((r) => r.url === `//${host}/x?q` || r.url === `//${host}/y`));
  });
});

describe('spnego/undici: a connection-bound server (IIS)', () => {
  it('one token per connection; later responses on it count as mutually authenticated', async () => {
    const server = await iis();
    try {
      const d = dispatcher({ mutualAuthentication: REQUIRED, connections: 1 });
      for (let i = 0; i < 5; i++) {
        const r = await request(`${server.url}/r${i}`, { dispatcher: d });
        assert.equal(r.statusCode, 200);
        assert.equal(await r.body.text(), i === 0 ? 'welcome on 0' : 'hello again on 0');
      }
      assert.equal(d.factory.made.length, 1, 'one context');
      assert.equal(server.seen.filter((x) => x.token).length, 1, 'one token on the wire');
      assert.equal(server.seen.length, 6, 'a 401, then five requests');
    } finally {
      await server.close();
    }
  });

  it('a server that authenticates requests, not the connection: one 401 on the connection, then tokens up front', async () => {
    const server = await iis({ perRequest: true });
    try {
      const d = dispatcher({ mutualAuthentication: REQUIRED, opportunisticAuth: true, connections: 1 });
      for (let i = 0; i < 5; i++) {
        const r = await request(`${server.url}/r${i}`, { dispatcher: d });
        assert.equal(r.statusCode, 200);
        assert.equal(await r.body.text(), 'welcome on 0');
      }
      // The second request tries the connection without a token and learns it is challenged;
      // after that every request carries its token (before: a 401 first, every time).
      assert.deepEqual(
        server.seen.map((x) => x.token),
        [true, false, true, true, true, true],
      );
      assert.equal(d.factory.made.length, 5);
    } finally {
      await server.close();
    }
  });

  it('a response on another connection is not authenticated by the first one', async () => {
    const server = await iis();
    try {
      const d = dispatcher({ mutualAuthentication: REQUIRED, connections: 1 });
      const first = await request(`${server.url}/first`, { dispatcher: d });
      assert.equal(await first.body.text(), 'welcome on 0');
      // The connection drops; the server then claims the new one is authenticated already.
      server.drop();
      server.lieOnNextConnection();
      await new Promise((r) => setTimeout(r, 50));
      await assert.rejects(
        request(`${server.url}/second`, { dispatcher: d }),
        (e: unknown) => e instanceof MutualAuthenticationError && e.code === 'MUTUAL_AUTH_MISSING',
      );
      assert.equal(server.seen.at(-1)?.conn, 1, 'the second request went over a new connection');
      assert.equal(server.seen.at(-1)?.token, false);
    } finally {
      await server.close();
    }
  });

  it('concurrent requests: one token per connection, never more connections than asked', async () => {
    const server = await iis();
    try {
      const d = dispatcher({ mutualAuthentication: REQUIRED, connections: 3 });
      const results = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const r = await request(`${server.url}/c${i}`, { dispatcher: d });
          await r.body.text();
          return r.statusCode;
        }),
      );
      assert.ok(results.every((s) => s === 200));
      const conns = new Set(server.seen.map((x) => x.conn));
      assert.ok(conns.size <= 3, `connections: ${conns.size}`);
      assert.equal(server.seen.filter((x) => x.token).length, conns.size, 'one token per connection');
    } finally {
      await server.close();
    }
  });
});
