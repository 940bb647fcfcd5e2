// Review of the HTTP layer: the caller's AbortSignal during the Kerberos work, and credentials
// that are neither a Credentials nor a principal name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, KdcUnreachableError } from '../../src/errors.js';
import { createNegotiator, negotiateFetch } from '../../src/http/fetch.js';
import type { ContextFactory } from '../../src/http/flow.js';
import { negotiate } from '../../src/http/ky.js';
import type { NegotiateOptions } from '../../src/http/options.js';
import type { Credentials } from '../../src/krb5/credentials.js';
import { acceptor, fakeFactory, serverPool } from './helpers.js';

function client(options: NegotiateOptions, factory: ContextFactory) {
  const n = createNegotiator(options, { contextFactory: factory });
  return (input: string | URL | Request, init?: RequestInit) => n.fetch(input, init, globalThis.fetch);
}

const serve = serverPool();

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

describe('review: AbortSignal during the Kerberos work', () => {
  it('an abort while the KDC is slow (401 leg) rejects at once with the abort reason', async () => {
    const s = await serve(acceptor());
    const ac = new AbortController();
    const f = client(
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
    const f = client(
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
    const f = client({}, async () => {
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
    const f = client({ opportunisticAuth: true }, factory);
    await assert.rejects(f(s.url, { signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.equal(factory.made.length, 0);
    assert.equal(s.requests.length, 0);
  });
});

describe('review: credentials option', () => {
  it('something that is neither a Credentials nor a principal name is a ConfigError, not the default ccache', () => {
    const bogus = { principal: 'alice@EXAMPLE.TEST' } as unknown as Credentials;
    for (const make of [
      () => negotiateFetch({ credentials: bogus }),
      () => negotiate({ credentials: bogus }),
    ]) {
      assert.throws(make, (e: unknown) => e instanceof ConfigError && e.code === 'BAD_OPTION' && !!e.hint);
    }
  });
});

describe('review: redirects followed by the flow', () => {
  it('a response reached through redirects says so (Response.redirected), as fetch does', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/old') {
        res.writeHead(301, { location: '/new' });
        res.end();
        return;
      }
      acceptor()(req, res);
    });
    const f = client({}, fakeFactory());
    const moved = await f(`${s.url}/old`);
    assert.equal(moved.status, 200);
    assert.equal(moved.url, `${s.url}/new`);
    assert.equal(moved.redirected, true);
    assert.equal((await f(`${s.url}/new`)).redirected, false);
    const plain = await globalThis.fetch(`${s.url}/old`);
    assert.equal(plain.redirected, true, 'what fetch itself reports');
  });
});
