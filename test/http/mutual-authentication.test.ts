// Mutual authentication judges the response the caller gets (requests-gssapi's handle_other):
// every mode × a server that challenges or not × a final token that is good, missing or bad ×
// a 2xx or an error status, through negotiateFetch, the ky hooks and `spnego curl`, on the first
// hop and after a redirect.
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import ky from 'ky';
import { curlCommand } from '../../src/cli/curl.js';
import { MutualAuthenticationError } from '../../src/errors.js';
import { createNegotiator } from '../../src/http/fetch.js';
import { negotiateWith } from '../../src/http/ky.js';
import { DISABLED, type MutualAuthMode, OPTIONAL, REQUIRED } from '../../src/http/options.js';
import { b64, fakeFactory, type Recorded, readAuthorization, serverPool } from './helpers.js';

const serve = serverPool();

type Token = 'good' | 'none' | 'bad';

/**
 * `/c/<token>/<status>`: challenges first, then answers `status` with the token named;
 * `/n/<token>/<status>`: never challenges. A "good" token without a challenge is one that
 * completes a context of id 1: a forgery the client has no context for.
 */
function matrixHandler(req: Recorded, res: ServerResponse): void {
  const [, challenge, token, status] = req.url.split('/');
  const t = readAuthorization(req.headers.authorization);
  if (challenge === 'c' && !t) {
    res.writeHead(401, { 'www-authenticate': 'Negotiate', 'content-type': 'text/plain' });
    res.end('denied');
    return;
  }
  const headers: Record<string, string> = {
    'content-type': 'text/plain',
    'x-secret': 'content',
    server: 'double',
  };
  if (token === 'good') headers['www-authenticate'] = `Negotiate ${b64(`final|${t?.id ?? '1'}`)}`;
  if (token === 'bad') headers['www-authenticate'] = `Negotiate ${b64('final|999999')}`;
  res.writeHead(Number(status), headers);
  res.end('body from the server');
}

type Outcome = 'returned' | 'sanitized' | 'MUTUAL_AUTH_MISSING' | 'MUTUAL_AUTH_FAILED';

/** The README's table, row by row. */
function expected(mode: MutualAuthMode, challenged: boolean, token: Token, status: number): Outcome {
  if (mode === DISABLED) return 'returned';
  if (token === 'bad' || (token === 'good' && !challenged)) return 'MUTUAL_AUTH_FAILED';
  if (token === 'good') return 'returned';
  if (mode === OPTIONAL) return 'returned';
  return status >= 400 ? 'sanitized' : 'MUTUAL_AUTH_MISSING';
}

async function outcome(run: () => Promise<Response>): Promise<Outcome | string> {
  try {
    const res = await run();
    const body = await res.text();
    if (body === '' && res.headers.get('x-secret') === null && res.headers.get('content-length') === '0')
      return 'sanitized';
    return body === 'body from the server' ? 'returned' : `unexpected body ${JSON.stringify(body)}`;
  } catch (e) {
    // A token that does not verify is the context's own error (the fake's FAKE_BAD_TOKEN, the
    // real mechanism's codes) or the flow's MUTUAL_AUTH_FAILED: all one row of the table.
    if (e instanceof MutualAuthenticationError)
      return e.code === 'MUTUAL_AUTH_MISSING' ? e.code : 'MUTUAL_AUTH_FAILED';
    throw e;
  }
}

const MODES: Array<[string, MutualAuthMode]> = [
  ['REQUIRED', REQUIRED],
  ['OPTIONAL', OPTIONAL],
  ['DISABLED', DISABLED],
];

