// Request bodies: streamed when the first leg carries the token (opportunisticAuth: no second leg
// expected), buffered up to maxBufferedBody otherwise, and what happens when a streamed body
// would be needed twice (a 401 anyway, a 307) — a returned 401 or fetch's TypeError, never a
// silently empty re-send.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, SpnegoError } from '../../src/errors.js';
import { createNegotiator } from '../../src/http/fetch.js';
import { negotiateFailure } from '../../src/http/flow.js';
import type { NegotiateOptions } from '../../src/http/options.js';
import { acceptor, fakeFactory, readAuthorization, serverPool, startServer } from './helpers.js';

const serve = serverPool();

function client(options: NegotiateOptions, factory = fakeFactory()) {
  const n = createNegotiator(options, { contextFactory: factory });
  return (url: string, init?: RequestInit) => n.fetch(url, init, globalThis.fetch);
}

describe('request bodies', () => {
  it('opportunistic: the body streams — chunk k is produced only after the server has seen chunk k-1', async () => {
    const seen: Buffer[] = [];
    let bytes = 0;
    const waiting: Array<() => void> = [];
    // Resolves once the server has read `n` bytes (data events may split or join our chunks).
    const serverHas = (n: number): Promise<void> =>
      new Promise((r) => {
        const check = (): void => {
          if (bytes >= n) r();
          else waiting.push(check);
        };
        check();
      });
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      req.on('data', (c: Buffer) => {
        seen.push(c);
        bytes += c.length;
        for (const w of waiting.splice(0)) w();
      });
      req.on('end', () => {
        const t = readAuthorization(req.headers.authorization);
        res.writeHead(t ? 200 : 401, { 'www-authenticate': 'Negotiate' });
        res.end(`got ${Buffer.concat(seen).length} bytes`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      let k = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (k > 0) await serverHas(k * 1000);
          if (k === 5) c.close();
          else c.enqueue(new Uint8Array(1000).fill(65 + k));
          k++;
        },
      });
      const res = await Promise.race([
        client({ opportunisticAuth: true })(`http://localhost:${port}/up`, {
          method: 'PUT',
          body,
          duplex: 'half',
        } as RequestInit),
        new Promise<never>((_, rej) =>
          setTimeout(() => rej(new Error('the body was not streamed (buffered first)')), 5000),
        ),
      ]);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'got 5000 bytes');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('without opportunistic auth a body past maxBufferedBody is BODY_TOO_LARGE, and nothing is sent', async () => {
    const s = await serve(acceptor());
    await assert.rejects(
      client({ maxBufferedBody: 10 })(`${s.url}/big`, { method: 'POST', body: 'x'.repeat(11) }),
      (e: unknown) => e instanceof SpnegoError && e.code === 'BODY_TOO_LARGE' && !!e.hint,
    );
    assert.equal(s.requests.length, 0);
    const ok = await client({ maxBufferedBody: 11 })(`${s.url}/fits`, {
      method: 'POST',
      body: 'x'.repeat(11),
    });
    assert.equal(await ok.text(), `ok POST HTTP@localhost ${'x'.repeat(11)}`);
    for (const bad of [-1, 1.5, '10' as unknown as number])
      assert.throws(() => createNegotiator({ maxBufferedBody: bad }), ConfigError);
  });

  it('opportunistic, streamed, and the server wants another leg: the 401 comes back (BODY_NOT_REPLAYABLE)', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Negotiate' });
      res.end();
    });
    const res = await client({ opportunisticAuth: true })(`${s.url}/`, {
      method: 'POST',
      body: new Blob(['once']).stream(),
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 401);
    assert.equal(negotiateFailure(res)?.code, 'BODY_NOT_REPLAYABLE');
    assert.equal(s.requests.length, 1);
  });

  it("opportunistic, streamed, then a 307: fetch's TypeError; a 303 turns into a GET as usual", async () => {
    const s = await serve((req, res) => {
      if (req.url === '/temp') res.writeHead(307, { location: '/landed' });
      else if (req.url === '/other') res.writeHead(303, { location: '/landed' });
      else {
        acceptor()(req, res);
        return;
      }
      res.end();
    });
    const f = client({ opportunisticAuth: true });
    const stream = () =>
      ({ method: 'POST', body: new Blob(['payload']).stream(), duplex: 'half' }) as RequestInit;
    await assert.rejects(
      f(`${s.url}/temp`, stream()),
      (e: unknown) =>
        e instanceof TypeError && e.cause instanceof SpnegoError && e.cause.code === 'REDIRECT_STREAMED_BODY',
    );
    const see = await f(`${s.url}/other`, stream());
    assert.equal(see.status, 200);
    assert.equal(await see.text(), 'ok GET HTTP@localhost ');
  });

  it('the opportunistic token cannot be made: the body is buffered and goes out whole without a token', async () => {
    const s = await startServer(acceptor());
    try {
      let calls = 0;
      const inner = fakeFactory();
      const res = await client(
        { opportunisticAuth: true },
        Object.assign(
          async (req: Parameters<typeof inner>[0]) => {
            if (calls++ === 0) throw new Error('no ticket yet');
            return inner(req);
          },
          { made: inner.made },
        ),
      )(`${s.url}/retry`, {
        method: 'PUT',
        body: new Blob(['twice']).stream(),
        duplex: 'half',
      } as RequestInit);
      // The first (token-less) leg is answered 401; the flow does not retry a local failure.
      assert.equal(res.status, 401);
      assert.equal(s.requests[0]?.body.toString(), 'twice');
    } finally {
      await s.close();
    }
  });
});
