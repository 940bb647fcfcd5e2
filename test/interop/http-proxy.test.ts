// Negotiate through a real Negotiate proxy: Squid with negotiate_kerberos_auth in front of Apache
// mod_auth_gssapi, both HTTP/localhost from one MIT realm. Plain HTTP forwarded and https through
// CONNECT (Apache with a test CA), each authentication seen in the log of the party it was for,
// and `curl --proxy-negotiate` through the same Squid as the reference — with Squid reached over
// plain TCP and over TLS (its https_port: `-x https://`). Behind CONNECT the origin's token is
// bound to the certificate seen inside the tunnel, which MIT's acceptor (python3-gssapi behind
// python's ssl) reports as channel-bound. Squid sends no mutual token: REQUIRED fails with it.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { MutualAuthenticationError } from '../../src/errors.js';
import { createNegotiator } from '../../src/http/fetch.js';
import { negotiateFetch, REQUIRED } from '../../src/index.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { type Apache, skipUnlessApache, startApache } from './helpers/apache.js';
import { DEBIAN_PYTHON, skipUnlessPythonGssapi } from './helpers/gss-peer.js';
import { type MitRealm, run, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';
import { type Squid, skipUnlessSquid, startSquid } from './helpers/squid.js';
import { makeTestCa, type TestCa } from './helpers/tls.js';

const REALM = 'PROXYIOP.TEST';
const skip = skipUnlessMit() || skipUnlessApache() || skipUnlessSquid();
const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const VECTORS = join(import.meta.dirname, '..', 'vectors');
const CB_PEER = join(import.meta.dirname, 'helpers', 'tls-cb-peer.py');
/** The python channel-binding acceptor's certificate and its CA. */
const CB = {
  ca: join(VECTORS, 'kkdcp', 'ca.pem'),
  cert: join(VECTORS, 'kkdcp', 'server.pem'),
  key: join(VECTORS, 'kkdcp', 'server-key.pem'),
};

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
    for (let i = 0; i < 250 && !pred(); i++) await new Promise((r) => setTimeout(r, 20));
  };
  let kt: string;
  const children: ChildProcess[] = [];
  const env = () => ({
    KRB5CCNAME: realm.ccache,
    KRB5_CONFIG: realm.krb5ConfPath,
    NODE_EXTRA_CA_CERTS: ca.caFile,
  });
  const proxyCa = () => readFileSync(ca.caFile, 'utf8');

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal'],
      principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'HTTP/localhost' }],
    });
    kt = await realm.keytab('HTTP/localhost');
    ca = await makeTestCa(realm.dir);
    const log = 'CustomLog "access.log" "%u %r %>s"';
    [squid, web, secure] = await Promise.all([
      // Squid also listens with TLS (https_port), with a certificate of the same test CA.
      startSquid({ realm, keytab: kt, tls: { certFile: ca.certFile, keyFile: ca.keyFile } }),
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
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
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
    // Squid logs the 401 leg first: wait for the line of the authenticated 200 itself.
    await eventually(() => squid.accessLog().includes(`200 POST ${web.url}/echo?via=option alice@${REALM}`));
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
      await eventually(() =>
        squid.accessLog().includes(`200 GET ${web.url}/private/?via=env alice@${REALM}`),
      );
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

  it('an https:// proxy: plain HTTP forwarded over TLS to Squid (proxyCa), both authentications logged', async () => {
    const f = negotiateFetch({
      credentials: creds,
      proxy: squid.httpsUrl as string,
      proxyCa: proxyCa(),
      mutualAuthentication: REQUIRED,
    });
    const res = await f(`${web.url}/echo?via=tls-proxy`, { method: 'POST', body: 'over tls' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `method=POST\nuser=alice@${REALM}\nover tls`);
    await eventually(() =>
      squid.accessLog().includes(`200 POST ${web.url}/echo?via=tls-proxy alice@${REALM}`),
    );
    assert.ok(
      squid.accessLog().includes(`200 POST ${web.url}/echo?via=tls-proxy alice@${REALM}`),
      squid.accessLog().join('\n'),
    );
    await eventually(() => apacheLog(web).some((l) => l.includes('via=tls-proxy') && l.endsWith(' 200')));
    assert.ok(apacheLog(web).includes(`alice@${REALM} POST /echo?via=tls-proxy HTTP/1.1 200`));
    // Without the CA, the proxy's certificate does not verify: nothing is sent.
    const before = squid.accessLog().length;
    await assert.rejects(
      negotiateFetch({ credentials: creds, proxy: squid.httpsUrl as string })(`${web.url}/?via=untrusted`),
      TypeError,
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(
      !squid
        .accessLog()
        .slice(before)
        .some((l) => l.includes('via=untrusted')),
    );
  });

  it('an https:// proxy: CONNECT inside TLS, spnego curl -x https:// --proxy-cacert as curl does', async () => {
    const url = `${secure.url}/echo?via=tls-connect`;
    const proxy = squid.httpsUrl as string;
    const ours = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'curl',
        '-v',
        '-x',
        proxy,
        '--proxy-cacert',
        ca.caFile,
        '--mutual',
        'required',
        '-d',
        'tls in tls',
        url,
      ],
      { env: env(), timeoutMs: 60_000 },
    );
    assert.equal(ours.code, 0, ours.stderr);
    assert.equal(ours.stdout, `method=POST\nuser=alice@${REALM}\ntls in tls`);
    assert.match(ours.stderr, /tunnel to localhost:\d+ open/);
    assert.match(
      ours.stderr,
      /channel bindings: tls-server-end-point of the certificate https:\/\/localhost:\d+ presented/,
    );
    const connect = `200 CONNECT localhost:${secure.port} alice@${REALM}`;
    await eventually(() => squid.accessLog().filter((l) => l === connect).length > 0);
    assert.ok(squid.accessLog().includes(connect), squid.accessLog().join('\n'));
    await eventually(() =>
      apacheLog(secure).some((l) => l.includes('via=tls-connect') && l.endsWith(' 200')),
    );
    assert.ok(apacheLog(secure).includes(`alice@${REALM} POST /echo?via=tls-connect HTTP/1.1 200`));
    const ref = await run(
      'curl',
      [
        '-s',
        '--proxy-negotiate',
        '-U',
        ':',
        '-x',
        proxy,
        '--proxy-cacert',
        ca.caFile,
        '--negotiate',
        '-u',
        ':',
        '--cacert',
        ca.caFile,
        '-d',
        'tls in tls',
        url,
      ],
      { env: env() },
    );
    assert.equal(ref.code, 0, ref.stderr);
    assert.equal(ref.stdout, ours.stdout);
    // Without --proxy-cacert the proxy's certificate is checked against Node's store plus
    // NODE_EXTRA_CA_CERTS (set to the test CA here); with neither it is refused (exit 60, as curl).
    const extra = await run(process.execPath, ['--import', 'tsx', MAIN, 'curl', '-x', proxy, url], {
      env: env(),
      timeoutMs: 60_000,
    });
    assert.equal(extra.code, 0, extra.stderr);
    const { NODE_EXTRA_CA_CERTS: _, ...noCa } = env();
    const refused = await run(process.execPath, ['--import', 'tsx', MAIN, 'curl', '-x', proxy, url], {
      env: noCa,
      timeoutMs: 60_000,
    });
    assert.equal(refused.code, 60, refused.stderr);
  });

  it('proxyMutualAuthentication REQUIRED: Squid sends no token, so forwarding and CONNECT fail (typed)', async () => {
    const required = negotiateFetch({
      credentials: creds,
      proxy: squid.url,
      proxyMutualAuthentication: REQUIRED,
    });
    for (const url of [`${web.url}/private/?via=required`, `${secure.url}/private/?via=required`])
      await assert.rejects(
        required(url),
        (e: unknown) =>
          e instanceof TypeError &&
          e.cause instanceof MutualAuthenticationError &&
          e.cause.code === 'PROXY_MUTUAL_AUTH_MISSING',
        url,
      );
    // Squid did authenticate alice (it just does not prove itself back).
    await eventually(() =>
      squid.accessLog().includes(`401 GET ${web.url}/private/?via=required alice@${REALM}`),
    );
    assert.ok(
      squid.accessLog().includes(`401 GET ${web.url}/private/?via=required alice@${REALM}`),
      squid.accessLog().join('\n'),
    );
    assert.ok(!apacheLog(secure).some((l) => l.includes('via=required')), 'nothing went into the tunnel');
  });

  it("behind Squid CONNECT (plain and over TLS), MIT's acceptor finds the origin token channel-bound", {
    skip: skipUnlessPythonGssapi(),
  }, async () => {
    const peer = spawn(DEBIAN_PYTHON, [CB_PEER, 'server', CB.cert, CB.key, CB.cert], {
      env: { ...process.env, ...realm.env, KRB5_KTNAME: `FILE:${kt}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(peer);
    writeFileSync(join(realm.dir, `tls-cb-peer-${peer.pid}.pid`), `${peer.pid}\n`);
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: peer.stdout! }).once('line', (l) =>
        resolve(`https://localhost:${(JSON.parse(l) as { port: number }).port}/`),
      );
      peer.once('exit', () => reject(new Error('tls-cb-peer.py server exited')));
    });
    for (const proxy of [squid.url, squid.httpsUrl as string]) {
      for (const channelBindings of [true, false]) {
        const n = createNegotiator(
          { credentials: creds, proxy, proxyCa: proxyCa(), channelBindings },
          { originCa: readFileSync(CB.ca, 'utf8') },
        );
        const res = await n.fetch(url, undefined, globalThis.fetch);
        const body = (await res.json()) as { user?: string; channel_bound?: boolean; error?: string };
        assert.equal(res.status, 200, JSON.stringify(body));
        assert.equal(body.user, `alice@${REALM}`);
        assert.equal(body.channel_bound, channelBindings, `${proxy} channelBindings: ${channelBindings}`);
      }
    }
  });
});