describe('mutual authentication: the semantics table', () => {
  for (const [name, mode] of MODES) {
    it(`${name}: negotiateFetch and the ky hooks agree with the table`, async () => {
      const s = await serve(matrixHandler);
      const n = createNegotiator({ mutualAuthentication: mode }, { contextFactory: fakeFactory() });
      const api = ky.extend({
        ...negotiateWith({ mutualAuthentication: mode }, { contextFactory: fakeFactory() }),
        retry: 0,
        throwHttpErrors: false,
      });
      for (const challenged of [true, false])
        for (const token of ['good', 'none', 'bad'] as const)
          for (const status of [200, 403]) {
            const url = `${s.url}/${challenged ? 'c' : 'n'}/${token}/${status}`;
            const want = expected(mode, challenged, token, status);
            const label = `${name}, ${challenged ? 'challenge' : 'no challenge'}, ${token} token, ${status}`;
            assert.equal(
              await outcome(() => n.fetch(url, undefined, globalThis.fetch)),
              want,
              `fetch: ${label}`,
            );
            assert.equal(await outcome(() => api.get(url)), want, `ky: ${label}`);
          }
    });
  }

  it('REQUIRED without a challenge: sanitizeMutualErrorResponse: false returns the error response whole', async () => {
    const s = await serve(matrixHandler);
    const n = createNegotiator(
      { mutualAuthentication: REQUIRED, sanitizeMutualErrorResponse: false },
      { contextFactory: fakeFactory() },
    );
    const res = await n.fetch(`${s.url}/n/none/500`, undefined, globalThis.fetch);
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('x-secret'), 'content');
    assert.equal(await res.text(), 'body from the server');
  });

  it('REQUIRED: a 200 the server sends without ever challenging is MUTUAL_AUTH_MISSING, its body unread', async () => {
    const s = await serve(matrixHandler);
    const factory = fakeFactory();
    const n = createNegotiator({ mutualAuthentication: REQUIRED }, { contextFactory: factory });
    await assert.rejects(
      n.fetch(`${s.url}/n/none/200`, undefined, globalThis.fetch),
      (e: unknown) =>
        e instanceof MutualAuthenticationError &&
        e.code === 'MUTUAL_AUTH_MISSING' &&
        /never authenticated/.test(e.message) &&
        e.hint !== undefined,
    );
    assert.equal(factory.made.length, 0, 'no context was ever made');
  });
});

describe('mutual authentication after a redirect', () => {
  /** `/start` authenticates (good final token) and redirects to `/open`, which never challenges. */
  async function redirecting() {
    return serve((req, res) => {
      const t = readAuthorization(req.headers.authorization);
      if (req.url === '/start') {
        if (!t) {
          res.writeHead(401, { 'www-authenticate': 'Negotiate' });
          res.end();
          return;
        }
        res.writeHead(302, { location: '/open', 'www-authenticate': `Negotiate ${b64(`final|${t.id}`)}` });
        res.end();
        return;
      }
      res.writeHead(req.url === '/open-error' ? 500 : 200, { 'x-secret': 'content' });
      res.end('unauthenticated content');
    });
  }

  it('REQUIRED: the landing 200 that nothing authenticated throws, though the first hop verified', async () => {
    const s = await redirecting();
    const n = createNegotiator({ mutualAuthentication: REQUIRED }, { contextFactory: fakeFactory() });
    await assert.rejects(
      n.fetch(`${s.url}/start`, undefined, globalThis.fetch),
      (e: unknown) => e instanceof MutualAuthenticationError && e.code === 'MUTUAL_AUTH_MISSING',
    );
    const api = ky.extend(
      negotiateWith({ mutualAuthentication: REQUIRED }, { contextFactory: fakeFactory() }),
    );
    await assert.rejects(api.get(`${s.url}/start`), MutualAuthenticationError);
  });

  it('OPTIONAL and DISABLED return the landing response', async () => {
    const s = await redirecting();
    for (const mode of [OPTIONAL, DISABLED]) {
      const n = createNegotiator({ mutualAuthentication: mode }, { contextFactory: fakeFactory() });
      const res = await n.fetch(`${s.url}/start`, undefined, globalThis.fetch);
      assert.equal(res.status, 200);
      assert.equal(res.redirected, true);
      assert.equal(await res.text(), 'unauthenticated content');
    }
  });
});

describe('spnego curl --mutual required against a server that never challenges', () => {
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

  it('exits non-zero with MUTUAL_AUTH_MISSING and prints no body; optional exits 0', async () => {
    const s = await serve(matrixHandler);
    const r = await curl(['--mutual', 'required', `${s.url}/n/none/200`]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /MutualAuthenticationError MUTUAL_AUTH_MISSING: /);
    const optional = await curl(['--mutual', 'optional', `${s.url}/n/none/200`]);
    assert.equal(optional.code, 0);
    assert.equal(optional.stdout, 'body from the server');
  });
});
