// The adapters against Apache mod_auth_gssapi over https (a test CA), mutual REQUIRED:
// spnego/undici through undici.request and Node's fetch, the TLS peer certificate of the very
// connection a token goes over, a location with `GssapiConnectionBound On` (the server
// authenticates the connection, as IIS does: one token per connection, counted in Apache's log);
// spnego/axios through axios's fetch adapter, spnego/got through its beforeRequest hook, their
// https legs on connections of our own: each token bound to Apache's certificate.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import axios from 'axios';
import got from 'got';
import { Agent, request } from 'undici';
import { negotiateInterceptorWith, unwrapNegotiateError } from '../../src/adapters/axios.js';
import { negotiateGotWith } from '../../src/adapters/got.js';
import { NegotiateDispatcher, negotiateInterceptor } from '../../src/adapters/undici.js';
import { defaultContextFactory } from '../../src/http/fetch.js';
import type { ContextRequest } from '../../src/http/flow.js';
import { REQUIRED } from '../../src/index.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { type Apache, skipUnlessApache, startApache } from './helpers/apache.js';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';
import { makeTestCa, type TestCa } from './helpers/tls.js';

const REALM = 'UNDICI.TEST';
const skip = skipUnlessMit() || skipUnlessApache();

describe('spnego/undici, spnego/axios and spnego/got → Apache mod_auth_gssapi over https', { skip }, () => {
  let realm: MitRealm;
  let apache: Apache;
  let ca: TestCa;
  let creds: Credentials;
  const log = (): string[] => {
    try {
      return readFileSync(join(apache.dir, 'access.log'), 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  /** RFC 5929 tls-server-end-point of Apache's certificate (SHA-256 signed: SHA-256). */
  const apacheBindings = (): Uint8Array =>
    new Uint8Array(
      Buffer.concat([
        Buffer.from('tls-server-end-point:'),
        createHash('sha256')
          .update(new X509Certificate(readFileSync(ca.certFile)).raw)
          .digest(),
      ]),
    );
  const eventually = async (pred: () => boolean): Promise<void> => {
    for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 20));
  };

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal'],
      principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'HTTP/localhost' }],
    });
    const kt = await realm.keytab('HTTP/localhost');
    ca = await makeTestCa(realm.dir);
    apache = await startApache({
      realm,
      keytab: kt,
      tls: { certFile: ca.certFile, keyFile: ca.keyFile },
      locations: [{ path: '/bound/', directives: ['GssapiConnectionBound On'] }],
      directives: [
        'LoadModule setenvif_module /usr/lib/apache2/modules/mod_setenvif.so',
        'SetEnvIf Authorization "^Negotiate " HAS_TOKEN=token',
        // client port = the connection; %k = requests before this one on it
        'CustomLog "access.log" "%{remote}p %k %r %>s %u %{HAS_TOKEN}e"',
      ],
    });
    await realm.kinit('alice', 'alice-pw');
    creds = await Credentials.fromCcache(realm.ccache, {
      config: await loadConfig({ files: [realm.krb5ConfPath] }),
    });
  });
  after(async () => {
    await apache?.stop();
    await realm?.stop();
  });

  it('undici.request and fetch with the dispatcher: alice, mutual REQUIRED verified over TLS', async () => {
    const d = new NegotiateDispatcher({
      credentials: creds,
      mutualAuthentication: REQUIRED,
      tls: { ca: readFileSync(ca.caFile, 'utf8') },
    });
    try {
      const r = await request(`${apache.url}/echo`, { method: 'POST', body: 'via undici', dispatcher: d });
      assert.equal(r.statusCode, 200);
      assert.equal(await r.body.text(), `method=POST\nuser=alice@${REALM}\nvia undici`);
      const f = await fetch(`${apache.url}/private/`, { dispatcher: d } as RequestInit);
      assert.equal(f.status, 200);
      assert.equal(await f.text(), 'private\n');
    } finally {
      await d.destroy();
    }
  });

  it('undici interceptor: Agent.compose(negotiateInterceptor()), GET and POST, alice, mutual REQUIRED verified over TLS', async () => {
    const agent = new Agent({ connect: { ca: readFileSync(ca.caFile, 'utf8') } });
    const d = agent.compose(negotiateInterceptor({ credentials: creds, mutualAuthentication: REQUIRED }));
    try {
      const r = await request(`${apache.url}/echo`, {
        method: 'POST',
        body: 'via the interceptor',
        dispatcher: d,
      });
      assert.equal(r.statusCode, 200);
      assert.equal(await r.body.text(), `method=POST\nuser=alice@${REALM}\nvia the interceptor`);
      const f = await fetch(`${apache.url}/private/`, { dispatcher: d } as RequestInit);
      assert.equal(f.status, 200);
      assert.equal(await f.text(), 'private\n');
      await assert.rejects(
        request(`${apache.url}/public/`, { dispatcher: d }),
        (e: unknown) => (e as { code?: string }).code === 'MUTUAL_AUTH_MISSING',
      );
    } finally {
      await agent.close();
    }
  });

  it('axios: GET and POST, alice, mutual REQUIRED verified, tokens bound to the TLS connection; a REQUIRED failure is ours, not an AxiosError', async () => {
    const seen: ContextRequest[] = [];
    const contexts = defaultContextFactory({ credentials: creds });
    const instance = axios.create({ responseType: 'text' });
    instance.interceptors.request.use(
      negotiateInterceptorWith(
        { credentials: creds, mutualAuthentication: REQUIRED, tls: { ca: readFileSync(ca.caFile, 'utf8') } },
        {
          contextFactory: (req) => {
            seen.push(req);
            return contexts(req);
          },
        },
      ),
    );
    instance.interceptors.response.use(undefined, unwrapNegotiateError);
    const get = await instance.get(`${apache.url}/echo`);
    assert.equal(get.data, `method=GET\nuser=alice@${REALM}\n`);
    const post = await instance.post(`${apache.url}/echo`, 'posted by axios', {
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(post.data, `method=POST\nuser=alice@${REALM}\nposted by axios`);
    assert.equal(seen.length, 2);
    for (const req of seen) assert.deepEqual(req.channelBindings, apacheBindings());
    await assert.rejects(
      instance.get(`${apache.url}/public/`),
      (e: unknown) => (e as { code?: string }).code === 'MUTUAL_AUTH_MISSING',
    );
  });

  it('got: GET and POST, alice, mutual REQUIRED verified, tokens bound to the TLS connection; a REQUIRED failure carries our code', async () => {
    const seen: ContextRequest[] = [];
    const contexts = defaultContextFactory({ credentials: creds });
    const api = got.extend(
      negotiateGotWith(
        { credentials: creds, mutualAuthentication: REQUIRED, tls: { ca: readFileSync(ca.caFile, 'utf8') } },
        {
          contextFactory: (req) => {
            seen.push(req);
            return contexts(req);
          },
        },
      ),
      { retry: { limit: 0 } },
    );
    assert.equal(await api.get(`${apache.url}/echo`).text(), `method=GET\nuser=alice@${REALM}\n`);
    const posted = await api.post(`${apache.url}/echo`, { body: 'posted by got' }).text();
    assert.equal(posted, `method=POST\nuser=alice@${REALM}\nposted by got`);
    assert.equal(seen.length, 2);
    for (const req of seen) assert.deepEqual(req.channelBindings, apacheBindings());
    await assert.rejects(
      api.get(`${apache.url}/public/`),
      (e: unknown) => (e as { code?: string }).code === 'MUTUAL_AUTH_MISSING',
    );
  });

  it('the context is told the certificate of the TLS connection its token travels on', async () => {
    const seen: ContextRequest[] = [];
    const contexts = defaultContextFactory({ credentials: creds });
    const d = new NegotiateDispatcher(
      { credentials: creds, tls: { ca: readFileSync(ca.caFile, 'utf8') } },
      {
        contextFactory: (req) => {
          seen.push(req);
          return contexts(req);
        },
      },
    );
    try {
      assert.equal((await request(`${apache.url}/private/`, { dispatcher: d })).statusCode, 200);
      const der = seen[0]?.connection?.peerCertificate();
      assert.ok(der, 'a peer certificate');
      assert.deepEqual(Buffer.from(der), new X509Certificate(readFileSync(ca.certFile)).raw);
    } finally {
      await d.destroy();
    }
  });

  it('GssapiConnectionBound: one token per connection for five requests, each response trusted', async () => {
    const d = new NegotiateDispatcher({
      credentials: creds,
      mutualAuthentication: REQUIRED,
      connections: 1,
      tls: { ca: readFileSync(ca.caFile, 'utf8') },
    });
    try {
      const before = log().length;
      for (let i = 0; i < 5; i++) {
        const r = await request(`${apache.url}/bound/?n=${i}`, { dispatcher: d });
        assert.equal(r.statusCode, 200);
        assert.equal(await r.body.text(), 'bound\n');
      }
      // Only this test's location: Apache may write an earlier test's line after `before`.
      const mine = (): string[] =>
        log()
          .slice(before)
          .filter((l) => l.includes(' /bound/'));
      await eventually(() => mine().filter((l) => l.includes(' 200 ')).length >= 5);
      const lines = mine();
      const ok = lines.filter((l) => l.includes(' 200 '));
      assert.equal(ok.length, 5, lines.join('\n'));
      assert.equal(
        new Set(lines.map((l) => l.split(' ')[0])).size,
        1,
        `one connection:\n${lines.join('\n')}`,
      );
      assert.equal(lines.filter((l) => l.endsWith(' token')).length, 1, `one token:\n${lines.join('\n')}`);
      assert.ok(
        ok.every((l) => l.includes(` alice@${REALM} `)),
        lines.join('\n'),
      );
    } finally {
      await d.destroy();
    }
  });
});
