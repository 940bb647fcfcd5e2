// Differential: spnego/kerberos against the native kerberos@7 addon (libkrb5), same process,
// same MIT realm, same call sequences — results, observable state and errors for bad input
// must agree; each implementation's client must work with the other's server; and the MongoDB
// driver's SASL sequence must bind to slapd through either one.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ours from '../../src/compat/index.js';
import { type Apache, skipUnlessApache, startApache } from './helpers/apache.js';
import {
  bindRequest,
  LdapConnection,
  type Slapd,
  skipUnlessSlapd,
  startSlapd,
  whoAmIRequest,
} from './helpers/ldap.js';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';
import { type NativeKerberos, nativeKerberos, skipUnlessNativeKerberos } from './helpers/native-kerberos.js';

const REALM = 'NATIVE.TEST';
type Api = NativeKerberos;
type Outcome = { ok: true; value: unknown } | { ok: false; type: string; message: string };

async function settle(f: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    return {
      ok: false,
      type: e instanceof TypeError ? 'TypeError' : e instanceof Error ? 'Error' : typeof e,
      message: e instanceof Error ? e.message : String(e),
    };
  }
}

/** Observable state after each step of a client ↔ server exchange. */
async function exchange(cli: Api, srv: Api, service: string, mechOID: number): Promise<unknown[]> {
  const trace: unknown[] = [];
  const client = await cli.initializeClient(service, { mechOID });
  const server = await srv.initializeServer(service);
  trace.push(['init', client.contextComplete, client.username, client.response, server.contextComplete]);
  const first = await client.step('');
  trace.push(['c1', typeof first, client.response === first, client.contextComplete]);
  const reply = await server.step(first);
  trace.push([
    's1',
    typeof reply,
    server.response === reply,
    server.contextComplete,
    server.username,
    server.targetName,
  ]);
  const last = await client.step(reply);
  trace.push(['c2', last, client.response, client.contextComplete, client.username]);
  return trace;
}

