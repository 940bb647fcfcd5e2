// spnego/server in-process: our initiator (with a ticket minted for a known service key) against
// negotiateMiddleware on node:http and Express, and negotiateHandler as a fetch-style (Hono)
// handler. The AP-REP the server returns must verify in the client context (mutual auth).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import express from 'express';
import { Hono } from 'hono';
import type { Principal } from '../../src/ccache/principal-text.js';
import { ConfigError, CredentialsError, SpnegoError } from '../../src/errors.js';
import { parseChallenges } from '../../src/http/challenge.js';
import {
  type AcceptorOptions,
  checkAuthorization,
  createAcceptor,
  negotiateHandler,
  negotiateMiddleware,
  type RequestLike,
  type ResponseLike,
} from '../../src/server/index.js';
import { base64Decode, base64Encode } from '../../src/spnego/base64.js';
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

// negotiateHandler: the AP-REP header must reach responses that cannot be rebuilt with
// `new Response(...)` (a 101 upgrade, as Deno.upgradeWebSocket returns), and still reach
// responses whose headers are immutable (a Response straight from fetch()).
async function request(): Promise<{ req: Request; keytab: Awaited<ReturnType<typeof mint>>['keytab'] }> {
  const m = await mint();
  const ctx = await createInitiatorContext({
    credentials: m.credentials,
    target: 'HTTP/localhost@GSS.TEST',
    mutual: true,
  });
  const first = await ctx.step();
  assert.ok(first.token);
  const req = new Request('http://localhost/', {
    headers: { Authorization: `Negotiate ${base64Encode(first.token)}` },
  });
  return { req, keytab: m.keytab };
}

describe('negotiateHandler: the AP-REP on any response', () => {
  it('adds the AP-REP to a 101 upgrade response without rebuilding it', async () => {
    const { req, keytab } = await request();
    const upgrade = new Response(null, { status: 200 });
    // Node cannot construct a 101 Response; Deno.upgradeWebSocket hands one to the handler.
    Object.defineProperty(upgrade, 'status', { value: 101 });
    const h = negotiateHandler(() => upgrade, { keytab });
    const res = await h(req);
    assert.equal(res, upgrade);
    assert.match(res.headers.get('WWW-Authenticate') ?? '', /^Negotiate /);
  });

  it('copies a response whose headers are immutable', async () => {
    const { req, keytab } = await request();
    const h = negotiateHandler(
      () => {
        const r = new Response('body', { status: 203, statusText: 'Copied', headers: { 'X-A': '1' } });
        Object.defineProperty(r.headers, 'set', {
          value: () => {
            throw new TypeError('immutable');
          },
        });
        return r;
      },
      { keytab },
    );
    const res = await h(req);
    assert.equal(res.status, 203);
    assert.equal(res.statusText, 'Copied');
    assert.equal(res.headers.get('X-A'), '1');
    assert.match(res.headers.get('WWW-Authenticate') ?? '', /^Negotiate /);
    assert.equal(await res.text(), 'body');
  });

  it('keeps a challenge the handler set itself and adds the AP-REP beside it', async () => {
    const { req, keytab } = await request();
    const h = negotiateHandler(
      () =>
        new Response('no scope', {
          status: 401,
          headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' },
        }),
      { keytab },
    );
    const res = await h(req);
    assert.equal(res.status, 401);
    const offered = parseChallenges(res.headers.get('WWW-Authenticate') ?? '');
    assert.deepEqual(
      offered.map((c) => c.scheme.toLowerCase()),
      ['bearer', 'negotiate'],
    );
    assert.ok(offered[1]?.token68, 'the AP-REP is still there');
  });
});

// Fail-closed behaviour of createAcceptor's options and of the
// middlewares when the server itself is broken, a response that something else already sent,
// async `principals` predicates, and a log line for every refused request.

async function tokenFor(m: Minted): Promise<Uint8Array> {
  const ctx = await createInitiatorContext({ credentials: m.credentials, target: TARGET, mutual: true });
  const first = await ctx.step();
  assert.ok(first.token);
  return first.token;
}

