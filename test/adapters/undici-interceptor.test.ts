// spnego/undici's negotiateInterceptor: the shared flow as an undici interceptor,
// `new Agent().compose(negotiateInterceptor(options))`, under undici.request, undici's fetch and
// Node's own fetch, against node:http doubles for the fake context: legs, bodies re-sent, mutual
// authentication, typed errors, large bodies streamed through, redirects followed by undici's
// redirect interceptor with each hop a request of its own.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Agent, interceptors, request, fetch as undiciFetch } from 'undici';
import { negotiateInterceptorWith } from '../../src/adapters/undici.js';
import { ConfigError, MutualAuthenticationError } from '../../src/errors.js';
import { type NegotiateOptions, REQUIRED } from '../../src/http/options.js';
import { acceptor, b64, fakeFactory, readAuthorization, serverPool } from '../http/helpers.js';

const serve = serverPool();
const agents: Agent[] = [];
after(async () => {
  for (const a of agents) await a.close();
});

function composed(options: NegotiateOptions = {}, factory = fakeFactory(), redirects = false) {
  const agent = new Agent();
  agents.push(agent);
  const negotiate = negotiateInterceptorWith(options, { contextFactory: factory });
  const d = redirects
    ? agent.compose(negotiate, interceptors.redirect({ maxRedirections: 3 }))
    : agent.compose(negotiate);
  return Object.assign(d, { factory });
}

describe('spnego/undici negotiateInterceptor', () => {
  it('undici.request: GET and POST answer the 401 with a token, the body re-sent; mutual REQUIRED verified', async () => {
    const s = await serve(acceptor());
    const d = composed({ mutualAuthentication: REQUIRED });
    const r = await request(`${s.url}/a`, { dispatcher: d });
    assert.equal(r.statusCode, 200);
    assert.equal(await r.body.text(), 'ok GET HTTP@localhost ');
    assert.equal(r.headers['x-secret'], 'content');
    const p = await request(`${s.url}/b`, { method: 'POST', body: 'posted', dispatcher: d });
    assert.equal(await p.body.text(), 'ok POST HTTP@localhost posted');
    assert.deepEqual(
      s.requests.slice(-2).map((x) => [x.headers.authorization !== undefined, x.body.toString()]),
      [
        [false, 'posted'],
        [true, 'posted'],
      ],
    );
    assert.equal(d.factory.made.length, 2);
    assert.ok(d.factory.made.every((c) => c.complete));
  });

  it("undici's fetch and Node's own fetch take the composed dispatcher", async () => {
    const s = await serve(acceptor());
    const d = composed({ mutualAuthentication: REQUIRED });
    const viaUndici = await undiciFetch(`${s.url}/c`, { dispatcher: d });
    assert.equal(await viaUndici.text(), 'ok GET HTTP@localhost ');
    const viaNode = await fetch(`${s.url}/d`, { dispatcher: d } as RequestInit);
    assert.equal(viaNode.status, 200);
    assert.equal(await viaNode.text(), 'ok GET HTTP@localhost ');
  });

  it('a mutual failure rejects with MutualAuthenticationError; a 401 without a usable answer is returned', async () => {
    const s = await serve(acceptor({ finalToken: () => undefined }));
    await assert.rejects(
      request(s.url, { dispatcher: composed({ mutualAuthentication: REQUIRED }) }),
      (e: unknown) => e instanceof MutualAuthenticationError && e.code === 'MUTUAL_AUTH_MISSING',
    );
    const denied = await serve((_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Negotiate', 'content-type': 'text/plain' });
      res.end('go away');
    });
    const r = await request(denied.url, { dispatcher: composed() });
    assert.equal(r.statusCode, 401);
    assert.equal(await r.body.text(), 'go away');
    // Bad options fail when the interceptor is made, not per request.
    assert.throws(
      () => negotiateInterceptorWith({ mutualAuthentication: 7 as never }, {}),
      (e: unknown) => e instanceof ConfigError,
    );
  });

  it('a large response body streams through intact', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 'x');
    const s = await serve((req, res) => {
      const t = readAuthorization(req.headers.authorization);
      if (t?.kind !== 'init') {
        res.writeHead(401, { 'www-authenticate': 'Negotiate' });
        res.end();
        return;
      }
      res.writeHead(200, { 'www-authenticate': `Negotiate ${b64(`final|${t.id}`)}` });
      res.end(big);
    });
    const r = await request(s.url, { dispatcher: composed({ mutualAuthentication: REQUIRED }) });
    const got = Buffer.from(await r.body.arrayBuffer());
    assert.equal(got.length, big.length);
    assert.ok(got.equals(big));
  });

  it("undici's redirect interceptor after it: each hop is a request of its own, authenticated there", async () => {
    const target = await serve(acceptor(), '127.0.0.1');
    const s = await serve((req, res) => {
      if (req.url === '/old') {
        res.writeHead(302, { location: `${target.url}/new` });
        res.end();
        return;
      }
      res.writeHead(404);
      res.end();
    });
    const d = composed({}, fakeFactory(), true);
    const r = await request(`${s.url}/old`, { dispatcher: d });
    assert.equal(r.statusCode, 200);
    assert.equal(await r.body.text(), 'ok GET HTTP@127.0.0.1 ');
    assert.equal(target.requests.at(-1)?.url, '/new');
  });

  it('a hop the client follows to another port of the same host gets no token (REDIRECT_SAME_SERVICE), by the redirect interceptor or fetch', async () => {
    const target = await serve(acceptor());
    const s = await serve((_req, res) => {
      res.writeHead(302, { location: `${target.url}/new` });
      res.end();
    });
    const d = composed({}, fakeFactory(), true);
    const r = await request(`${s.url}/old`, { dispatcher: d });
    assert.equal(r.statusCode, 401);
    await r.body.text();
    const f = await undiciFetch(`${s.url}/old2`, { dispatcher: composed() });
    assert.equal(f.status, 401);
    await f.arrayBuffer();
    assert.equal(target.requests.length, 2);
    assert.ok(target.requests.every((x) => x.headers.authorization === undefined));
    // Asked for directly, the same URL is authenticated.
    const direct = await request(`${target.url}/new`, { dispatcher: d });
    assert.equal(direct.statusCode, 200);
    await direct.body.text();
  });

  it('an abort during the exchange ends the request with the reason', async () => {
    const s = await serve(() => {
      // never answers
    });
    const ac = new AbortController();
    const pending = request(s.url, { dispatcher: composed(), signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop')), 50);
    await assert.rejects(pending, (e: unknown) => e instanceof Error && /stop|abort/i.test(e.message));
  });

  it("a path that reads as another host ('//other/x', fetch's path of https://a//b/x) stays on the dispatched origin", async () => {
    const good = await serve(acceptor());
    const other = await serve(acceptor());
    const d = composed();
    const res = await undiciFetch(`${good.url}//${new URL(other.url).host}/x?q`, { dispatcher: d });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const viaRequest = await d.request({
      origin: good.url,
      path: `/\\${new URL(other.url).host}/y`,
      method: 'GET',
    });
    await viaRequest.body.text();
    assert.equal(other.requests.length, 0, 'nothing went to the other host');
    assert.deepEqual(
      good.requests.map((r) => r.url),
      [
        `//${new URL(other.url).host}/x?q`,
        `//${new URL(other.url).host}/x?q`,
        `//${new URL(other.url).host}/y`,
        `//${new URL(other.url).host}/y`,
      ],
    );
  });
});
