// Client keytabs that renew themselves, and secrets handed over as bytes: with
// KRB5_CLIENT_KTNAME (or default_client_keytab_name) and no usable ccache, Credentials and
// negotiateFetch get a TGT from the keytab, refresh it past the middle of its life as MIT's
// GSSAPI does, make one AS exchange for any number of concurrent callers, and write nothing
// to disk. MiniKdc counts the AS requests; its clock is moved with the client's.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { parseCcache, serializeCcache } from '../../src/ccache/ccache.js';
import { parseKeytab } from '../../src/ccache/keytab.js';
import { CredentialsError } from '../../src/errors.js';
import { negotiateFetch } from '../../src/http/index.js';
import { parseConfig } from '../../src/krb5/config.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { negotiateMiddleware, type RequestLike } from '../../src/server/index.js';
import { MiniKdc } from '../../src/testing/index.js';

const REALM = 'CKT.TEST';
const SVC = 'svc-client';
const LIFETIME = 60;

describe('client keytab credentials', () => {
  let kdc: MiniKdc;
  let dir: string;
  let ktPath: string;
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    kdc = await MiniKdc.start({
      realm: REALM,
      principals: [SVC, 'HTTP/localhost', 'HTTP/a.localhost', 'HTTP/b.localhost'],
      lifetime: LIFETIME,
      renewLifetime: 0,
    });
    for (let i = 0; i < 10; i++) kdc.addPrincipal(`HTTP/c${i}.localhost`);
    dir = mkdtempSync(join(tmpdir(), 'spnego-ckt-'));
    ktPath = join(dir, 'client.keytab');
    writeFileSync(ktPath, kdc.keytabFor(SVC));
  });
  after(async () => {
    await kdc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    for (const k of ['KRB5CCNAME', 'KRB5_CLIENT_KTNAME', 'KRB5_CONFIG']) saved[k] = process.env[k];
    // No ccache anywhere, no krb5.conf file: everything comes from the options and the keytab.
    process.env['KRB5CCNAME'] = `FILE:${join(dir, 'no-such-ccache')}`;
    process.env['KRB5_CONFIG'] = join(dir, 'no-such-krb5.conf');
    process.env['KRB5_CLIENT_KTNAME'] = `FILE:${ktPath}`;
    kdc.faults.clockSkewSeconds = 0;
    kdc.faults.down = false;
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  // clockskew 5: a 60 s ticket must not count as expired on arrival (MIT's default is 300 s).
  const config = () => kdc.clientConfig({ libdefaults: { clockskew: '5' } });
  const asCount = () => kdc.count('AS-REQ', { succeeded: true });

  it('gets a TGT from KRB5_CLIENT_KTNAME when there is no ccache, and writes no file', async () => {
    const before = asCount();
    const creds = await Credentials.fromEnvironment({ config: config() });
    assert.equal(creds.principal.name.nameString.join('/'), SVC);
    const t = await creds.getServiceTicket('HTTP/localhost');
    assert.equal(t.server.name.nameString.join('/'), 'HTTP/localhost');
    assert.equal(asCount() - before, 1);
    assert.equal(existsSync(join(dir, 'no-such-ccache')), false, 'nothing written to disk');
  });

  it('a KCM: default cache whose daemon is not running falls back to the client keytab too', async () => {
    process.env['KRB5CCNAME'] = 'KCM:';
    const cfg = kdc.clientConfig({ libdefaults: { clockskew: '5', kcm_socket: join(dir, 'no-kcm.socket') } });
    const creds = await Credentials.fromEnvironment({ config: cfg });
    assert.equal(creds.principal.name.nameString.join('/'), SVC);
    delete process.env['KRB5_CLIENT_KTNAME'];
    await assert.rejects(Credentials.fromEnvironment({ config: cfg }), (e: unknown) => {
      assert.equal((e as CredentialsError).code, 'KCM_NO_SERVER');
      return true;
    });
  });

  it('takes default_client_keytab_name from krb5.conf when the variable is unset', async () => {
    delete process.env['KRB5_CLIENT_KTNAME'];
    const cfg = kdc.clientConfig({
      libdefaults: { clockskew: '5', default_client_keytab_name: `FILE:${ktPath}` },
    });
    const creds = await Credentials.fromEnvironment({ config: cfg });
    assert.equal(creds.principal.name.nameString.join('/'), SVC);
  });

  it('without a client keytab, the missing ccache is the error, with its kinit hint', async () => {
    delete process.env['KRB5_CLIENT_KTNAME'];
    await assert.rejects(Credentials.fromEnvironment({ config: config() }), (e: unknown) => {
      assert.ok(e instanceof CredentialsError);
      assert.equal(e.code, 'CCACHE_NOT_FOUND');
      assert.match(e.hint ?? '', /kinit/);
      return true;
    });
  });

  it('a ccache with a valid TGT wins over the client keytab', async () => {
    const alice = await Credentials.fromKeytab(`${SVC}@${REALM}`, parseKeytab(kdc.keytabFor(SVC)), {
      config: config(),
    });
    const path = join(dir, 'valid-ccache');
    await alice.save(`FILE:${path}`);
    process.env['KRB5CCNAME'] = `FILE:${path}`;
    const before = asCount();
    const creds = await Credentials.fromEnvironment({ config: config() });
    await creds.getServiceTicket('HTTP/localhost');
    assert.equal(asCount() - before, 0, 'the ccache TGT was used');
  });

  it('an expired ccache TGT of the keytab principal is replaced from the keytab, in memory', async () => {
    const old = await Credentials.fromKeytab(`${SVC}@${REALM}`, parseKeytab(kdc.keytabFor(SVC)), {
      config: config(),
      now: () => Date.now() - 3600_000,
    });
    const path = join(dir, 'expired-ccache');
    await old.save(`FILE:${path}`);
    const bytes = serializeCcache(parseCcache(new Uint8Array(readFileSync(path))));
    process.env['KRB5CCNAME'] = `FILE:${path}`;
    const before = asCount();
    const creds = await Credentials.fromEnvironment({ config: config() });
    await creds.getServiceTicket('HTTP/a.localhost');
    assert.equal(asCount() - before, 1);
    assert.deepEqual(new Uint8Array(readFileSync(path)), bytes, 'the expired ccache was left as it was');
  });

  it('refreshes the TGT past the middle of its life; concurrent callers share one AS exchange', async () => {
    let skew = 0;
    const now = () => Date.now() + skew * 1000;
    const move = (s: number) => {
      skew = s;
      kdc.faults.clockSkewSeconds = s;
    };
    const creds = await Credentials.fromEnvironment({ config: config(), now });
    const start = asCount();
    await creds.getServiceTicket('HTTP/localhost');
    move(10);
    await creds.getServiceTicket('HTTP/a.localhost');
    assert.equal(asCount() - start, 0, 'before half-life the TGT is used as it is');
    move(35);
    await creds.getServiceTicket('HTTP/b.localhost');
    assert.equal(asCount() - start, 1, 'past half-life a new TGT is obtained');
    // Past the end of the first TGT and the middle of the second: ten requests for ten services.
    move(LIFETIME + 10);
    const tickets = await Promise.all(
      Array.from({ length: 10 }, (_, i) => creds.getServiceTicket(`HTTP/c${i}.localhost`)),
    );
    assert.equal(tickets.length, 10);
    assert.equal(asCount() - start, 2, 'one AS exchange for ten concurrent callers');
    for (const t of tickets) assert.ok(t.endTime.getTime() > now(), 'tickets outlive the request');
  });

  it('a failed refresh keeps the TGT while it lasts, then fails with the KDC error', async () => {
    let skew = 0;
    const now = () => Date.now() + skew * 1000;
    const move = (s: number) => {
      skew = s;
      kdc.faults.clockSkewSeconds = s;
    };
    const creds = await Credentials.fromEnvironment({ config: config(), now });
    const start = asCount();
    move(40);
    // The AS exchange now fails (the KDC forgot the client); the TGT still has 20 s.
    kdc.faults.unknownPrincipals.add(SVC);
    try {
      const t = await creds.getServiceTicket('HTTP/a.localhost');
      assert.equal(t.server.name.nameString.join('/'), 'HTTP/a.localhost');
      assert.equal(asCount() - start, 0);
      // Within the retry pause the refresh is not tried again.
      const tries = kdc.count('AS-REQ');
      await creds.getServiceTicket('HTTP/b.localhost');
      assert.equal(kdc.count('AS-REQ'), tries);
      move(LIFETIME + 5);
      await assert.rejects(creds.getServiceTicket('HTTP/localhost'), (e: unknown) => {
        assert.equal((e as { code?: string }).code, 'KDC_ERR_C_PRINCIPAL_UNKNOWN');
        return true;
      });
    } finally {
      kdc.faults.unknownPrincipals.delete(SVC);
    }
  });
});

