// spnego/server in-process: our initiator (with a ticket minted for a known service key) against
// negotiateMiddleware on node:http and Express, and negotiateHandler as a fetch-style (Hono)
// handler. The AP-REP the server returns must verify in the client context (mutual auth).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, describe, it } from 'node:test';
import express from 'express';
import { Hono } from 'hono';
import { SpnegoError } from '../../src/errors.js';
import { base64Decode, base64Encode } from '../../src/http/base64.js';
import {
  createAcceptor,
  negotiateHandler,
  negotiateMiddleware,
  type RequestLike,
} from '../../src/server/index.js';
import { createInitiatorContext } from '../../src/spnego/index.js';
import { type Minted, mint } from '../gss/helpers.js';

const TARGET = 'HTTP/localhost@GSS.TEST';

async function clientToken(m: Minted) {
  const ctx = await createInitiatorContext({ credentials: m.credentials, target: TARGET, mutual: true });
  const first = await ctx.step();
  assert.ok(first.token);
  return { ctx, header: `Negotiate ${base64Encode(first.token)}` };
}

async function finish(ctx: Awaited<ReturnType<typeof clientToken>>['ctx'], wwwAuthenticate: string | null) {
  assert.ok(wwwAuthenticate?.startsWith('Negotiate '), `server sent ${wwwAuthenticate}`);
  const r = await ctx.step(base64Decode((wwwAuthenticate ?? '').slice('Negotiate '.length)));
  assert.equal(r.complete, true);
  assert.equal(ctx.complete, true);
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}/`),
    ),
  );
}

describe('negotiateMiddleware on node:http', async () => {
  const m = await mint();
  const mw = negotiateMiddleware({ keytab: m.keytab });
  const server = createServer((req, res) =>
    mw(req as unknown as RequestLike, res, () =>
      res.end(`user=${(req as unknown as RequestLike).remoteUser}`),
    ),
  );
  const url = await listen(server);
  after(() => server.close());

  it('authenticates, exposes the principal, and returns an AP-REP the client verifies', async () => {
    const { ctx, header } = await clientToken(m);
    const res = await fetch(url, { headers: { Authorization: header } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'user=alice@GSS.TEST');
    await finish(ctx, res.headers.get('www-authenticate'));
  });

  it('no Authorization, another scheme, or bad base64: 401 Negotiate', async () => {
    for (const h of [undefined, 'Basic dTpw', 'Negotiate !!!', 'Negotiate']) {
      const res = await fetch(url, h === undefined ? {} : { headers: { Authorization: h } });
      assert.equal(res.status, 401, String(h));
      assert.equal(res.headers.get('www-authenticate'), 'Negotiate');
    }
  });

  it('a replayed token is refused', async () => {
    const { header } = await clientToken(m);
    assert.equal((await fetch(url, { headers: { Authorization: header } })).status, 200);
    assert.equal((await fetch(url, { headers: { Authorization: header } })).status, 401);
  });

  it('a ticket for another service key is refused', async () => {
    const other = await mint();
    const { header } = await clientToken(other);
    assert.equal((await fetch(url, { headers: { Authorization: header } })).status, 401);
  });

  it('a tampered AP-REP makes the client context fail with a typed error', async () => {
    const { ctx, header } = await clientToken(m);
    const res = await fetch(url, { headers: { Authorization: header } });
    const token = base64Decode((res.headers.get('www-authenticate') ?? '').slice('Negotiate '.length));
    token[token.length - 3] = (token[token.length - 3] ?? 0) ^ 0x40;
    await assert.rejects(
      ctx.step(token),
      (e: unknown) => e instanceof SpnegoError && typeof e.code === 'string',
    );
    assert.equal(ctx.complete, false);
  });
});

describe('restricting realms and principals', async () => {
  const m = await mint();
  it('a client outside `principals` is refused with REJECTED_CLIENT', async () => {
    const acc = createAcceptor({ keytab: m.keytab, principals: ['bob@GSS.TEST'] });
    const { header } = await clientToken(m);
    await assert.rejects(acc.accept(base64Decode(header.slice(10))), { code: 'REJECTED_CLIENT' });
  });
  it('a client of an allowed realm is accepted', async () => {
    const acc = createAcceptor({ keytab: m.keytab, realms: ['GSS.TEST'] });
    const { header } = await clientToken(m);
    assert.equal((await acc.accept(base64Decode(header.slice(10)))).user, 'alice@GSS.TEST');
  });
});

describe('Express', async () => {
  const m = await mint();
  const app = express();
  app.use(negotiateMiddleware({ keytab: m.keytab }));
  app.get('/', (req, res) => {
    res.send(`express ${(req as unknown as RequestLike).negotiate?.user}`);
  });
  const server = createServer(app);
  const url = await listen(server);
  after(() => server.close());

  it('authenticates through app.use(negotiateMiddleware())', async () => {
    const { ctx, header } = await clientToken(m);
    const res = await fetch(url, { headers: { Authorization: header } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'express alice@GSS.TEST');
    await finish(ctx, res.headers.get('www-authenticate'));
    assert.equal((await fetch(url)).status, 401);
  });
});

describe('fetch-style handler (Hono)', async () => {
  const m = await mint();
  const app = new Hono();
  app.get('/', (c) => c.text('hono page'));
  const handler = negotiateHandler(
    async (req: Request, ctx) => {
      const res = await app.fetch(req);
      return new Response(`${await res.text()} for ${ctx.negotiate.user}`, { status: res.status });
    },
    { keytab: m.keytab },
  );

  it('wraps (Request) => Response and adds the AP-REP', async () => {
    const { ctx, header } = await clientToken(m);
    const res = await handler(new Request('http://localhost/', { headers: { Authorization: header } }));
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hono page for alice@GSS.TEST');
    await finish(ctx, res.headers.get('www-authenticate'));
  });

  it('refuses a request without a token', async () => {
    const res = await handler(new Request('http://localhost/'));
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Negotiate');
  });
});