/** A node:http-like response: setHeader throws once the headers are out, as node's does. */
function fakeResponse(headersSent: boolean) {
  const headers = new Map<string, string>();
  const res = {
    statusCode: 200,
    headersSent,
    ended: undefined as string | undefined,
    headers,
    setHeader(name: string, value: string) {
      if (this.headersSent) {
        const e = new Error('Cannot set headers after they are sent to the client');
        Object.assign(e, { code: 'ERR_HTTP_HEADERS_SENT' });
        throw e;
      }
      headers.set(name.toLowerCase(), value);
    },
    end(body?: string) {
      this.headersSent = true;
      this.ended = body ?? '';
    },
  };
  return res satisfies ResponseLike;
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'spnego-server-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('fail-closed server options and middlewares', () => {
  it('middleware leaves a response that was already sent alone (no throw, no handler run)', async () => {
    const m = await mint();
    const lines: string[] = [];
    const mw = negotiateMiddleware({ keytab: m.keytab, logger: { debug: (l: string) => lines.push(l) } });
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      for (const header of [`Negotiate ${base64Encode(await tokenFor(m))}`, 'Negotiate AAAA', undefined]) {
        const before = lines.length;
        // e.g. a timeout middleware answered 503 while the token was being checked.
        const res = fakeResponse(true);
        res.statusCode = 503;
        let nextCalls = 0;
        const req: RequestLike = { headers: header === undefined ? {} : { authorization: header } };
        mw(req, res, () => {
          nextCalls++;
        });
        await until(() => unhandled.length > 0 || lines.slice(before).some((l) => /already sent/.test(l)));
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(unhandled, [], String(header));
        assert.equal(nextCalls, 0, String(header));
        assert.equal(res.statusCode, 503);
        assert.equal(res.headers.size, 0);
      }
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('an async or non-boolean `principals` predicate admits only on true', async () => {
    const m = await mint();
    const token = () => tokenFor(m);
    const deny = (async () => false) as unknown as (p: Principal) => boolean;
    await assert.rejects(createAcceptor({ keytab: m.keytab, principals: deny }).accept(await token()), {
      code: 'REJECTED_CLIENT',
    });
    const truthy = (() => 'yes') as unknown as (p: Principal) => boolean;
    await assert.rejects(createAcceptor({ keytab: m.keytab, principals: truthy }).accept(await token()), {
      code: 'REJECTED_CLIENT',
    });
    const seen: string[] = [];
    const allow = async (p: Principal) => {
      seen.push(p.name.nameString.join('/'));
      return p.realm === 'GSS.TEST';
    };
    const ok = await createAcceptor({ keytab: m.keytab, principals: allow }).accept(await token());
    assert.equal(ok.user, 'alice@GSS.TEST');
    assert.deepEqual(seen, ['alice']);
  });

  it('options that would fail open or make no sense are refused at creation', async () => {
    const m = await mint();
    const bad: unknown[] = [
      { clockskew: Number.NaN },
      { clockskew: Number.POSITIVE_INFINITY },
      { clockskew: -1 },
      { clockskew: '300' },
      { realms: 'GSS.TEST' },
      { realms: [''] },
      { principals: 'alice@GSS.TEST' },
      { principals: [42] },
      { keytabCheckIntervalMs: Number.NaN },
      { principal: 'HTTP/a@B@C' },
    ];
    for (const o of bad) {
      assert.throws(
        () => createAcceptor({ keytab: m.keytab, ...(o as AcceptorOptions) }),
        (e: unknown) => e instanceof ConfigError && e.code === 'BAD_OPTION',
        JSON.stringify(o, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)),
      );
      assert.throws(() => negotiateMiddleware({ keytab: m.keytab, ...(o as AcceptorOptions) }), ConfigError);
    }
    // Valid options still work as before (an empty `principals` list admits nobody).
    const acc = createAcceptor({ keytab: m.keytab, clockskew: 60, realms: ['GSS.TEST'], principals: [] });
    await assert.rejects(acc.accept(await tokenFor(m)), { code: 'REJECTED_CLIENT' });
    const ok = createAcceptor({ keytab: m.keytab, clockskew: 60, realms: ['GSS.TEST'], principal: TARGET });
    assert.equal((await ok.accept(await tokenFor(m))).user, 'alice@GSS.TEST');
  });

  it('an unreadable keytab is a 500 without details, not a 401 nor next(err)', async () => {
    const m = await mint();
    const missing = join(dir, 'no-such.keytab');
    const token = `Negotiate ${base64Encode(await tokenFor(m))}`;
    const lines: string[] = [];
    const logger = { debug: (l: string) => lines.push(l) };

    await assert.rejects(
      createAcceptor({ keytab: missing }).accept(await tokenFor(m)),
      (e: unknown) => e instanceof CredentialsError && e.code === 'KEYTAB_UNREADABLE',
    );
    await assert.rejects(checkAuthorization(createAcceptor({ keytab: missing }), token), CredentialsError);

    // node:http with a `next` that ignores its argument must still not serve the page.
    const mw = negotiateMiddleware({ keytab: missing, logger });
    const server = createServer((req, res) =>
      mw(req as unknown as RequestLike, res, () => res.end('secret page')),
    );
    const url = await listen(server);
    try {
      const res = await fetch(url, { headers: { Authorization: token } });
      assert.equal(res.status, 500);
      const body = await res.text();
      assert.ok(!body.includes('secret'), body);
      assert.ok(!body.includes(missing), body);
      assert.equal(res.headers.get('www-authenticate'), null);
    } finally {
      server.close();
    }
    assert.ok(
      lines.some((l) => l.includes('KEYTAB_UNREADABLE') && l.includes(missing)),
      lines.join('\n'),
    );

    // Express: the page behind the middleware does not run either.
    const app = express();
    let ran = false;
    app.use(negotiateMiddleware({ keytab: missing }));
    app.get('/', (_req, res) => {
      ran = true;
      res.send('secret page');
    });
    const es = createServer(app);
    const eurl = await listen(es);
    try {
      const res = await fetch(eurl, { headers: { Authorization: token } });
      assert.equal(res.status, 500);
      assert.ok(!(await res.text()).includes(missing));
      assert.equal(ran, false);
    } finally {
      es.close();
    }

    // fetch-style: a 500 Response, the handler not called.
    let called = false;
    const h = negotiateHandler(
      () => {
        called = true;
        return new Response('secret page');
      },
      { keytab: missing },
    );
    const res = await h(new Request('http://localhost/', { headers: { Authorization: token } }));
    assert.equal(res.status, 500);
    assert.ok(!(await res.text()).includes(missing));
    assert.equal(called, false);
  });

  it('a request without Negotiate credentials gets a log line naming why, never the credentials', async () => {
    const m = await mint();
    const lines: string[] = [];
    const acc = createAcceptor({ keytab: m.keytab, logger: { debug: (l: string) => lines.push(l) } });
    const cases: Array<[string | undefined, RegExp]> = [
      [undefined, /challenge: NO_TOKEN: no Authorization header/],
      ['Basic YWxpY2U6c2VjcmV0', /challenge: NO_TOKEN: .*Basic/],
      ['Negotiate', /rejected: BAD_TOKEN: /],
      ['Negotiate !!!', /rejected: BAD_TOKEN: /],
    ];
    for (const [header, want] of cases) {
      const before = lines.length;
      const r = await checkAuthorization(acc, header);
      assert.equal(r.ok, false);
      const mine = lines.slice(before);
      assert.equal(mine.length, 1, `${header}: ${mine.join(' | ')}`);
      assert.match(mine[0] ?? '', want);
      if (!r.ok) assert.match(r.reason, /^(NO_TOKEN|BAD_TOKEN): /);
    }
    assert.ok(!lines.join('\n').includes('YWxpY2U6c2VjcmV0'));
  });
});