describe('secrets as bytes, krb5.conf as text, nothing on disk', () => {
  let kdc: MiniKdc;
  let server: Server;
  let url: string;
  let dir: string;
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    kdc = await MiniKdc.start({ realm: REALM, principals: [SVC, 'HTTP/localhost'] });
    const mw = negotiateMiddleware({ keytab: kdc.keytabFor('HTTP/localhost'), config: kdc.clientConfig() });
    server = createServer((req, res) => {
      const r = req as unknown as RequestLike;
      mw(r, res, () => res.end(`hello ${r.remoteUser}`));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://localhost:${(server.address() as { port: number }).port}/`;
    dir = mkdtempSync(join(tmpdir(), 'spnego-secrets-'));
    for (const k of ['KRB5CCNAME', 'KRB5_CLIENT_KTNAME', 'KRB5_CONFIG']) saved[k] = process.env[k];
    process.env['KRB5CCNAME'] = `FILE:${join(dir, 'ccache')}`;
    process.env['KRB5_CONFIG'] = join(dir, 'no-such-krb5.conf');
    delete process.env['KRB5_CLIENT_KTNAME'];
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await kdc?.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('a keytab from base64 and krb5.conf from text authenticate a request, leaving no file behind', async () => {
    const b64 = Buffer.from(kdc.keytabFor(SVC)).toString('base64');
    const config = parseConfig(kdc.krb5Config);
    const credentials = await Credentials.fromKeytab(SVC, parseKeytab(Buffer.from(b64, 'base64')), {
      config,
    });
    const res = await negotiateFetch({ credentials, config })(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `hello ${SVC}@${REALM}`);
    assert.equal(existsSync(join(dir, 'ccache')), false);
  });

  it('a ccache from bytes works in memory; the `config` option reaches the default credentials', async () => {
    const config = parseConfig(kdc.krb5Config);
    const donor = await Credentials.fromKeytab(SVC, parseKeytab(kdc.keytabFor(SVC)), { config });
    const creds = await Credentials.fromCcacheData(serializeCcache(donor.toCcache()), { config });
    const res = await negotiateFetch({ credentials: creds })(url);
    assert.equal(res.status, 200);
    // A MEMORY: cache named in KRB5CCNAME, read through negotiate()'s defaults with `config`.
    await donor.save('MEMORY:lambda');
    process.env['KRB5CCNAME'] = 'MEMORY:lambda';
    const viaDefault = await negotiateFetch({ config })(url);
    assert.equal(viaDefault.status, 200);
    assert.equal(existsSync(join(dir, 'ccache')), false);
  });

  it('the client keytab path through negotiateFetch with `config`', async () => {
    const ktPath = join(dir, 'client.keytab');
    writeFileSync(ktPath, kdc.keytabFor(SVC));
    process.env['KRB5CCNAME'] = `FILE:${join(dir, 'ccache')}`;
    process.env['KRB5_CLIENT_KTNAME'] = ktPath;
    const res = await negotiateFetch({ config: parseConfig(kdc.krb5Config) })(url);
    assert.equal(res.status, 200);
    assert.equal(existsSync(join(dir, 'ccache')), false);
  });

  it('a config that is not a parsed krb5.conf is refused at creation', () => {
    assert.throws(
      () => negotiateFetch({ config: '[libdefaults]' as never }),
      (e: unknown) => (e as { code?: string }).code === 'BAD_OPTION',
    );
  });
});
