// The Negotiate flow through negotiateFetch's engine, against node:http servers and a fake
// security context: requests-gssapi's behaviours, multi-leg, redirects, concurrency.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConfigError,
  KdcUnreachableError,
  KerberosError,
  MutualAuthenticationError,
} from '../../src/errors.js';
import { createNegotiator, defaultContextFactory, negotiateFetch } from '../../src/http/fetch.js';
import { type ContextFactory, MAX_LEGS } from '../../src/http/flow.js';
import { negotiate } from '../../src/http/ky.js';
import { DISABLED, type NegotiateOptions, OPTIONAL, REQUIRED } from '../../src/http/options.js';
import { type Credentials, Credentials as CredentialsClass } from '../../src/krb5/credentials.js';
import { mint, service } from '../gss/helpers.js';
import { acceptor, b64, fakeFactory, readAuthorization, serverPool } from './helpers.js';

function client(options: NegotiateOptions = {}, factory = fakeFactory()) {
  const n = createNegotiator(options, { contextFactory: factory });
  const f = (input: string | URL | Request, init?: RequestInit) => n.fetch(input, init, globalThis.fetch);
  return Object.assign(f, { factory });
}

const serve = serverPool();

describe('negotiateFetch: the basic exchange', () => {
  it('answers a 401 Negotiate with a token for HTTP@<host> and returns the 200', async () => {
    const s = await serve(acceptor());
    const f = client();
    const res = await f(`${s.url}/x`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok GET HTTP@localhost ');
    assert.equal(s.requests.length, 2);
    assert.equal(s.requests[0]?.headers.authorization, undefined);
    assert.equal(readAuthorization(s.requests[1]?.headers.authorization)?.target, 'HTTP@localhost');
  });

  it('returns a 401 without Negotiate untouched, after one request', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="x"', 'x-kept': '1' });
      res.end('basic please');
    });
    const f = client();
    const res = await f(s.url);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-kept'), '1');
    assert.equal(await res.text(), 'basic please');
    assert.equal(s.requests.length, 1);
    assert.equal(f.factory.made.length, 0);
  });

  it('logs and returns the 401 when no token can be built locally, without looping', async () => {
    const s = await serve(acceptor());
    const lines: string[] = [];
    const n = createNegotiator(
      { logger: { debug: (m) => lines.push(m) } },
      {
        contextFactory: async () => {
          throw new KerberosError(7, 'KDC_ERR_S_PRINCIPAL_UNKNOWN', 'Server not found in Kerberos database');
        },
      },
    );
    const res = await n.fetch(s.url, undefined, globalThis.fetch);
    assert.equal(res.status, 401);
    assert.equal(await res.text(), 'denied');
    assert.equal(s.requests.length, 1);
    assert.ok(
      lines.some((l) => l.includes('KDC_ERR_S_PRINCIPAL_UNKNOWN') || l.includes('Server not found')),
      lines.join('\n'),
    );
  });

  it('opportunistic: one round trip with the token on the first request', async () => {
    const s = await serve(acceptor());
    const f = client({ opportunisticAuth: true, mutualAuthentication: REQUIRED });
    const res = await f(s.url);
    assert.equal(res.status, 200);
    assert.equal(s.requests.length, 1);
    assert.equal(f.factory.made[0]?.complete, true);
  });

  it('targetName: a bare service gets the URL host, an explicit name is used as given', async () => {
    const s = await serve(acceptor({ expectTarget: 'HTTP/localhost@EXAMPLE.TEST' }), '127.0.0.1');
    const res = await client({ targetName: 'HTTP/localhost@EXAMPLE.TEST' })(s.url);
    assert.equal(res.status, 200);
    const s2 = await serve(acceptor({ expectTarget: 'svc@127.0.0.1' }), '127.0.0.1');
    assert.equal((await client({ targetName: 'svc' })(s2.url)).status, 200);
  });

  it('never logs a whole token', async () => {
    const s = await serve(acceptor());
    const lines: string[] = [];
    const f = createNegotiator(
      { logger: { debug: (m) => lines.push(m) }, mutualAuthentication: REQUIRED },
      { contextFactory: fakeFactory() },
    );
    await f.fetch(s.url, undefined, globalThis.fetch);
    const sent = s.requests[1]?.headers.authorization?.slice('Negotiate '.length) ?? '';
    assert.ok(sent.length > 10);
    assert.ok(lines.length >= 4, lines.join('\n'));
    for (const l of lines) assert.ok(!l.includes(sent), l);
    assert.ok(lines.some((l) => /target HTTP@localhost/.test(l)));
    assert.ok(lines.some((l) => /mutual authentication .* verified/.test(l)));
    assert.ok(lines.some((l) => /initial token \(\d+ bytes, sha256:[0-9a-f]{8}\)/.test(l)));
  });
});

