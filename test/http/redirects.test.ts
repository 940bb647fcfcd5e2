// Redirects followed by the flow: where a token may go after one (never in clear text once the
// request has been on https; never to another origin of the service asked for unless the caller
// trusts it, curl's --location-trusted), and redirects fetch would refuse (a loop past 20, a
// Location that does not parse, a non-HTTP scheme) failing as fetch fails, with a TypeError.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import ky, { NetworkError } from 'ky';
import { curlCommand } from '../../src/cli/curl.js';
import { SpnegoError } from '../../src/errors.js';
import { createNegotiator, type FetchLike } from '../../src/http/fetch.js';
import { MAX_REDIRECTS, negotiateFailure } from '../../src/http/flow.js';
import { negotiateWith } from '../../src/http/ky.js';
import { type NegotiateOptions, REQUIRED } from '../../src/http/options.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { MiniKdc } from '../../src/testing/index.js';
import { acceptor, b64, fakeFactory, readAuthorization, type SeenToken, serverPool } from './helpers.js';

const serve = serverPool();

interface Seen {
  url: string;
  token: SeenToken | undefined;
}

/**
 * A fetch double answering by origin, so https origins need no TLS here: each route is either a
 * redirect (`→ <url>`) or a Negotiate acceptor for the fake context (401 until a token arrives,
 * then 200 with the final token). Every request is recorded with the token it carried.
 */
function routes(table: Record<string, string>): FetchLike & { seen: Seen[] } {
  const seen: Seen[] = [];
  const f = (async (input: string | URL | Request, init?: RequestInit) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const token = readAuthorization(req.headers.get('authorization') ?? undefined);
    seen.push({ url: req.url, token });
    const route = table[url.origin];
    if (route === undefined) throw new Error(`no route for ${url.origin}`);
    let res: Response;
    if (route.startsWith('→ '))
      res = new Response(null, { status: 302, headers: { location: route.slice(2) } });
    else if (!token)
      res = new Response('denied', { status: 401, headers: { 'www-authenticate': 'Negotiate' } });
    else
      res = new Response(`hello ${token.target}`, {
        headers: { 'www-authenticate': `Negotiate ${b64(`final|${token.id}`)}` },
      });
    Object.defineProperty(res, 'url', { value: req.url });
    return res;
  }) as FetchLike & { seen: Seen[] };
  f.seen = seen;
  return f;
}

function client(options: NegotiateOptions, f: FetchLike) {
  const n = createNegotiator(options, { contextFactory: fakeFactory() });
  return (url: string) => n.fetch(url, undefined, f);
}

const tokensTo = (f: { seen: Seen[] }, origin: string): SeenToken[] =>
  f.seen.filter((s) => new URL(s.url).origin === origin && s.token).map((s) => s.token as SeenToken);

describe('redirects: no token in clear text once the request was on https', () => {
  it('https://host → http://host: the 401 comes back, no token is sent, negotiateFailure says why', async () => {
    const f = routes({ 'https://app.example': '→ http://app.example/', 'http://app.example': 'acceptor' });
    for (const trust of [false, true]) {
      const res = await client({ trustSameServiceRedirects: trust }, f)('https://app.example/');
      assert.equal(res.status, 401);
      assert.equal(tokensTo(f, 'http://app.example').length, 0, `trustSameServiceRedirects: ${trust}`);
      const why = negotiateFailure(res);
      assert.ok(why instanceof SpnegoError);
      assert.equal(why.code, 'CLEARTEXT_AFTER_HTTPS');
      assert.ok(why.hint);
    }
  });

  it('https://a → http://b (another host): no token in clear text either', async () => {
    const f = routes({ 'https://a.example': '→ http://b.example/x', 'http://b.example': 'acceptor' });
    const res = await client({}, f)('https://a.example/');
    assert.equal(res.status, 401);
    assert.equal(tokensTo(f, 'http://b.example').length, 0);
  });

  it('http://a → https://b → http://c: once on https, no token to c in clear', async () => {
    const f = routes({
      'http://a.example': '→ https://b.example/',
      'https://b.example': '→ http://c.example/',
      'http://c.example': 'acceptor',
    });
    const res = await client({}, f)('http://a.example/');
    assert.equal(res.status, 401);
    assert.equal(tokensTo(f, 'http://c.example').length, 0);
    assert.equal(negotiateFailure(res)?.code, 'CLEARTEXT_AFTER_HTTPS');
  });

  it('http://host → https://host: the upgrade of the same host on the default ports is authenticated', async () => {
    const f = routes({ 'http://app.example': '→ https://app.example/', 'https://app.example': 'acceptor' });
    const res = await client({ mutualAuthentication: REQUIRED }, f)('http://app.example/');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello HTTP@app.example');
  });

  it('http://host → https://host on another port: refused by default (whoever listens there could relay it), authenticated with trustSameServiceRedirects', async () => {
    for (const [from, to] of [
      ['http://app.example', 'https://app.example:8443'],
      ['http://app.example:8080', 'https://app.example:8443'],
      ['http://app.example:8080', 'https://app.example'],
    ] as const) {
      const f = routes({ [from]: `→ ${to}/`, [to]: 'acceptor' });
      const res = await client({}, f)(`${from}/`);
      assert.equal(res.status, 401, `${from} → ${to}`);
      assert.equal(tokensTo(f, to).length, 0);
      assert.equal(negotiateFailure(res)?.code, 'REDIRECT_SAME_SERVICE');
      const g = routes({ [from]: `→ ${to}/`, [to]: 'acceptor' });
      const ok = await client(
        { trustSameServiceRedirects: true, mutualAuthentication: REQUIRED },
        g,
      )(`${from}/`);
      assert.equal(ok.status, 200, `${from} → ${to} trusted`);
    }
  });
});

