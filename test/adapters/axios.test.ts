// spnego/axios over the shared flow, against node:http doubles for the fake context: the same
// semantics as negotiate() (legs, bodies re-sent, mutual authentication, typed errors).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import axios, { AxiosError } from 'axios';
import { negotiateInterceptorWith, unwrapNegotiateError } from '../../src/adapters/axios.js';
import { MutualAuthenticationError } from '../../src/errors.js';
import { type NegotiateOptions, REQUIRED } from '../../src/http/options.js';
import { acceptor, fakeFactory, serverPool } from '../http/helpers.js';

const serve = serverPool();

function axiosWith(options: NegotiateOptions, factory = fakeFactory()) {
  const instance = axios.create();
  instance.interceptors.request.use(negotiateInterceptorWith(options, { contextFactory: factory }));
  instance.interceptors.response.use(undefined, unwrapNegotiateError);
  return Object.assign(instance, { factory });
}

describe('spnego/axios', () => {
  it('GET and a JSON POST answer the 401 with a token; mutual REQUIRED verified', async () => {
    const s = await serve(acceptor());
    const api = axiosWith({ mutualAuthentication: REQUIRED });
    const get = await api.get(`${s.url}/a`, { responseType: 'text' });
    assert.equal(get.status, 200);
    assert.equal(get.data, 'ok GET HTTP@localhost ');
    const post = await api.post(`${s.url}/b`, { hello: 'wörld' }, { responseType: 'text' });
    assert.equal(post.data, 'ok POST HTTP@localhost {"hello":"wörld"}');
    assert.equal(
      s.requests.at(-2)?.body.toString(),
      s.requests.at(-1)?.body.toString(),
      'body re-sent intact',
    );
    assert.ok(api.factory.made.every((c) => c.complete));
  });

  it('a mutual failure rejects with MutualAuthenticationError itself; a final 401 is an AxiosError', async () => {
    const s = await serve(acceptor({ finalToken: () => undefined }));
    await assert.rejects(
      axiosWith({ mutualAuthentication: REQUIRED }).get(s.url),
      (e: unknown) => e instanceof MutualAuthenticationError && e.code === 'MUTUAL_AUTH_MISSING',
    );
    const denied = await serve((_req, res) => {
      res.writeHead(401, { 'www-authenticate': 'Negotiate' });
      res.end();
    });
    await assert.rejects(
      axiosWith({}).get(denied.url),
      (e: unknown) => e instanceof AxiosError && e.response?.status === 401,
    );
  });
});
