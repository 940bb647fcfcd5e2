// negotiateFailure(response): why a 401 was left unauthenticated, reachable in code for fetch and
// for ky (1 and 2) users' HTTPError.response; and the warning a local failure gives, once for a
// run of identical failures, without debug logging turned on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import ky2, { HTTPError as HTTPError2 } from 'ky';
import ky1, { HTTPError as HTTPError1 } from 'ky1';
import { CredentialsError, KerberosError, SPNEGOExchangeError } from '../../src/errors.js';
import { createNegotiator } from '../../src/http/fetch.js';
import { type ContextFactory, negotiateFailure } from '../../src/http/flow.js';
import { negotiateWith } from '../../src/http/ky.js';
import type { NegotiateOptions } from '../../src/http/options.js';
import { negotiateFailure as fromMain } from '../../src/index.js';
import { acceptor, fakeFactory, readAuthorization, startServer, type TestServer } from './helpers.js';

const noTicket: ContextFactory = async () => {
  throw new CredentialsError('CCACHE_NOT_FOUND', 'no credentials cache found', { hint: 'run kinit' });
};

function client(options: NegotiateOptions, factory: ContextFactory, warnings: string[]) {
  const n = createNegotiator(options, { contextFactory: factory, warn: (m) => warnings.push(m) });
  return (input: string) => n.fetch(input, undefined, (i, init) => globalThis.fetch(i, init));
}

let server: TestServer;
before(async () => {
  const accept = acceptor();
  server = await startServer((req, res) => {
    if (req.url === '/refuse') {
      // Answers any token with a bare 401: the server did not accept it.
      res.writeHead(401, { 'www-authenticate': 'Negotiate' });
      res.end();
      return;
    }
    if (req.url === '/ambiguous') {
      res.writeHead(401, { 'www-authenticate': 'Negotiate YWJj, Negotiate ZGVm' });
      res.end();
      return;
    }
    if (req.url === '/basic') {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' });
      res.end();
      return;
    }
    accept(req, res);
  });
});
after(() => server.close());