describe('negotiateFetch: mutual authentication', () => {
  it('REQUIRED: a 200 without a final token is a MutualAuthenticationError', async () => {
    const s = await serve(acceptor({ finalToken: () => undefined }));
    await assert.rejects(client({ mutualAuthentication: REQUIRED })(s.url), MutualAuthenticationError);
  });

  it('REQUIRED: a 200 with a bad final token is a MutualAuthenticationError', async () => {
    const s = await serve(acceptor({ finalToken: () => 'final|999999' }));
    await assert.rejects(
      client({ mutualAuthentication: REQUIRED })(s.url),
      (e: unknown) => e instanceof MutualAuthenticationError,
    );
  });

  it('REQUIRED: a 200 whose token does not complete the context is refused', async () => {
    const s = await serve(acceptor({ finalToken: (id) => `more|${id}|1` }));
    await assert.rejects(
      client({ mutualAuthentication: REQUIRED })(s.url),
      (e: unknown) => e instanceof MutualAuthenticationError && e.code === 'MUTUAL_AUTH_INCOMPLETE',
    );
  });

  it('REQUIRED: a good final token is verified and the context completed', async () => {
    const s = await serve(acceptor());
    const f = client({ mutualAuthentication: REQUIRED });
    const res = await f(s.url);
    assert.equal(res.status, 200);
    assert.equal(f.factory.made.length, 1);
    assert.equal(f.factory.made[0]?.complete, true);
    assert.equal(f.factory.made[0]?.req.mutual, true);
  });

  it('OPTIONAL: no token → the response is returned', async () => {
    const s = await serve(acceptor({ finalToken: () => undefined }));
    const res = await client({ mutualAuthentication: OPTIONAL })(s.url);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^ok GET/);
  });

  it('OPTIONAL: a bad token is an error', async () => {
    const s = await serve(acceptor({ finalToken: () => 'final|nope' }));
    await assert.rejects(client({ mutualAuthentication: OPTIONAL })(s.url), MutualAuthenticationError);
  });

  it('DISABLED (default): the server token is ignored and mutual is not requested', async () => {
    const s = await serve(acceptor({ finalToken: () => 'final|nope' }));
    const f = client();
    assert.equal((await f(s.url)).status, 200);
    assert.equal(f.factory.made[0]?.req.mutual, false);
    const f2 = client({ mutualAuthentication: DISABLED });
    assert.equal((await f2(s.url)).status, 200);
  });

  it('REQUIRED: a 500 without a token is sanitized (status, Date, Server, content-length 0)', async () => {
    const s = await serve((req, res) => {
      if (!req.headers.authorization) {
        res.writeHead(401, { 'www-authenticate': 'Negotiate' });
        res.end();
        return;
      }
      res.writeHead(500, { server: 'test-server', 'x-secret': 'leak', 'content-type': 'text/plain' });
      res.end('stack trace with secrets');
    });
    const res = await client({ mutualAuthentication: REQUIRED })(s.url);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), '');
    assert.deepEqual([...res.headers.keys()].sort(), ['content-length', 'date', 'server']);
    assert.equal(res.headers.get('server'), 'test-server');
    assert.equal(res.headers.get('content-length'), '0');
    assert.equal(res.url, `${s.url}/`);

    const raw = await client({ mutualAuthentication: REQUIRED, sanitizeMutualErrorResponse: false })(s.url);
    assert.equal(raw.status, 500);
    assert.equal(raw.headers.get('x-secret'), 'leak');
    assert.equal(await raw.text(), 'stack trace with secrets');
  });

  it('checks mutual authentication on a final 3xx too (redirect: manual)', async () => {
    const s = await serve((req, res) => {
      const t = readAuthorization(req.headers.authorization);
      if (!t) {
        res.writeHead(401, { 'www-authenticate': 'Negotiate' });
        res.end();
        return;
      }
      const headers: Record<string, string> = { location: '/elsewhere' };
      if (req.url === '/good') headers['www-authenticate'] = `Negotiate ${b64(`final|${t.id}`)}`;
      res.writeHead(302, headers);
      res.end();
    });
    const f = client({ mutualAuthentication: REQUIRED });
    const good = await f(`${s.url}/good`, { redirect: 'manual' });
    assert.equal(good.status, 302);
    assert.equal(f.factory.made[0]?.complete, true);
    await assert.rejects(f(`${s.url}/bad`, { redirect: 'manual' }), MutualAuthenticationError);
  });
});