describe("redirects: the requested origin's service principal goes to no other origin", () => {
  it('https://host → https://host:8443: refused by default, authenticated with trustSameServiceRedirects', async () => {
    const f = routes({
      'https://app.example': '→ https://app.example:8443/',
      'https://app.example:8443': 'acceptor',
    });
    const refused = await client({}, f)('https://app.example/');
    assert.equal(refused.status, 401);
    assert.equal(tokensTo(f, 'https://app.example:8443').length, 0);
    assert.equal(negotiateFailure(refused)?.code, 'REDIRECT_SAME_SERVICE');
    assert.match(negotiateFailure(refused)?.hint ?? '', /trustSameServiceRedirects/);

    const trusted = await client(
      { trustSameServiceRedirects: true, delegate: true },
      f,
    )('https://app.example/');
    assert.equal(trusted.status, 200);
    const [token] = tokensTo(f, 'https://app.example:8443');
    assert.equal(token?.target, 'HTTP@app.example');
    assert.equal(token?.delegate, 'false', 'trusting a redirect does not extend delegation');
  });

  it('http://localhost:A → http://localhost:B (another port, plain http): refused too', async () => {
    const b = await serve(acceptor());
    const a = await serve((_req, res) => {
      res.writeHead(307, { location: `${b.url}/x` });
      res.end();
    });
    const f = client({}, globalThis.fetch);
    const res = await f(`${a.url}/`);
    assert.equal(res.status, 401);
    assert.equal(b.requests.length, 1);
    assert.equal(b.requests[0]?.headers.authorization, undefined);
    const trusted = await client({ trustSameServiceRedirects: true }, globalThis.fetch)(`${a.url}/`);
    assert.equal(trusted.status, 200);
    assert.equal(await trusted.text(), 'ok GET HTTP@localhost ');
  });

  it("an explicit targetName is the requested origin's principal: another host under it is refused", async () => {
    const f = routes({ 'https://lb.example': '→ https://web.example/', 'https://web.example': 'acceptor' });
    const res = await client({ targetName: 'HTTP/web.example@EXAMPLE.TEST' }, f)('https://lb.example/');
    assert.equal(res.status, 401);
    assert.equal(tokensTo(f, 'https://web.example').length, 0);
    assert.equal(negotiateFailure(res)?.code, 'REDIRECT_SAME_SERVICE');
  });

  it('another host, which needs its own ticket, is authenticated there (requests-gssapi)', async () => {
    const f = routes({ 'https://a.example': '→ https://b.example/', 'https://b.example': 'acceptor' });
    const res = await client({ mutualAuthentication: REQUIRED }, f)('https://a.example/');
    assert.equal(res.status, 200);
    assert.deepEqual(
      tokensTo(f, 'https://b.example').map((t) => t.target),
      ['HTTP@b.example'],
    );
  });

  it('ky hooks follow the same rules', async () => {
    const f = routes({ 'https://app.example': '→ http://app.example/', 'http://app.example': 'acceptor' });
    const api = ky.extend({ fetch: f, ...negotiateWith({}, { contextFactory: fakeFactory() }), retry: 0 });
    const res = await api.get('https://app.example/', { throwHttpErrors: false });
    assert.equal(res.status, 401);
    assert.equal(tokensTo(f, 'http://app.example').length, 0);
    const port = routes({
      'https://app.example': '→ https://app.example:8443/',
      'https://app.example:8443': 'acceptor',
    });
    const trusted = ky.extend({
      fetch: port,
      ...negotiateWith({ trustSameServiceRedirects: true }, { contextFactory: fakeFactory() }),
    });
    assert.equal(await trusted.get('https://app.example/').text(), 'hello HTTP@app.example');
  });
});

