// spnego/kerberos against MiniKdc, hermetic: the kerberos@7 call sequences (client ↔ server,
// the MongoDB driver's SASL finish with wrap({ user })), argument TypeErrors with the addon's
// messages, null results where the addon resolves null, and checkPassword's KDC verification.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeKeytab } from '../../src/ccache/keytab.js';
import { decodeNative, encodeNative } from '../../src/compat/base64.js';
import * as kerberos from '../../src/compat/index.js';
import { generateRandomKey } from '../../src/crypto/index.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { ReplayCache } from '../../src/krb5/gss/index.js';
import { createSaslServer } from '../../src/sasl/index.js';
import { MiniKdc } from '../../src/testing/index.js';

const REALM = 'COMPAT.TEST';
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

describe('spnego/kerberos (the kerberos@7 API) on MiniKdc', () => {
  let kdc: MiniKdc;
  let dir: string;
  const saved = { ...process.env };

  before(async () => {
    kdc = await MiniKdc.start({
      realm: REALM,
      principals: [{ name: 'alice', password: 'alice-pw' }, 'HTTP/localhost', 'ldap/localhost'],
    });
    dir = mkdtempSync(join(tmpdir(), 'spnego-compat-'));
    process.env['KRB5_CONFIG'] = await kdc.writeKrb5Conf(join(dir, 'krb5.conf'));
    process.env['KRB5_KTNAME'] =
      `FILE:${await kdc.writeKeytab(join(dir, 'service.keytab'), 'HTTP/localhost', 'ldap/localhost')}`;
    process.env['KRB5CCNAME'] = `FILE:${join(dir, 'ccache')}`;
    const creds = await Credentials.fromPassword(`alice@${REALM}`, 'alice-pw', {
      config: kdc.clientConfig(),
    });
    await creds.save(process.env['KRB5CCNAME']);
  });
  after(async () => {
    for (const k of ['KRB5_CONFIG', 'KRB5_KTNAME', 'KRB5CCNAME']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await kdc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports the addon names and constants', () => {
    assert.deepEqual(
      [
        kerberos.GSS_C_DELEG_FLAG,
        kerberos.GSS_C_MUTUAL_FLAG,
        kerberos.GSS_C_REPLAY_FLAG,
        kerberos.GSS_C_SEQUENCE_FLAG,
        kerberos.GSS_C_CONF_FLAG,
        kerberos.GSS_C_INTEG_FLAG,
        kerberos.GSS_C_ANON_FLAG,
        kerberos.GSS_C_PROT_READY_FLAG,
        kerberos.GSS_C_TRANS_FLAG,
        kerberos.GSS_C_NO_OID,
        kerberos.GSS_MECH_OID_KRB5,
        kerberos.GSS_MECH_OID_SPNEGO,
      ],
      [1, 2, 4, 8, 16, 32, 64, 128, 256, 0, 9, 6],
    );
    assert.match(kerberos.version, /^\d+\.\d+/);
    for (const f of [
      kerberos.initializeClient,
      kerberos.initializeServer,
      kerberos.principalDetails,
      kerberos.checkPassword,
    ])
      assert.equal(typeof f, 'function');
  });

  it('rejects bad arguments with the addon TypeErrors', async () => {
    const te = (re: RegExp) => (e: unknown) => e instanceof TypeError && re.test(e.message);
    const k = kerberos as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    await assert.rejects(k['initializeClient']!(), te(/^parameter `service` must be a string\.$/));
    await assert.rejects(k['initializeServer']!(42), te(/^parameter `service` must be a string\.$/));
    await assert.rejects(k['principalDetails']!('HTTP'), te(/^parameter `hostname` must be a string\.$/));
    await assert.rejects(k['principalDetails']!(1, 'h'), te(/^parameter `service` must be a string\.$/));
    await assert.rejects(k['checkPassword']!(1, 'p', 's'), te(/^parameter `username` must be a string\.$/));
    await assert.rejects(
      k['checkPassword']!('u', null, 's'),
      te(/^parameter `password` must be a string\.$/),
    );
    await assert.rejects(k['checkPassword']!('u', 'p'), te(/^parameter `service` must be a string\.$/));
    await assert.rejects(
      k['checkPassword']!('u', 'p', 's', 7),
      te(/^if specified, parameter `defaultRealm` must be a string\.$/),
    );
    const client = (await kerberos.initializeClient('HTTP@localhost')) as unknown as Record<
      string,
      (...a: unknown[]) => Promise<unknown>
    >;
    await assert.rejects(client['step']!(null), te(/^parameter `challenge` must be a string\.$/));
    await assert.rejects(client['unwrap']!(undefined), te(/^parameter `challenge` must be a string\.$/));
    await assert.rejects(client['wrap']!(5), te(/^parameter `challenge` must be a string\.$/));
    await assert.rejects(
      client['wrap']!('', { protect: 'yes' }),
      te(/^options\.protect must be a boolean\.$/),
    );
    const server = (await kerberos.initializeServer('HTTP@localhost')) as unknown as Record<
      string,
      (...a: unknown[]) => Promise<unknown>
    >;
    await assert.rejects(server['step']!({}), te(/^parameter `challenge` must be a string\.$/));
  });

  it('client ↔ server: tokens in base64, null when there is none, names once complete', async () => {
    const client = await kerberos.initializeClient('HTTP@localhost', {});
    const server = await kerberos.initializeServer('HTTP@localhost');
    assert.equal(client.contextComplete, false);
    assert.equal(client.username, null);
    assert.equal(client.response, null);
    assert.equal(server.contextComplete, false);
    const first = await client.step('');
    assert.equal(typeof first, 'string');
    assert.equal(client.response, first);
    assert.equal(unb64(first)[0], 0x60);
    assert.equal(client.contextComplete, false);
    const reply = await server.step(first);
    assert.equal(server.contextComplete, true);
    assert.equal(server.username, `alice@${REALM}`);
    assert.equal(server.targetName, null);
    assert.equal(server.response, reply);
    assert.equal(await client.step(reply), null);
    assert.equal(client.contextComplete, true);
    assert.equal(client.username, `alice@${REALM}`);
    assert.equal(client.response, null);
    await assert.rejects(server.step(''), { message: 'No challenge parameter in request from client' });
  });

  it("initializeServer('') accepts any keytab key and reports the targetName", async () => {
    const client = await kerberos.initializeClient('ldap@localhost', {
      mechOID: kerberos.GSS_MECH_OID_SPNEGO,
    });
    const server = await kerberos.initializeServer('');
    const first = await client.step('');
    assert.equal(unb64(first)[0], 0x60);
    await client.step(await server.step(first));
    assert.equal(server.targetName, `ldap/localhost@${REALM}`);
    assert.equal(client.contextComplete, true);
  });

  it('flags without GSS_C_MUTUAL_FLAG: complete after the first step; the addon ignores gssFlag', async () => {
    const one = await kerberos.initializeClient('HTTP@localhost', {
      flags: kerberos.GSS_C_SEQUENCE_FLAG,
    } as never);
    await one.step('');
    assert.equal(one.contextComplete, true);
    const typed = await kerberos.initializeClient('HTTP@localhost', {
      gssFlag: kerberos.GSS_C_SEQUENCE_FLAG,
    });
    await typed.step('');
    assert.equal(typed.contextComplete, false);
  });

  it('the MongoDB driver sequence against an RFC 4752 server: unwrap, then wrap({ user })', async () => {
    const client = await kerberos.initializeClient('ldap@localhost');
    const sasl = createSaslServer({
      service: 'ldap@localhost',
      replayCache: new ReplayCache(),
      layers: ['none'],
    });
    const payload = await client.step('');
    const rep = await sasl.step(unb64(payload));
    const empty = (await client.step(b64(rep.token!))) ?? '';
    assert.equal(empty, '');
    const offer = await sasl.step(unb64(empty));
    const unwrapped = await client.unwrap(b64(offer.token!));
    assert.deepEqual([...unb64(unwrapped)], [1, 0, 0, 0]);
    assert.equal(client.responseConf, 0);
    const final = await client.wrap(unwrapped, { user: `alice@${REALM}` });
    const done = await sasl.step(unb64(final));
    assert.equal(done.complete, true);
    assert.equal(sasl.authorizationId, `alice@${REALM}`);
    assert.equal(sasl.layer, 'none');
  });

  it('wrap without user still builds the none-layer message; protect asks for confidentiality', async () => {
    const fresh = await kerberos.initializeClient('ldap@localhost');
    const srv = createSaslServer({ service: 'ldap@localhost', replayCache: new ReplayCache() });
    const rep = await srv.step(unb64(await fresh.step('')));
    await fresh.step(b64(rep.token!));
    const o = await srv.step(new Uint8Array(0));
    const off = await fresh.unwrap(b64(o.token!));
    assert.equal(unb64(off).length, 4);
    const final = await fresh.wrap(off, { protect: true });
    await srv.step(unb64(final));
    assert.equal(srv.layer, 'none');
    assert.equal(srv.authorizationId, `alice@${REALM}`);
  });

  it('unwrap/wrap before the context is complete fail as GSS errors', async () => {
    const client = await kerberos.initializeClient('HTTP@localhost');
    await assert.rejects(client.unwrap('AAAA'), { message: /^No context has been established/ });
    await assert.rejects(client.wrap('AAAA'), /No context has been established/);
  });

  it('a service the KDC does not know fails at the first step with MIT text', async () => {
    const client = await kerberos.initializeClient('nosuch@localhost');
    await assert.rejects(client.step(''), /Server not found in Kerberos database/);
  });

  it('principalDetails finds the keytab principal for service and host', async () => {
    assert.equal(await kerberos.principalDetails('HTTP', 'localhost'), `HTTP/localhost@${REALM}`);
    await assert.rejects(kerberos.principalDetails('imap', 'localhost'), {
      message: 'Principal not found in keytab (-1)',
    });
  });

  it('checkPassword: a good password resolves null, a bad one is Preauthentication failed', async () => {
    assert.equal(await kerberos.checkPassword('alice', 'alice-pw', 'HTTP/localhost', REALM), null);
    assert.equal(await kerberos.checkPassword(`alice@${REALM}`, 'alice-pw', 'HTTP/localhost'), null);
    await assert.rejects(kerberos.checkPassword('alice', 'wrong', 'HTTP/localhost', REALM), {
      message: 'Preauthentication failed (-1765328360)',
    });
    await assert.rejects(
      kerberos.checkPassword('nobody', 'x', 'HTTP/localhost', REALM),
      /Client not found in Kerberos database/,
    );
  });

  it('checkPassword verifies the KDC with the service key: a keytab key the KDC does not share fails', async () => {
    const fake = join(dir, 'fake.keytab');
    await writeKeytab(fake, [
      {
        principal: { realm: REALM, name: { nameType: 3, nameString: ['HTTP', 'localhost'] } },
        timestamp: 0,
        kvno: 1,
        key: { keytype: 18, keyvalue: generateRandomKey(18).bytes },
      },
    ]);
    const real = process.env['KRB5_KTNAME'];
    process.env['KRB5_KTNAME'] = `FILE:${fake}`;
    try {
      await assert.rejects(kerberos.checkPassword('alice', 'alice-pw', 'HTTP/localhost', REALM));
      // No key for the service at all: passes unverified, as MIT without verify_ap_req_nofail.
      assert.equal(await kerberos.checkPassword('alice', 'alice-pw', 'ldap/localhost', REALM), null);
    } finally {
      process.env['KRB5_KTNAME'] = real;
    }
  });

  it('without a credential cache the client takes a TGT from KRB5_CLIENT_KTNAME, as libkrb5 does', async () => {
    const saved = { cc: process.env['KRB5CCNAME'], kt: process.env['KRB5_CLIENT_KTNAME'] };
    process.env['KRB5CCNAME'] = `FILE:${join(dir, 'no-such-ccache')}`;
    try {
      const none = await kerberos.initializeClient('HTTP@localhost');
      await assert.rejects(none.step(''), { message: /^Unspecified GSS failure.*no credential cache/ });
      process.env['KRB5_CLIENT_KTNAME'] = `FILE:${await kdc.writeKeytab(join(dir, 'alice.keytab'), 'alice')}`;
      const client = await kerberos.initializeClient('HTTP@localhost');
      const server = await kerberos.initializeServer('HTTP@localhost');
      await client.step(await server.step(await client.step('')));
      assert.equal(client.contextComplete, true);
      assert.equal(server.username, `alice@${REALM}`);
    } finally {
      process.env['KRB5CCNAME'] = saved.cc;
      if (saved.kt === undefined) delete process.env['KRB5_CLIENT_KTNAME'];
      else process.env['KRB5_CLIENT_KTNAME'] = saved.kt;
    }
  });

  it('decodes base64 as the addon: four characters at a time, invalid input becomes empty', () => {
    assert.deepEqual([...decodeNative('AQID')], [1, 2, 3]);
    assert.deepEqual([...decodeNative('AQI=')], [1, 2]);
    assert.deepEqual([...decodeNative('AQ==')], [1]);
    assert.equal(decodeNative('challenge').length, 0);
    assert.equal(decodeNative('AQ I=').length, 0);
    assert.equal(encodeNative(new Uint8Array([1, 2, 3, 4])), 'AQIDBA==');
    assert.equal(encodeNative(new Uint8Array([1, 2, 3, 4, 5])), 'AQIDBAU=');
  });
});