describe('negotiateFetch: legs', () => {
  it('continues the same context across 401s with tokens (multi-leg)', async () => {
    const s = await serve((req, res) => {
      const t = readAuthorization(req.headers.authorization);
      if (!t) {
        res.writeHead(401, { 'www-authenticate': 'Negotiate' });
        res.end();
      } else if (t.kind === 'init') {
        res.writeHead(401, { 'www-authenticate': `Negotiate ${b64(`more|${t.id}|1`)}` });
        res.end();
      } else if (t.kind === 'cont') {
        res.writeHead(200, { 'www-authenticate': `Negotiate ${b64(`final|${t.id}`)}` });
        res.end(`done ${t.id}`);
      }
    });
    const f = client({ mutualAuthentication: REQUIRED });
    const res = await f(s.url, { method: 'POST', body: 'payload' });
    assert.equal(res.status, 200);
    assert.equal(s.requests.length, 3);
    assert.equal(f.factory.made.length, 1, 'one context for all legs');
    assert.equal(await res.text(), `done ${f.factory.made[0]?.id}`);
    assert.deepEqual(
      s.requests.map((r) => r.body.toString()),
      ['payload', 'payload', 'payload'],
    );
  });

  it('an endless 401 with tokens ends with the 401 after a bounded number of legs', async () => {
    const s = await serve((req, res) => {
      const t = readAuthorization(req.headers.authorization);
      res.writeHead(401, { 'www-authenticate': t ? `Negotiate ${b64(`more|${t.id}|x`)}` : 'Negotiate' });
      res.end('again');
    });
    const res = await client({ mutualAuthentication: REQUIRED })(s.url);
    assert.equal(res.status, 401);
    assert.equal(await res.text(), 'again');
    assert.equal(s.requests.length, MAX_LEGS + 1);
  });

  it('a 401 Negotiate after our token (rejected) is returned without retrying', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Negotiate' });
      res.end();
    });
    const res = await client()(s.url);
    assert.equal(res.status, 401);
    assert.equal(s.requests.length, 2);
  });

  it('a 401 with a corrupt token mid-exchange returns the 401', async () => {
    const s = await serve((req, res) => {
      res.writeHead(401, { 'www-authenticate': req.headers.authorization ? 'Negotiate %%%%' : 'Negotiate' });
      res.end();
    });
    const res = await client()(s.url);
    assert.equal(res.status, 401);
    assert.equal(s.requests.length, 2);
  });
});