describe('redirects: another name of the same host (DNS canonicalization) is the same host', () => {
  // alias.canon.test is a CNAME of web.canon.test: `HTTP@alias.canon.test` gets a ticket for
  // HTTP/web.canon.test, as MIT's krb5_sname_to_principal makes it (dns_canonicalize_hostname).
  // A token for the requested origin's principal must not reach another port of that host
  // under its other name any more than under its own.
  let kdc: MiniKdc;
  let creds: Credentials;
  before(async () => {
    kdc = await MiniKdc.start({
      realm: 'CANON.TEST',
      principals: [{ name: 'alice', password: 'pw' }, 'HTTP/web.canon.test', 'HTTP/other.canon.test'],
    });
    creds = await Credentials.fromPassword('alice@CANON.TEST', 'pw', {
      config: kdc.clientConfig({ libdefaults: { dns_canonicalize_hostname: 'true', rdns: 'false' } }),
      dns: {
        resolveSrv: async () => [],
        resolveTxt: async () => [],
        canonicalHost: async (host) => (host === 'alias.canon.test' ? 'web.canon.test' : undefined),
      },
    });
  });
  after(async () => {
    await kdc?.stop();
  });

  /** Redirects as `table` says; elsewhere 401 until a token arrives, then 200. */
  function hosts(table: Record<string, string>): FetchLike & { tokens: string[] } {
    const tokens: string[] = [];
    const f = (async (input: string | URL | Request, init?: RequestInit) => {
      const req = new Request(input, init);
      const origin = new URL(req.url).origin;
      const to = table[origin];
      if (to !== undefined) return new Response(null, { status: 302, headers: { location: to } });
      if (req.headers.get('authorization') === null)
        return new Response('denied', { status: 401, headers: { 'www-authenticate': 'Negotiate' } });
      tokens.push(origin);
      return new Response('ok');
    }) as FetchLike & { tokens: string[] };
    f.tokens = tokens;
    return f;
  }
  const fetchWith =
    (f: FetchLike, o: NegotiateOptions = {}) =>
    (url: string) =>
      createNegotiator({ credentials: creds, ...o }).fetch(url, undefined, f);

  it('http://web → http://alias:8080 (the same principal on another port): refused, as http://web:8080 is', async () => {
    const f = hosts({ 'http://web.canon.test': 'http://alias.canon.test:8080/' });
    const res = await fetchWith(f)('http://web.canon.test/');
    assert.equal(res.status, 401);
    assert.deepEqual(f.tokens, []);
    assert.equal(negotiateFailure(res)?.code, 'REDIRECT_SAME_SERVICE');
    assert.match(negotiateFailure(res)?.message ?? '', /HTTP\/web\.canon\.test/);
    const trusted = await fetchWith(f, { trustSameServiceRedirects: true })('http://web.canon.test/');
    assert.equal(trusted.status, 200);
    assert.deepEqual(f.tokens, ['http://alias.canon.test:8080']);
  });

  it('the named origin authenticated first (its principal known): the other name on another port is refused too', async () => {
    const tokens: string[] = [];
    const f = (async (input: string | URL | Request, init?: RequestInit) => {
      const req = new Request(input, init);
      const origin = new URL(req.url).origin;
      if (req.headers.get('authorization') === null)
        return new Response('denied', { status: 401, headers: { 'www-authenticate': 'Negotiate' } });
      tokens.push(origin);
      return origin === 'http://alias.canon.test'
        ? new Response(null, { status: 302, headers: { location: 'http://web.canon.test:8080/' } })
        : new Response('ok');
    }) as FetchLike;
    const res = await fetchWith(f)('http://alias.canon.test/');
    assert.equal(res.status, 401);
    assert.deepEqual(tokens, ['http://alias.canon.test']);
    assert.equal(negotiateFailure(res)?.code, 'REDIRECT_SAME_SERVICE');
  });

  it('the same scheme and port under the other name is the same server: authenticated', async () => {
    const f = hosts({ 'http://alias.canon.test': 'http://web.canon.test/' });
    assert.equal((await fetchWith(f)('http://alias.canon.test/')).status, 200);
    assert.deepEqual(f.tokens, ['http://web.canon.test']);
  });

  it('another host with a principal of its own, on another port: authenticated there', async () => {
    const f = hosts({ 'http://web.canon.test': 'http://other.canon.test:8080/' });
    assert.equal((await fetchWith(f)('http://web.canon.test/')).status, 200);
    assert.deepEqual(f.tokens, ['http://other.canon.test:8080']);
  });
});