describe('negotiateFailure', () => {
  it('is exported from the main entry', () => {
    assert.equal(fromMain, negotiateFailure);
  });

  it('a local failure (no ticket): the 401 is returned, its error is the typed one, and one warning names it', async () => {
    const warnings: string[] = [];
    const f = client({}, noTicket, warnings);
    const res = await f(`${server.url}/`);
    assert.equal(res.status, 401);
    const e = negotiateFailure(res);
    assert.ok(e instanceof CredentialsError);
    assert.equal(e.code, 'CCACHE_NOT_FOUND');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /CredentialsError: no credentials cache found \(hint: run kinit\)$/);
    // The same failure again does not warn again; the response still says why.
    const again = await f(`${server.url}/`);
    assert.ok(negotiateFailure(again) instanceof CredentialsError);
    assert.equal(warnings.length, 1);
  });

  it('a different failure warns again, and a success re-arms the warning', async () => {
    const warnings: string[] = [];
    let fail: Error | undefined = new CredentialsError('CCACHE_NOT_FOUND', 'no ccache');
    const good = fakeFactory();
    const factory: ContextFactory = async (req) => {
      if (fail) throw fail;
      return good(req);
    };
    const f = client({}, factory, warnings);
    await f(`${server.url}/`);
    fail = new KerberosError(7, 'KDC_ERR_S_PRINCIPAL_UNKNOWN', 'unknown server');
    const r2 = await f(`${server.url}/`);
    assert.equal(negotiateFailure(r2)?.code, 'KDC_ERR_S_PRINCIPAL_UNKNOWN');
    assert.equal(warnings.length, 2);
    fail = undefined;
    const ok = await f(`${server.url}/`);
    assert.equal(ok.status, 200);
    assert.equal(negotiateFailure(ok), undefined);
    fail = new KerberosError(7, 'KDC_ERR_S_PRINCIPAL_UNKNOWN', 'unknown server');
    await f(`${server.url}/`);
    assert.equal(warnings.length, 3);
  });

  it('a non-SpnegoError thrown while building the token is wrapped, with the original as cause', async () => {
    const warnings: string[] = [];
    const boom = new TypeError('boom');
    const res = await client(
      {},
      async () => {
        throw boom;
      },
      warnings,
    )(`${server.url}/`);
    const e = negotiateFailure(res);
    assert.ok(e instanceof SPNEGOExchangeError);
    assert.equal(e.code, 'LOCAL_FAILURE');
    assert.equal(e.cause, boom);
  });

  it('the server refusing our token, or an unusable challenge: typed errors, without a warning', async () => {
    const warnings: string[] = [];
    const f = client({}, fakeFactory(), warnings);
    const refused = await f(`${server.url}/refuse`);
    assert.equal(refused.status, 401);
    assert.equal(negotiateFailure(refused)?.code, 'TOKEN_REFUSED');
    assert.ok(negotiateFailure(refused)?.hint);
    const ambiguous = await f(`${server.url}/ambiguous`);
    assert.ok(negotiateFailure(ambiguous) instanceof SPNEGOExchangeError);
    assert.deepEqual(warnings, []);
  });

  it('undefined for a success and for a 401 that does not offer Negotiate', async () => {
    const f = client({}, fakeFactory(), []);
    const ok = await f(`${server.url}/`);
    assert.equal(ok.status, 200);
    assert.equal(negotiateFailure(ok), undefined);
    const basic = await f(`${server.url}/basic`);
    assert.equal(basic.status, 401);
    assert.equal(negotiateFailure(basic), undefined);
  });

  for (const [version, ky, HTTPError] of [
    ['ky 2', ky2, HTTPError2],
    ['ky 1', ky1 as unknown as typeof ky2, HTTPError1 as unknown as typeof HTTPError2],
  ] as const) {
    it(`${version}: HTTPError.response of the final 401 gives the reason`, async () => {
      const warnings: string[] = [];
      const api = ky.extend(negotiateWith({}, { contextFactory: noTicket, warn: (m) => warnings.push(m) }));
      const err = await api.get(`${server.url}/`).then(
        () => assert.fail('expected an HTTPError'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof HTTPError);
      assert.equal(err.response.status, 401);
      assert.equal(negotiateFailure(err.response)?.code, 'CCACHE_NOT_FOUND');
      assert.equal(warnings.length, 1);
    });

    it(`${version}: an authenticated request goes through (the token reaches the server)`, async () => {
      const before = server.requests.length;
      const res = await ky.extend(negotiateWith({}, { contextFactory: fakeFactory() })).get(`${server.url}/`);
      assert.equal(res.status, 200);
      assert.equal(readAuthorization(server.requests[before + 1]?.headers.authorization)?.kind, 'init');
    });
  }
});

describe('warnings without a test seam', () => {
  it('go to the logger warn method (its debug when it has none), never with the token', async () => {
    const warned: string[] = [];
    const debugged: string[] = [];
    const n = createNegotiator(
      { logger: { debug: (m: string) => debugged.push(m), warn: (m: string) => warned.push(m) } },
      { contextFactory: noTicket },
    );
    await n.fetch(`${server.url}/`, undefined, (i, init) => globalThis.fetch(i, init));
    assert.equal(warned.length, 1);
    assert.match(
      warned[0] ?? '',
      /^spnego:http cannot authenticate to http:\/\/localhost:\d+, returning its 401: CredentialsError/,
    );
    const onlyDebug: string[] = [];
    const m = createNegotiator(
      { logger: { debug: (s: string) => onlyDebug.push(s) } },
      { contextFactory: noTicket },
    );
    await m.fetch(`${server.url}/`, undefined, (i, init) => globalThis.fetch(i, init));
    assert.ok(onlyDebug.some((l) => /cannot authenticate to .*CredentialsError/.test(l)));
  });
});