describe('negotiateFetch: redirects and origins', () => {
  it('a redirect to another origin carries no Authorization there and starts afresh, without delegation', async () => {
    const b = await serve(acceptor(), '127.0.0.1');
    const a = await serve((req, res) => {
      if (!readAuthorization(req.headers.authorization)) {
        res.writeHead(401, { 'www-authenticate': 'Negotiate' });
        res.end();
        return;
      }
      res.writeHead(307, { location: `${b.url}/landed` });
      res.end();
    });
    const f = client({ delegate: true });
    const res = await f(`${a.url}/start`, {
      method: 'PUT',
      body: 'data',
      headers: { authorization: 'Bearer user-secret', cookie: 'c=1' },
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok PUT HTTP@127.0.0.1 data');
    assert.equal(b.requests[0]?.headers.authorization, undefined, 'no Authorization on arrival');
    assert.equal(b.requests[0]?.headers.cookie, undefined);
    const atB = readAuthorization(b.requests[1]?.headers.authorization);
    assert.equal(atB?.target, 'HTTP@127.0.0.1');
    assert.equal(atB?.delegate, 'false', 'no delegation to an origin the user did not name');
    const atA = readAuthorization(a.requests[1]?.headers.authorization);
    assert.equal(atA?.target, 'HTTP@localhost');
    assert.equal(atA?.delegate, 'true');
    assert.equal(
      a.requests[0]?.headers.authorization,
      'Bearer user-secret',
      'the user header goes to the named origin',
    );
  });

  it('an explicit targetName is not reused for another origin', async () => {
    const b = await serve(acceptor(), '127.0.0.1');
    const a = await serve((_req, res) => {
      res.writeHead(302, { location: `${b.url}/` });
      res.end();
    });
    const res = await client({ targetName: 'HTTP/a.example@EXAMPLE.TEST', opportunisticAuth: true })(a.url);
    assert.equal(res.status, 200);
    assert.equal(
      readAuthorization(a.requests[0]?.headers.authorization)?.target,
      'HTTP/a.example@EXAMPLE.TEST',
    );
    assert.equal(b.requests[0]?.headers.authorization, undefined, 'no opportunistic token to a stranger');
    assert.equal(readAuthorization(b.requests[1]?.headers.authorization)?.target, 'HTTP@127.0.0.1');
  });

  it('303 after POST turns into a GET without body; 307 keeps method and body', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/see-other') {
        res.writeHead(303, { location: '/target' });
        res.end();
      } else if (req.url === '/temp') {
        res.writeHead(307, { location: '/target' });
        res.end();
      } else {
        res.writeHead(200);
        res.end(`${req.method} ${req.body.toString()} ${req.headers['content-type'] ?? '-'}`);
      }
    });
    const f = client();
    assert.equal(await (await f(`${s.url}/see-other`, { method: 'POST', body: 'b' })).text(), 'GET  -');
    assert.equal(
      await (await f(`${s.url}/temp`, { method: 'POST', body: 'b' })).text(),
      'POST b text/plain;charset=UTF-8',
    );
  });
});

describe('negotiateFetch: concurrency', () => {
  it('100 concurrent requests to two hosts are all authenticated with their own context', async () => {
    const h1 = await serve(acceptor({ expectTarget: 'HTTP@localhost' }), 'localhost');
    const h2 = await serve(acceptor({ expectTarget: 'HTTP@127.0.0.1' }), '127.0.0.1');
    const f = client({ mutualAuthentication: REQUIRED });
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const s = i % 2 === 0 ? h1 : h2;
        const res = await f(`${s.url}/r${i}`, { method: 'POST', body: `n=${i}` });
        return { i, status: res.status, text: await res.text() };
      }),
    );
    for (const r of results) {
      assert.equal(r.status, 200);
      assert.equal(r.text, `ok POST HTTP@${r.i % 2 === 0 ? 'localhost' : '127.0.0.1'} n=${r.i}`);
    }
    assert.equal(f.factory.made.length, 100);
    assert.ok(f.factory.made.every((c) => c.complete));
  });
});

// The HTTP layer with a plain fetch: the caller's AbortSignal during the Kerberos work, and
// credentials that are neither a Credentials nor a principal name.
function plainClient(options: NegotiateOptions, factory: ContextFactory) {
  const n = createNegotiator(options, { contextFactory: factory });
  return (input: string | URL | Request, init?: RequestInit) => n.fetch(input, init, globalThis.fetch);
}

/**
 * A KDC that never answers: the factory's promise never settles. It is kept reachable, as a real
 * socket would keep it, and `onCall` runs once the Kerberos work has started.
 */
const hanging: Array<Promise<never>> = [];
function stuck(onCall: () => void): ContextFactory {
  return () => {
    const p = new Promise<never>(() => undefined);
    hanging.push(p);
    setTimeout(onCall, 20);
    return p;
  };
}

