// ky.extend(negotiate()) and negotiateFetch against Apache + mod_auth_gssapi and a real MIT KDC:
// every method and body kind under both retry settings with mutual authentication REQUIRED,
// opportunistic auth counted in Apache's access log, a target name reached through another host
// name, a principal picked from a DIR collection, and delegation into GssapiDelegCcacheDir.
// Mutual REQUIRED against locations Apache serves without authentication (MUTUAL_AUTH_MISSING),
// and the redirect rules against Apache's own redirects to a second port of the same host.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ky from 'ky';
import {
  DISABLED,
  MutualAuthenticationError,
  negotiate,
  negotiateFailure,
  negotiateFetch,
  OPTIONAL,
  REQUIRED,
} from '../../src/index.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { type Apache, skipUnlessApache, startApache } from './helpers/apache.js';
import { freePort, type MitRealm, run, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const REALM = 'HTTPIOP.TEST';
const skip = skipUnlessMit() || skipUnlessApache();

describe('spnego HTTP clients → Apache mod_auth_gssapi', { skip }, () => {
  let realm: MitRealm;
  let apache: Apache;
  let creds: Credentials;
  let secondPort: number;
  const accessLog = (): string[] => {
    try {
      return readFileSync(join(apache.dir, 'access.log'), 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal', 'aes128-cts-hmac-sha256-128:normal'],
      principals: [
        { name: 'alice', password: 'alice-pw' },
        { name: 'bob', password: 'bob-pw' },
        { name: 'HTTP/localhost' },
      ],
    });
    const kt = await realm.keytab('HTTP/localhost');
    secondPort = await freePort();
    // Relative to ServerRoot (Apache's own temp dir); mod_log_config is compiled into Debian's apache2.
    // The same server also listens on a second port: another origin of the same service.
    apache = await startApache({
      realm,
      keytab: kt,
      delegCcacheDir: true,
      locations: [
        { path: '/to-private', auth: false, directives: ['Redirect 302 "/private/"'] },
        {
          path: '/to-second-port',
          auth: false,
          directives: [`Redirect 302 "http://localhost:${secondPort}/private/"`],
        },
      ],
      directives: [
        `Listen 127.0.0.1:${secondPort}`,
        'CustomLog "access.log" "%r %>s"',
        'CustomLog "ports.log" "%{local}p %r %>s"',
      ],
    });
    await realm.kinit('alice', 'alice-pw', realm.ccache, ['-f']);
    creds = await Credentials.fromCcache(realm.ccache, {
      config: await loadConfig({ files: [realm.krb5ConfPath] }),
    });
  });
  after(async () => {
    await apache?.stop();
    await realm?.stop();
  });

  const bodies: Array<{ kind: string; make: () => Record<string, unknown>; expect: string }> = [
    { kind: 'json', make: () => ({ json: { hello: 'wörld' } }), expect: '{"hello":"wörld"}' },
    { kind: 'text', make: () => ({ body: 'some text' }), expect: 'some text' },
    {
      kind: 'FormData',
      make: () => {
        const f = new FormData();
        f.set('field', 'form-value');
        return { body: f };
      },
      expect: 'form-value',
    },
    {
      kind: 'URLSearchParams',
      make: () => ({ body: new URLSearchParams({ a: '1', b: 'x y' }) }),
      expect: 'a=1&b=x+y',
    },
    {
      kind: 'ArrayBuffer',
      make: () => ({ body: new TextEncoder().encode('bytes!').buffer }),
      expect: 'bytes!',
    },
    {
      kind: 'ReadableStream',
      make: () => ({
        body: new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode('streamed '));
            c.enqueue(new TextEncoder().encode('body'));
            c.close();
          },
        }),
        duplex: 'half',
      }),
      expect: 'streamed body',
    },
  ];

  for (const retry of [0, undefined]) {
    const label = retry === undefined ? 'default retry' : `retry ${retry}`;
    it(`ky, ${label}: GET/POST/PUT/DELETE with each body kind, mutual REQUIRED verified`, async () => {
      const api = ky.extend({
        ...negotiate({ credentials: creds, mutualAuthentication: REQUIRED }),
        ...(retry === undefined ? {} : { retry }),
      });
      const get = await api.get(`${apache.url}/echo`);
      assert.equal(get.status, 200);
      assert.equal(get.headers.get('x-remote-user'), `alice@${REALM}`);
      assert.equal(await get.text(), `method=GET\nuser=alice@${REALM}\n`);
      for (const method of ['post', 'put', 'delete'] as const) {
        for (const b of bodies) {
          const text = await api(`${apache.url}/echo`, { method, ...b.make() }).text();
          assert.ok(
            text.startsWith(`method=${method.toUpperCase()}\nuser=alice@${REALM}\n`),
            `${method} ${b.kind}: ${text}`,
          );
          assert.ok(text.includes(b.expect), `${method} ${b.kind}: ${text}`);
        }
      }
    });
  }

  it('negotiateFetch: POST with each body kind, mutual REQUIRED verified', async () => {
    const f = negotiateFetch({ credentials: creds, mutualAuthentication: REQUIRED });
    for (const b of bodies) {
      const opts = b.make();
      const init: RequestInit =
        'json' in opts ? { body: JSON.stringify(opts['json']) } : (opts as RequestInit);
      const res = await f(`${apache.url}/echo`, { method: 'POST', ...init });
      assert.equal(res.status, 200, b.kind);
      const text = await res.text();
      assert.ok(
        text.startsWith(`method=POST\nuser=alice@${REALM}\n`) && text.includes(b.expect),
        `${b.kind}: ${text}`,
      );
    }
  });

  it('opportunistic: one round trip, counted in the access log', async () => {
    const f = negotiateFetch({ credentials: creds, mutualAuthentication: REQUIRED, opportunisticAuth: true });
    const res = await f(`${apache.url}/private/?opportunistic=1`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'private\n');
    const plain = negotiateFetch({ credentials: creds, mutualAuthentication: REQUIRED });
    assert.equal((await plain(`${apache.url}/private/?reactive=1`)).status, 200);
    // Apache writes a log line after its response has gone out: wait for the last one.
    for (let i = 0; i < 100 && !accessLog().some((l) => l.includes('reactive=1') && l.endsWith(' 200')); i++)
      await new Promise((r) => setTimeout(r, 20));
    const lines = accessLog();
    assert.deepEqual(
      lines.filter((l) => l.includes('opportunistic=1')),
      ['GET /private/?opportunistic=1 HTTP/1.1 200'],
    );
    assert.deepEqual(
      lines.filter((l) => l.includes('reactive=1')),
      ['GET /private/?reactive=1 HTTP/1.1 401', 'GET /private/?reactive=1 HTTP/1.1 200'],
    );
  });

  it('targetName reaches HTTP/localhost through 127.0.0.1 (and without it, the 401 is returned)', async () => {
    const url = `http://127.0.0.1:${apache.port}/private/`;
    const named = negotiateFetch({
      credentials: creds,
      mutualAuthentication: REQUIRED,
      targetName: 'HTTP@localhost',
    });
    const res = await named(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-remote-user'), `alice@${REALM}`);
    const principal = negotiateFetch({ credentials: creds, targetName: `HTTP/localhost@${REALM}` });
    assert.equal((await principal(url)).status, 200);
    const lines: string[] = [];
    const unnamed = negotiateFetch({ credentials: creds, logger: { debug: (m) => lines.push(m) } });
    assert.equal((await unnamed(url)).status, 401);
    assert.ok(
      lines.some((l) => l.includes('target HTTP@127.0.0.1')),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.includes('KDC_ERR_S_PRINCIPAL_UNKNOWN')),
      lines.join('\n'),
    );
  });

  it('credentials: a principal name picks the second principal of a DIR collection', async () => {
    const collection = join(realm.dir, 'collection');
    mkdirSync(collection, { recursive: true });
    const env = { KRB5CCNAME: `DIR:${collection}` };
    // MIT kinit without -c on a collection adds a member per principal; kswitch makes alice primary.
    for (const [p, pw] of [
      ['alice', 'alice-pw'],
      ['bob', 'bob-pw'],
    ] as const) {
      const r = await realm.run('kinit', [realm.qualify(p)], { input: `${pw}\n`, env });
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await realm.run('kswitch', ['-p', realm.qualify('alice')], { env })).code, 0);
    const saved = { ccname: process.env['KRB5CCNAME'], config: process.env['KRB5_CONFIG'] };
    process.env['KRB5CCNAME'] = env.KRB5CCNAME;
    process.env['KRB5_CONFIG'] = realm.krb5ConfPath;
    try {
      const asBob = await ky
        .extend(negotiate({ credentials: `bob@${REALM}`, mutualAuthentication: REQUIRED }))
        .get(`${apache.url}/echo`)
        .text();
      assert.equal(asBob, `method=GET\nuser=bob@${REALM}\n`);
      const asPrimary = await negotiateFetch({ mutualAuthentication: REQUIRED })(`${apache.url}/echo`);
      assert.equal(await asPrimary.text(), `method=GET\nuser=alice@${REALM}\n`);
    } finally {
      for (const [k, v] of [
        ['KRB5CCNAME', saved.ccname],
        ['KRB5_CONFIG', saved.config],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('delegate: the forwarded TGT arrives in GssapiDelegCcacheDir', async () => {
    const dir = apache.delegCcacheDir;
    assert.ok(dir);
    const file = join(dir, `alice@${REALM}`);
    assert.equal(existsSync(file), false, 'nothing delegated yet');
    const none = negotiateFetch({ credentials: creds, mutualAuthentication: DISABLED });
    assert.equal((await none(`${apache.url}/private/`)).status, 200);
    assert.equal(existsSync(file), false, 'no delegation unless asked');
    const api = ky.extend(negotiate({ credentials: creds, mutualAuthentication: REQUIRED, delegate: true }));
    assert.equal(await api.get(`${apache.url}/private/`).text(), 'private\n');
    assert.ok(existsSync(file), `no delegated ccache in ${dir}: ${readdirSync(dir).join(', ')}`);
    const list = await realm.klist(`FILE:${file}`, ['-f']);
    assert.match(list.stdout, new RegExp(`krbtgt/${REALM}@${REALM}`));
  });

  it('mutual REQUIRED against a location without authentication throws MUTUAL_AUTH_MISSING; OPTIONAL returns it', async () => {
    const missing = (e: unknown) =>
      e instanceof MutualAuthenticationError && e.code === 'MUTUAL_AUTH_MISSING';
    const strict = negotiateFetch({ credentials: creds, mutualAuthentication: REQUIRED });
    await assert.rejects(strict(`${apache.url}/public/`), missing);
    await assert.rejects(
      ky
        .extend(negotiate({ credentials: creds, mutualAuthentication: REQUIRED }))
        .get(`${apache.url}/public/`),
      missing,
    );
    // An error response nothing authenticated comes back sanitized.
    const notFound = await strict(`${apache.url}/public/no-such-file`);
    assert.equal(notFound.status, 404);
    assert.equal(await notFound.text(), '');
    assert.equal(notFound.headers.get('content-length'), '0');
    const relaxed = negotiateFetch({ credentials: creds, mutualAuthentication: OPTIONAL });
    assert.equal(await (await relaxed(`${apache.url}/public/`)).text(), 'public\n');
    // An unauthenticated redirect to an authenticated location: the landing response verifies.
    const moved = await strict(`${apache.url}/to-private`);
    assert.equal(moved.status, 200);
    assert.equal(moved.redirected, true);
    assert.equal(moved.headers.get('x-remote-user'), `alice@${REALM}`);
  });

  it('a redirect to a second port of the same service gets no token unless trustSameServiceRedirects', async () => {
    const portsLog = (): string[] =>
      readFileSync(join(apache.dir, 'ports.log'), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith(`${secondPort} `));
    // Apache writes the log line after the response has gone out: wait for it.
    const lines = async (n: number): Promise<string[]> => {
      for (let i = 0; i < 100 && portsLog().length < n; i++) await new Promise((r) => setTimeout(r, 20));
      return portsLog();
    };
    const before = portsLog().length;
    const res = await negotiateFetch({ credentials: creds })(`${apache.url}/to-second-port`);
    assert.equal(res.status, 401);
    assert.equal(negotiateFailure(res)?.code, 'REDIRECT_SAME_SERVICE');
    assert.deepEqual((await lines(before + 1)).slice(before), [`${secondPort} GET /private/ HTTP/1.1 401`]);
    const trusted = await negotiateFetch({
      credentials: creds,
      mutualAuthentication: REQUIRED,
      trustSameServiceRedirects: true,
    })(`${apache.url}/to-second-port`);
    assert.equal(trusted.status, 200);
    assert.equal(trusted.headers.get('x-remote-user'), `alice@${REALM}`);
    assert.deepEqual((await lines(before + 3)).slice(before + 1), [
      `${secondPort} GET /private/ HTTP/1.1 401`,
      `${secondPort} GET /private/ HTTP/1.1 200`,
    ]);
  });

  it('spnego curl -v, like curl --negotiate, prints the body and the steps', async () => {
    const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
    const env = { KRB5CCNAME: realm.ccache, KRB5_CONFIG: realm.krb5ConfPath };
    const ours = await run(
      process.execPath,
      ['--import', 'tsx', main, 'curl', '-v', '--mutual', 'required', '-d', 'posted', `${apache.url}/echo`],
      { env, timeoutMs: 60_000 },
    );
    assert.equal(ours.code, 0, ours.stderr);
    assert.equal(ours.stdout, `method=POST\nuser=alice@${REALM}\nposted`);
    assert.match(ours.stderr, /401 from http:\/\/localhost:\d+: Negotiate/);
    assert.match(ours.stderr, /target HTTP@localhost/);
    assert.match(
      ours.stderr,
      /service ticket for HTTP\/localhost@HTTPIOP.TEST from (memory|the ccache)|got service ticket/,
    );
    assert.match(ours.stderr, /mutual authentication of http:\/\/localhost:\d+ verified \(200\)/);
    const ref = await run('curl', ['-s', '--negotiate', '-u', ':', '-d', 'posted', `${apache.url}/echo`], {
      env,
    });
    assert.equal(ref.stdout, ours.stdout);
    const denied = await run(process.execPath, ['--import', 'tsx', main, 'curl', `${apache.url}/echo`], {
      env: { ...env, KRB5CCNAME: `FILE:${join(realm.dir, 'no-such-ccache')}` },
      timeoutMs: 60_000,
    });
    assert.equal(denied.code, 22);
    const unauthenticated = await run(
      process.execPath,
      ['--import', 'tsx', main, 'curl', '--mutual', 'required', `${apache.url}/public/`],
      { env, timeoutMs: 60_000 },
    );
    assert.equal(unauthenticated.code, 1, unauthenticated.stderr);
    assert.equal(unauthenticated.stdout, '');
    assert.match(unauthenticated.stderr, /MUTUAL_AUTH_MISSING/);
  });
});
