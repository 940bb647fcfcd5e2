// spnego/got over the shared flow, against node:http doubles for the fake context: the same
// semantics as negotiate() (legs, bodies re-sent, mutual authentication), then got's own
// pipeline (HTTPError on a final 401, JSON parsing).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import got, { HTTPError } from 'got';
import { negotiateGotWith } from '../../src/adapters/got.js';
import { MutualAuthenticationError } from '../../src/errors.js';
import { type NegotiateOptions, REQUIRED } from '../../src/http/options.js';
import { acceptor, fakeFactory, serverPool } from '../http/helpers.js';

const serve = serverPool();

function gotWith(options: NegotiateOptions, factory = fakeFactory()) {
  return Object.assign(
    got.extend(negotiateGotWith(options, { contextFactory: factory }), { retry: { limit: 0 } }),
    {
      factory,
    },
  );
}

/** got wraps what a hook throws; the error we threw is its cause (or itself). */
const ours = (e: unknown): unknown =>
  e instanceof MutualAuthenticationError ? e : (e as { cause?: unknown }).cause;

describe('spnego/got', () => {
  it('GET, a JSON POST and a stream body answer the 401 with a token; mutual REQUIRED verified', async () => {
    const s = await serve(acceptor());
    const api = gotWith({ mutualAuthentication: REQUIRED });
    assert.equal(await api.get(`${s.url}/a`).text(), 'ok GET HTTP@localhost ');
    const post = await api.post(`${s.url}/b`, { json: { hello: 'wörld' } }).text();
    assert.equal(post, 'ok POST HTTP@localhost {"hello":"wörld"}');
    assert.deepEqual(s.requests.at(-2)?.body, s.requests.at(-1)?.body, 'body re-sent intact');
    const { Readable } = await import('node:stream');
    const streamed = await api.put(`${s.url}/c`, { body: Readable.from(['stre', 'amed']) }).text();
    assert.equal(streamed, 'ok PUT HTTP@localhost streamed');
    assert.ok(api.factory.made.every((c) => c.complete));
  });

  it("a mutual failure surfaces our MutualAuthenticationError; a final 401 is got's HTTPError", async () => {
    const s = await serve(acceptor({ finalToken: () => undefined }));
    await assert.rejects(gotWith({ mutualAuthentication: REQUIRED }).get(s.url), (e: unknown) => {
      const m = ours(e);
      return m instanceof MutualAuthenticationError && m.code === 'MUTUAL_AUTH_MISSING';
    });
    const denied = await serve((_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Negotiate' });
      res.end();
    });
    await assert.rejects(
      gotWith({}).get(denied.url),
      (e: unknown) => e instanceof HTTPError && e.response.statusCode === 401,
    );
  });
});
