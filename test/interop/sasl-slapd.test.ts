// OpenLDAP slapd with Cyrus SASL GSSAPI as the real server: a SASL bind whose every GSSAPI
// byte comes from spnego/sasl, then WhoAmI (RFC 4532) through the negotiated layer — none,
// integrity and confidentiality, each forced by slapd's sasl-secprops.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { createSaslClient, type LayerName, SaslError } from '../../src/sasl/index.js';
import {
  bindRequest,
  LdapConnection,
  type Slapd,
  skipUnlessSlapd,
  startSlapd,
  whoAmIRequest,
} from './helpers/ldap.js';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const REALM = 'SLAPD.TEST';

/** SASL bind with our client over `conn`; returns the bind result and the client. */
async function bind(conn: LdapConnection, client: ReturnType<typeof createSaslClient>) {
  let id = 1;
  let response: Uint8Array | undefined = await client.step();
  for (;;) {
    const r = await conn.request(bindRequest(id++, 'GSSAPI', response));
    if (r.resultCode !== 14) return r; // not saslBindInProgress
    response = await client.step(r.saslCreds ?? new Uint8Array(0));
  }
}

describe('slapd (Cyrus SASL GSSAPI) ← spnego/sasl', { skip: skipUnlessMit() || skipUnlessSlapd() }, () => {
  let realm: MitRealm;
  let creds: Credentials;
  const servers: Record<string, Slapd> = {};

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal', 'aes256-cts-hmac-sha384-192:normal'],
      principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'ldap/localhost' }],
    });
    const keytab = await realm.keytab('ldap/localhost');
    for (const [name, secprops] of [
      ['none', 'maxssf=0'],
      ['integrity', 'minssf=1,maxssf=1'],
      ['confidentiality', 'minssf=56'],
    ] as const) {
      servers[name] = await startSlapd({
        dir: join(realm.dir, `slapd-${name}`),
        realm: REALM,
        keytab,
        env: realm.env,
        secprops,
      });
    }
    await realm.kinit('alice', 'alice-pw', realm.ccache);
    creds = await Credentials.fromCcache(realm.ccache, {
      config: await loadConfig({ files: [realm.krb5ConfPath] }),
    });
  });
  after(async () => {
    for (const s of Object.values(servers)) await s.stop();
    await realm?.stop();
  });

  for (const layer of ['none', 'integrity', 'confidentiality'] as LayerName[]) {
    it(`binds with the ${layer} layer and WhoAmI names our principal`, async () => {
      const slapd = servers[layer]!;
      const conn = await LdapConnection.open(slapd.port);
      try {
        // The client accepts every layer: slapd's secprops alone decide which one is used.
        const client = createSaslClient({ credentials: creds, service: 'ldap@localhost' });
        const r = await bind(conn, client);
        assert.equal(r.resultCode, 0, `bind failed: ${r.diagnostic}\n${slapd.log().slice(-2000)}`);
        assert.equal(client.complete, true);
        assert.equal(client.layer, layer);
        if (layer !== 'none') conn.useLayer(client);
        const who = await conn.request(whoAmIRequest(10));
        assert.equal(who.resultCode, 0, who.diagnostic);
        assert.match(new TextDecoder().decode(who.value), /^dn:uid=alice,cn=slapd\.test,cn=gssapi,cn=auth$/i);
      } finally {
        conn.close();
      }
    });
  }

  it('a client that wants confidentiality refuses a server offering only none (typed error)', async () => {
    const conn = await LdapConnection.open(servers['none']!.port);
    try {
      const client = createSaslClient({
        credentials: creds,
        service: 'ldap@localhost',
        layers: ['confidentiality'],
      });
      await assert.rejects(
        bind(conn, client),
        (e) => e instanceof SaslError && e.code === 'NO_ACCEPTABLE_LAYER',
      );
    } finally {
      conn.close();
    }
  });

  it('slapd refuses the none layer when its secprops demand confidentiality', async () => {
    const conn = await LdapConnection.open(servers['confidentiality']!.port);
    try {
      const client = createSaslClient({
        credentials: creds,
        service: 'ldap@localhost',
        layers: ['none', 'integrity'],
      });
      await assert.rejects(
        bind(conn, client),
        (e) => e instanceof SaslError && e.code === 'NO_ACCEPTABLE_LAYER',
      );
    } finally {
      conn.close();
    }
  });
});
