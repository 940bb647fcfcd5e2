// SASL GSSAPI for an RC4-only service account (the case RFC 4757 per-message tokens exist for:
// Active Directory accounts without AES keys), against Cyrus SASL's sample server and client on
// MIT krb5 1.20: the ldap/localhost key and session keys are arcfour-hmac, so the security layer's
// Wrap tokens are RFC 4757 ones (02 01 inside the RFC 2743 framing), with integrity and with
// confidentiality, both ways.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readKeytab } from '../../src/ccache/keytab.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { ReplayCache } from '../../src/krb5/gss/index.js';
import {
  createSaslClient,
  createSaslServer,
  encodeSaslFrame,
  type LayerName,
  SaslFrameReader,
} from '../../src/sasl/index.js';
import { SampleProcess, skipUnlessCyrusSample } from './helpers/cyrus-sample.js';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const REALM = 'SASLRC4.TEST';
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const BOUNDS: Record<string, string> = { integrity: 'min=1,max=1', confidentiality: 'min=56,max=256' };
const unframe = (b: Uint8Array) => {
  const [token] = new SaslFrameReader(65536).push(b);
  assert.ok(token);
  return token;
};
const cat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};
/** An RFC 4757 Wrap token: RFC 2743 framing (60 …, krb5 OID) around TOK_ID 02 01. */
function assertRc4Wrap(token: Uint8Array): void {
  assert.equal(token[0], 0x60);
  const at = 2 + ((token[1] ?? 0) & 0x80 ? (token[1] ?? 0) & 0x7f : 0);
  const inner = at + 2 + (token[at + 1] ?? 0);
  assert.deepEqual([token[inner], token[inner + 1]], [0x02, 0x01]);
}

describe('SASL GSSAPI with an RC4-only service: Cyrus sample server/client ↔ spnego/sasl', {
  skip: skipUnlessMit() || skipUnlessCyrusSample(),
}, () => {
  let realm: MitRealm;
  let keytab: string;
  let creds: Credentials;
  const procs: SampleProcess[] = [];

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal', 'arcfour-hmac:normal'],
      // MIT 1.20's KDC issues rc4-hmac session keys only with allow_rc4.
      kdcLibdefaults: { allow_rc4: 'true' },
      principals: [{ name: 'alice', password: 'alice-pw' }],
    });
    await realm.kadmin('addprinc -randkey -e arcfour-hmac:normal ldap/localhost');
    await realm.kadmin('setstr ldap/localhost session_enctypes arcfour-hmac');
    keytab = await realm.keytab('ldap/localhost');
    await realm.kinit('alice', 'alice-pw', realm.ccache);
    creds = await Credentials.fromCcache(realm.ccache, {
      config: await loadConfig({ files: [realm.krb5ConfPath] }),
    });
  });
  after(async () => {
    for (const p of procs) p.stop();
    await realm?.stop();
  });

  for (const layer of ['integrity', 'confidentiality'] as LayerName[]) {
    it(`our client → sasl-sample-server (${layer}) over RFC 4757 tokens`, async () => {
      const server = SampleProcess.start(
        'server',
        ['-m', 'GSSAPI', '-s', 'ldap', '-d', 'localhost', '-u', REALM, '-b', BOUNDS[layer]!],
        { ...realm.env, KRB5_KTNAME: `FILE:${keytab}` },
        realm.dir,
      );
      procs.push(server);
      assert.equal(dec((await server.next(['S'])).data), 'GSSAPI');
      const client = createSaslClient({ credentials: creds, service: 'ldap@localhost' });
      server.send('C', cat(enc('GSSAPI\0'), await client.step()));
      for (;;) {
        const e = await server.next(['S', 'complete']);
        if (e.kind === 'complete') break;
        server.send('C', await client.step(e.data));
      }
      assert.equal(client.layer, layer);
      assert.equal((await server.next(['user'])).name, `alice@${REALM}`);
      const wrapped = unframe((await server.next(['S'])).data);
      assertRc4Wrap(wrapped);
      assert.equal(dec(client.unwrap(wrapped)), 'srv message 1\0');
      const reply = client.wrap(enc('client message 1\0'));
      assertRc4Wrap(reply);
      server.send('C', encodeSaslFrame(reply));
      assert.equal((await server.next(['decoded'])).text, 'client message 1');
    });

    it(`sasl-sample-client → our server (${layer}) over RFC 4757 tokens`, async () => {
      const client = SampleProcess.start(
        'client',
        ['-m', 'GSSAPI', '-s', 'ldap', '-n', 'localhost', '-u', `alice@${REALM}`, '-b', BOUNDS[layer]!],
        realm.env,
        realm.dir,
      );
      procs.push(client);
      const server = createSaslServer({
        keytab: await readKeytab(keytab),
        service: 'ldap@localhost',
        replayCache: new ReplayCache(),
        layers: [layer],
      });
      client.send('S', enc('GSSAPI'));
      const first = (await client.next(['C'])).data;
      const nul = first.indexOf(0);
      let out = await server.step(first.subarray(nul + 1));
      while (!out.complete) {
        client.send('S', out.token ?? new Uint8Array(0));
        out = await server.step((await client.next(['C'])).data);
      }
      assert.equal(server.user, `alice@${REALM}`);
      assert.equal(server.layer, layer);
      await client.next(['complete']);
      const msg = server.wrap(enc('srv message 1\0'));
      assertRc4Wrap(msg);
      client.send('S', encodeSaslFrame(msg));
      assert.equal((await client.next(['decoded'])).text, 'srv message 1');
      const back = unframe((await client.next(['C'])).data);
      assertRc4Wrap(back);
      assert.equal(dec(server.unwrap(back)), 'client message 1\0');
    });
  }
});