/** The outcome of `p`, or 'still pending' after `ms`: a hang fails the test instead of stalling it. */
async function settle(p: Promise<Response>, ms = 2000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('still pending'), ms);
  });
  try {
    return await Promise.race([
      p.then(
        (r) => `status ${r.status}`,
        (e: unknown) => e,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('AbortSignal during the Kerberos work', () => {
  it('an abort while the KDC is slow (401 leg) rejects at once with the abort reason', async () => {
    const s = await serve(acceptor());
    const ac = new AbortController();
    const f = plainClient(
      {},
      stuck(() => ac.abort()),
    );
    const outcome = await settle(f(s.url, { signal: ac.signal }));
    assert.ok(outcome instanceof Error && outcome.name === 'AbortError', String(outcome));
    assert.equal(s.requests.length, 1);
  });

  it('opportunistic: an abort while the KDC is slow rejects and sends nothing', async () => {
    const s = await serve(acceptor());
    const ac = new AbortController();
    const f = plainClient(
      { opportunisticAuth: true },
      stuck(() => ac.abort(new Error('user gave up'))),
    );
    const outcome = await settle(f(s.url, { signal: ac.signal }));
    assert.ok(outcome instanceof Error && outcome.message === 'user gave up', String(outcome));
    assert.equal(s.requests.length, 0);
  });

  it('an abort that makes the Kerberos work fail rejects, instead of returning the 401', async () => {
    const s = await serve(acceptor());
    const ac = new AbortController();
    const f = plainClient({}, async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      ac.abort();
      throw new KdcUnreachableError('KDC_UNREACHABLE', 'aborted while talking to the KDC');
    });
    const outcome = await settle(f(s.url, { signal: ac.signal }));
    assert.ok(outcome instanceof Error && outcome.name === 'AbortError', String(outcome));
  });

  it('an already aborted signal never starts the Kerberos work', async () => {
    const s = await serve(acceptor());
    const factory = fakeFactory();
    const f = plainClient({ opportunisticAuth: true }, factory);
    await assert.rejects(f(s.url, { signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.equal(factory.made.length, 0);
    assert.equal(s.requests.length, 0);
  });
});

describe('credentials option', () => {
  it('something that is neither a Credentials nor a principal name is a ConfigError, not the default ccache', () => {
    const bogus = { principal: 'alice@EXAMPLE.TEST' } as unknown as Credentials;
    for (const make of [
      () => negotiateFetch({ credentials: bogus }),
      () => negotiate({ credentials: bogus }),
    ]) {
      assert.throws(make, (e: unknown) => e instanceof ConfigError && e.code === 'BAD_OPTION' && !!e.hint);
    }
  });

  it('a Credentials is told apart without the class (the entry loads it with the first token): built ones pass, lookalikes do not', async () => {
    const { credentials } = await mint();
    assert.doesNotThrow(() => negotiateFetch({ credentials }));
    assert.doesNotThrow(() => negotiate({ credentials }));
    // An object carrying the prototype but never built by the class has none of its state.
    const hollow = Object.create(CredentialsClass.prototype) as Credentials;
    assert.throws(
      () => negotiateFetch({ credentials: hollow }),
      (e: unknown) => e instanceof ConfigError && e.code === 'BAD_OPTION',
    );
  });

  it('the credentials checked at creation are the ones used: the options object changed later does not send requests as the default ccache', async () => {
    const { credentials } = await mint();
    const o: NegotiateOptions = { credentials };
    const contexts = defaultContextFactory(o);
    o.credentials = { principal: 'mallory@GSS.TEST' } as unknown as Credentials;
    const saved = process.env['KRB5CCNAME'];
    process.env['KRB5CCNAME'] = 'FILE:/nonexistent/spnego-test-ccache';
    try {
      const ctx = await contexts({ target: service, mutual: false, delegate: false });
      assert.ok(
        ((await ctx.step()).token?.length ?? 0) > 0,
        "a token from the chosen Credentials (alice's ticket)",
      );
    } finally {
      if (saved === undefined) delete process.env['KRB5CCNAME'];
      else process.env['KRB5CCNAME'] = saved;
    }
  });
});

describe('redirects followed by the flow', () => {
  it('a response reached through redirects says so (Response.redirected), as fetch does', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/old') {
        res.writeHead(301, { location: '/new' });
        res.end();
        return;
      }
      acceptor()(req, res);
    });
    const f = plainClient({}, fakeFactory());
    const moved = await f(`${s.url}/old`);
    assert.equal(moved.status, 200);
    assert.equal(moved.url, `${s.url}/new`);
    assert.equal(moved.redirected, true);
    assert.equal((await f(`${s.url}/new`)).redirected, false);
    const plain = await globalThis.fetch(`${s.url}/old`);
    assert.equal(plain.redirected, true, 'what fetch itself reports');
  });
});