describe('spnego/kerberos ≡ native kerberos@7', {
  skip: skipUnlessMit() || skipUnlessSlapd() || skipUnlessApache() || skipUnlessNativeKerberos(),
}, () => {
  let realm: MitRealm;
  let native: Api;
  let slapd: Slapd;
  let apache: Apache;
  const saved = { ...process.env };

  before(async () => {
    native = nativeKerberos();
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal', 'aes128-cts-hmac-sha256-128:normal'],
      principals: [
        { name: 'alice', password: 'alice-pw' },
        { name: 'HTTP/localhost' },
        { name: 'ldap/localhost' },
      ],
    });
    const keytab = await realm.keytab('HTTP/localhost');
    await realm.keytab('ldap/localhost', keytab);
    await realm.kinit('alice', 'alice-pw', realm.ccache);
    // Both implementations read the same environment (the addon through libkrb5's getenv).
    Object.assign(process.env, realm.env, { KRB5_KTNAME: `FILE:${keytab}`, KRB5CCNAME: realm.ccache });
    slapd = await startSlapd({
      dir: join(realm.dir, 'slapd'),
      realm: REALM,
      keytab,
      env: realm.env,
      secprops: 'maxssf=0',
    });
    apache = await startApache({ realm, keytab });
  });
  after(async () => {
    for (const k of ['KRB5_CONFIG', 'KRB5_KDC_PROFILE', 'KRB5CCNAME', 'KRB5_KTNAME']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await slapd?.stop();
    await apache?.stop();
    await realm?.stop();
  });

  it('exports the same names and constant values', () => {
    const names = Object.keys(native).filter((k) => k !== 'definedNapiVersion');
    for (const n of names) assert.ok(n in ours, `spnego/kerberos lacks ${n}`);
    for (const n of names.filter((k) => k.startsWith('GSS_')))
      assert.equal((ours as Record<string, unknown>)[n], (native as Record<string, unknown>)[n], n);
  });

  it('bad input: the same TypeErrors and errors, call by call', async () => {
    const calls: [string, (k: Api) => Promise<unknown>][] = [
      ['initializeClient()', (k) => (k.initializeClient as (...a: unknown[]) => Promise<unknown>)()],
      ['initializeClient(1)', (k) => (k.initializeClient as (...a: unknown[]) => Promise<unknown>)(1)],
      ['initializeServer(null)', (k) => (k.initializeServer as (...a: unknown[]) => Promise<unknown>)(null)],
      [
        'principalDetails(1, h)',
        (k) => (k.principalDetails as (...a: unknown[]) => Promise<unknown>)(1, 'h'),
      ],
      ['principalDetails(s)', (k) => (k.principalDetails as (...a: unknown[]) => Promise<unknown>)('HTTP')],
      ['checkPassword(u)', (k) => (k.checkPassword as (...a: unknown[]) => Promise<unknown>)('u')],
      [
        'checkPassword(u,p,s,1)',
        (k) => (k.checkPassword as (...a: unknown[]) => Promise<unknown>)('u', 'p', 's', 1),
      ],
      ['principalDetails not found', (k) => k.principalDetails('imap', 'localhost')],
      ['principalDetails found', (k) => k.principalDetails('HTTP', 'localhost')],
      ['checkPassword ok', (k) => k.checkPassword('alice', 'alice-pw', 'HTTP/localhost', REALM)],
      ['checkPassword full name', (k) => k.checkPassword(`alice@${REALM}`, 'alice-pw', 'HTTP/localhost')],
      ['checkPassword wrong', (k) => k.checkPassword('alice', 'nope', 'HTTP/localhost', REALM)],
      ['checkPassword unknown', (k) => k.checkPassword('mallory', 'x', 'HTTP/localhost', REALM)],
      ['server.step("")', async (k) => (await k.initializeServer('HTTP@localhost')).step('')],
      [
        'client.step(1)',
        async (k) =>
          ((await k.initializeClient('HTTP@localhost')).step as (c: unknown) => Promise<unknown>)(1),
      ],
      [
        'client.wrap(c, {protect: 1})',
        async (k) =>
          (await k.initializeClient('HTTP@localhost')).wrap('', { protect: 1 as unknown as boolean }),
      ],
      [
        'client.unwrap(null)',
        async (k) =>
          ((await k.initializeClient('HTTP@localhost')).unwrap as (c: unknown) => Promise<unknown>)(null),
      ],
    ];
    for (const [name, call] of calls) {
      const [a, b] = [await settle(() => call(native)), await settle(() => call(ours as Api))];
      assert.deepEqual(b, a, name);
    }
  });

  it('errors that depend on the KDC: the same kind, the same libkrb5 text', async () => {
    const theirs = await settle(async () => (await native.initializeClient('nosuch@localhost')).step(''));
    const mine = await settle(async () => (await ours.initializeClient('nosuch@localhost')).step(''));
    assert.equal(theirs.ok, false);
    assert.equal(mine.ok, false);
    const text = (o: Outcome) => (o.ok ? '' : o.message);
    assert.match(text(theirs), /not found in Kerberos database/);
    assert.match(
      text(mine),
      /^Unspecified GSS failure\. {2}Minor code may provide more information: .*not found in Kerberos database/,
    );
    const bad = await settle(async () => (await ours.initializeServer('imap@localhost')).step('YQ=='));
    const badNative = await settle(async () =>
      (await native.initializeServer('imap@localhost')).step('YQ=='),
    );
    assert.equal(bad.ok, badNative.ok);
  });

  for (const [mech, oid] of [
    ['krb5', 9],
    ['SPNEGO', 6],
    ['default mech', 0],
  ] as const) {
    it(`${mech}: every client/server pairing gives the same observable trace`, async () => {
      const reference = await exchange(native, native, 'HTTP@localhost', oid);
      assert.deepEqual(
        await exchange(ours as Api, native, 'HTTP@localhost', oid),
        reference,
        'ours → native',
      );
      assert.deepEqual(
        await exchange(native, ours as Api, 'HTTP@localhost', oid),
        reference,
        'native → ours',
      );
      assert.deepEqual(
        await exchange(ours as Api, ours as Api, 'HTTP@localhost', oid),
        reference,
        'ours → ours',
      );
    });
  }

  it("initializeServer(''): targetName as the addon reports it", async () => {
    const t = async (cli: Api, srv: Api) => {
      const client = await cli.initializeClient('ldap@localhost');
      const server = await srv.initializeServer('');
      await server.step(await client.step(''));
      return [server.username, server.targetName];
    };
    assert.deepEqual(await t(ours as Api, ours as Api), await t(native, native));
  });

  it('the MongoDB driver sequence binds to slapd through either implementation, identically', async () => {
    const run = async (k: Api, user: string) => {
      const conn = await LdapConnection.open(slapd.port);
      try {
        const client = await k.initializeClient('ldap@localhost', {});
        const trace: unknown[] = [];
        const payload = await client.step('');
        let r = await conn.request(bindRequest(1, 'GSSAPI', Buffer.from(payload, 'base64')));
        trace.push(r.resultCode);
        const negotiated = (await client.step(Buffer.from(r.saslCreds ?? []).toString('base64'))) || '';
        trace.push(negotiated, client.contextComplete, client.username);
        r = await conn.request(bindRequest(2, 'GSSAPI', Buffer.from(negotiated, 'base64')));
        trace.push(r.resultCode);
        const offer = await client.unwrap(Buffer.from(r.saslCreds ?? []).toString('base64'));
        trace.push(offer, client.responseConf);
        // Any non-empty authorization identity is a proxy-authorization request to slapd, which
        // (without authz-policy rules) refuses it for both implementations alike; '' acts as ourselves.
        const final = await client.wrap(offer || '', { user });
        r = await conn.request(bindRequest(3, 'GSSAPI', Buffer.from(final, 'base64')));
        trace.push(r.resultCode, r.diagnostic);
        const who = await conn.request(whoAmIRequest(4));
        trace.push(new TextDecoder().decode(who.value));
        return trace;
      } finally {
        conn.close();
      }
    };
    const reference = await run(native, '');
    assert.equal(reference.at(-3), 0, JSON.stringify(reference));
    assert.deepEqual(await run(ours as Api, ''), reference);
    const proxy = await run(native, `alice@${REALM}`);
    assert.equal(proxy.at(-3), 50);
    assert.deepEqual(await run(ours as Api, `alice@${REALM}`), proxy);
  });

  it('HTTP Negotiate to Apache mod_auth_gssapi (SPNEGO): the same trace through either', async () => {
    const run = async (k: Api) => {
      const client = await k.initializeClient('HTTP@localhost', { mechOID: k.GSS_MECH_OID_SPNEGO });
      const token = await client.step('');
      const res = await fetch(`${apache.url}/private/`, { headers: { Authorization: `Negotiate ${token}` } });
      const www = res.headers.get('www-authenticate') ?? '';
      const body = await res.text();
      const last = await client.step(www.replace(/^Negotiate\s*/, ''));
      return [res.status, body, /^Negotiate \S+$/.test(www), last, client.contextComplete, client.username];
    };
    const reference = await run(native);
    assert.equal(reference[0], 200);
    assert.deepEqual(await run(ours as Api), reference);
  });
});