describe('redirects fetch refuses fail as fetch fails (TypeError)', () => {
  const isNetworkError = (code: string) => (e: unknown) =>
    e instanceof TypeError &&
    e.message === 'fetch failed' &&
    e.cause instanceof SpnegoError &&
    e.cause.code === code &&
    e.cause.hint !== undefined;

  it(`more than ${MAX_REDIRECTS} redirects: a TypeError, as fetch; ${MAX_REDIRECTS} are followed`, async () => {
    const s = await serve((req, res) => {
      const n = Number(req.url.split('/')[2]);
      if (n > 0) {
        res.writeHead(302, { location: `/hop/${n - 1}` });
        res.end();
      } else acceptor()(req, res);
    });
    const f = client({}, globalThis.fetch);
    const ok = await f(`${s.url}/hop/${MAX_REDIRECTS}`);
    assert.equal(ok.status, 200);
    assert.equal((await globalThis.fetch(`${s.url}/hop/${MAX_REDIRECTS}`)).status, 401, 'what fetch follows');
    await assert.rejects(f(`${s.url}/hop/${MAX_REDIRECTS + 1}`), isNetworkError('REDIRECT_LIMIT'));
    await assert.rejects(globalThis.fetch(`${s.url}/hop/${MAX_REDIRECTS + 1}`), TypeError, 'what fetch does');
  });

  it('a Location that does not parse and a non-HTTP scheme: TypeError, like fetch', async () => {
    const s = await serve((req, res) => {
      res.writeHead(302, { location: req.url === '/ftp' ? 'ftp://files.example/x' : 'http://[::1' });
      res.end();
    });
    const f = client({}, globalThis.fetch);
    await assert.rejects(f(`${s.url}/broken`), isNetworkError('BAD_REDIRECT_LOCATION'));
    await assert.rejects(f(`${s.url}/ftp`), isNetworkError('REDIRECT_SCHEME'));
    await assert.rejects(globalThis.fetch(`${s.url}/broken`), TypeError);
    await assert.rejects(globalThis.fetch(`${s.url}/ftp`), TypeError);
    // redirect: 'manual' hands the 3xx back untouched, as fetch does.
    const n = createNegotiator({}, { contextFactory: fakeFactory() });
    const raw = await n.fetch(`${s.url}/ftp`, { redirect: 'manual' }, globalThis.fetch);
    assert.equal(raw.status, 302);
  });

  it('ky reports them as its NetworkError (and may retry them)', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(302, { location: '/loop' });
      res.end();
    });
    const api = ky.extend({ ...negotiateWith({}, { contextFactory: fakeFactory() }), retry: 0 });
    await assert.rejects(
      api.get(`${s.url}/loop`),
      (e: unknown) => e instanceof NetworkError && isNetworkError('REDIRECT_LIMIT')(e.cause),
    );
  });
});

describe('spnego curl and redirects', () => {
  async function curl(argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await curlCommand(
      argv,
      { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
      { contextFactory: fakeFactory() },
    );
    return { code, stdout, stderr };
  }

  it('another port of the same host: exit 22 with the reason; --location-trusted authenticates', async () => {
    const b = await serve(acceptor());
    const a = await serve((_req, res) => {
      res.writeHead(302, { location: `${b.url}/x` });
      res.end();
    });
    const refused = await curl([`${a.url}/`]);
    assert.equal(refused.code, 22);
    assert.match(refused.stderr, /REDIRECT_SAME_SERVICE: .*\nhint: .*--location-trusted/);
    const trusted = await curl(['--location-trusted', `${a.url}/`]);
    assert.equal(trusted.code, 0, trusted.stderr);
    assert.equal(trusted.stdout, 'ok GET HTTP@localhost ');
  });

  it('a redirect loop exits 47, as curl does', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(302, { location: '/loop' });
      res.end();
    });
    const r = await curl([`${s.url}/loop`]);
    assert.equal(r.code, 47);
    assert.match(r.stderr, /fetch failed: SpnegoError REDIRECT_LIMIT: /);
  });
});
