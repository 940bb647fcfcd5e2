// Negotiate through a real Negotiate proxy: Squid with negotiate_kerberos_auth in front of Apache
// mod_auth_gssapi, both HTTP/localhost from one MIT realm. Plain HTTP forwarded and https through
// CONNECT (Apache with a test CA), each authentication seen in the log of the party it was for,
// and `curl --proxy-negotiate` through the same Squid as the reference.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { negotiateFetch, REQUIRED } from '../../src/index.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { type Apache, skipUnlessApache, startApache } from './helpers/apache.js';
import { type MitRealm, run, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';
import { type Squid, skipUnlessSquid, startSquid } from './helpers/squid.js';
import { makeTestCa, type TestCa } from './helpers/tls.js';

const REALM = 'PROXYIOP.TEST';
const skip = skipUnlessMit() || skipUnlessApache() || skipUnlessSquid();
const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');

describe('Negotiate through Squid to Apache mod_auth_gssapi', { skip }, () => {
  let realm: MitRealm;
  let squid: Squid;
  let web: Apache;
  let secure: Apache;
  let ca: TestCa;
  let creds: Credentials;
  const apacheLog = (a: Apache): string[] => {
    try {
      return readFileSync(join(a.dir, 'access.log'), 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  /** Logs are written after the response has gone: wait until `pred` holds. */
  const eventually = async (pred: () => boolean): Promise<void> => {
    for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 20));
  };
  const env = () => ({
    KRB5CCNAME: realm.ccache,
    KRB5_CONFIG: realm.krb5ConfPath,
    NODE_EXTRA_CA_CERTS: ca.caFile,
  });

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal'],
      principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'HTTP/localhost' }],
    });
    const kt = await realm.keytab('HTTP/localhost');
    ca = await makeTestCa(realm.dir);
    const log = 'CustomLog "access.log" "%u %r %>s"';
    [squid, web, secure] = await Promise.all([
      startSquid({ realm, keytab: kt }),
      startApache({ realm, keytab: kt, directives: [log] }),
      startApache({
        realm,
        keytab: kt,
        directives: [log],
        tls: { certFile: ca.certFile, keyFile: ca.keyFile },
      }),
    ]);
    await realm.kinit('alice', 'alice-pw');
    creds = await Credentials.fromCcache(realm.ccache, {
      config: await loadConfig({ files: [realm.krb5ConfPath] }),
    });
  });
  after(async () => {
    await squid?.stop();
    await web?.stop();
    await secure?.stop();
    await realm?.stop();
  });

  it('plain HTTP: the proxy and the origin each authenticate alice, mutual REQUIRED with the origin', async () => {
    const f = negotiateFetch({ credentials: creds, proxy: squid.url, mutualAuthentication: REQUIRED });
    const res = await f(`${web.url}/echo?via=option`, { method: 'POST', body: 'through the proxy' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `method=POST\nuser=alice@${REALM}\nthrough the proxy`);
    await eventually(() => squid.accessLog().some((l) => l.includes('via=option')));
    assert.ok(
      squid.accessLog().includes(`200 POST ${web.url}/echo?via=option alice@${REALM}`),
      squid.accessLog().join('\n'),
    );
    await eventually(() => apacheLog(web).some((l) => l.includes('via=option') && l.endsWith(' 200')));
    assert.ok(
      apacheLog(web).includes(`alice@${REALM} POST /echo?via=option HTTP/1.1 200`),
      apacheLog(web).join('\n'),
    );
  });

  it('plain HTTP: HTTP_PROXY from the environment is used by default', async () => {
    const saved = { p: process.env['HTTP_PROXY'], n: process.env['NO_PROXY'], ln: process.env['no_proxy'] };
    process.env['HTTP_PROXY'] = squid.url;
    delete process.env['NO_PROXY'];
    delete process.env['no_proxy'];
    try {
      const res = await negotiateFetch({ credentials: creds })(`${web.url}/private/?via=env`);
      assert.equal(res.status, 200);
      await eventually(() => squid.accessLog().some((l) => l.includes('via=env')));
      assert.ok(squid.accessLog().includes(`200 GET ${web.url}/private/?via=env alice@${REALM}`));
    } finally {
      for (const [k, v] of [
        ['HTTP_PROXY', saved.p],
        ['NO_PROXY', saved.n],
        ['no_proxy', saved.ln],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('https through CONNECT: spnego curl -x, as curl --proxy-negotiate does', async () => {
    const url = `${secure.url}/echo?via=connect`;
    const ours = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'curl',
        '-v',
        '-x',
        squid.url,
        '--mutual',
        'required',
        '-d',
        'tunnelled',
        url,
      ],
      { env: env(), timeoutMs: 60_000 },
    );
    assert.equal(ours.code, 0, ours.stderr);
    assert.equal(ours.stdout, `method=POST\nuser=alice@${REALM}\ntunnelled`);
    assert.match(ours.stderr, /proxy localhost:\d+: target HTTP@localhost/);
    assert.match(ours.stderr, /tunnel to localhost:\d+ open/);
    assert.match(ours.stderr, /mutual authentication of https:\/\/localhost:\d+ verified \(200\)/);
    const connect = `200 CONNECT localhost:${secure.port} alice@${REALM}`;
    await eventually(() => squid.accessLog().includes(connect));
    assert.ok(squid.accessLog().includes(connect), squid.accessLog().join('\n'));
    await eventually(() => apacheLog(secure).some((l) => l.includes('via=connect') && l.endsWith(' 200')));
    assert.ok(apacheLog(secure).includes(`alice@${REALM} POST /echo?via=connect HTTP/1.1 200`));

    const ref = await run(
      'curl',
      [
        '-s',
        '--proxy-negotiate',
        '-U',
        ':',
        '-x',
        squid.url,
        '--negotiate',
        '-u',
        ':',
        '--cacert',
        ca.caFile,
        '-d',
        'tunnelled',
        url,
      ],
      { env: env() },
    );
    assert.equal(ref.code, 0, ref.stderr);
    assert.equal(ref.stdout, ours.stdout);
  });

  it('without a ticket: the proxy 407 ends the request (22 on http; on CONNECT a typed failure, exit 56 as curl)', async () => {
    const noTicket = { ...env(), KRB5CCNAME: `FILE:${join(realm.dir, 'no-such-ccache')}` };
    const plain = await run(
      process.execPath,
      ['--import', 'tsx', MAIN, 'curl', '-x', squid.url, `${web.url}/private/`],
      {
        env: noTicket,
        timeoutMs: 60_000,
      },
    );
    assert.equal(plain.code, 22, plain.stderr);
    assert.match(plain.stderr, /407/);
    const tunnel = await run(
      process.execPath,
      ['--import', 'tsx', MAIN, 'curl', '-x', squid.url, `${secure.url}/private/`],
      { env: noTicket, timeoutMs: 60_000 },
    );
    assert.equal(tunnel.code, 56, tunnel.stderr);
    assert.match(tunnel.stderr, /PROXY_AUTH_FAILED/);
  });
});
