// Cyrus SASL's own sample server and client (sasl2-bin) against spnego/sasl, both ways, with
// each layer forced by their `-b min=N,max=N` SSF bounds: the exchange completes, the peer
// reports our principal, and the messages each side encodes after the negotiation decode on
// the other (wrapped with the negotiated layer, or plain with none).
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

const REALM = 'CYRUS.TEST';
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const BOUNDS: Record<LayerName, string> = {
  none: 'min=0,max=0',
  integrity: 'min=1,max=1',
  confidentiality: 'min=56,max=256',
};
/** Cyrus's sasl_encode output carries the RFC 4422 §3.7 length frame; its strings end in NUL. */
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

describe('Cyrus SASL sample server/client ↔ spnego/sasl', {
  skip: skipUnlessMit() || skipUnlessCyrusSample(),
}, () => {
  let realm: MitRealm;
  let keytab: string;
  let creds: Credentials;
  const procs: SampleProcess[] = [];

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal', 'aes256-cts-hmac-sha384-192:normal'],
      principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'ldap/localhost' }],
    });
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

  for (const layer of ['none', 'integrity', 'confidentiality'] as LayerName[]) {
    it(`our client → sasl-sample-server (${layer})`, async () => {
      const server = SampleProcess.start(
        'server',
        ['-m', 'GSSAPI', '-s', 'ldap', '-d', 'localhost', '-u', REALM, '-b', BOUNDS[layer]],
        { ...realm.env, KRB5_KTNAME: `FILE:${keytab}` },
        realm.dir,
      );
      procs.push(server);
      const mechs = await server.next(['S']);
      assert.equal(dec(mechs.data), 'GSSAPI');
      const client = createSaslClient({ credentials: creds, service: 'ldap@localhost' });
      server.send('C', cat(enc('GSSAPI\0'), await client.step()));
      for (;;) {
        const e = await server.next(['S', 'complete']);
        if (e.kind === 'complete') break;
        server.send('C', await client.step(e.data));
      }
      assert.equal(client.complete, true);
      assert.equal(client.layer, layer);
      assert.equal((await server.next(['user'])).name, `alice@${REALM}`);
      const encoded = await server.next(['S']);
      assert.equal(
        dec(layer === 'none' ? encoded.data : client.unwrap(unframe(encoded.data))),
        'srv message 1\0',
      );
      const reply = enc('client message 1\0');
      server.send('C', layer === 'none' ? reply : encodeSaslFrame(client.wrap(reply)));
      assert.equal((await server.next(['decoded'])).text, 'client message 1');
    });

    it(`sasl-sample-client → our server (${layer})`, async () => {
      const client = SampleProcess.start(
        'client',
        ['-m', 'GSSAPI', '-s', 'ldap', '-n', 'localhost', '-u', `alice@${REALM}`, '-b', BOUNDS[layer]],
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
      assert.equal(dec(first.subarray(0, nul)), 'GSSAPI');
      let out = await server.step(first.subarray(nul + 1));
      while (!out.complete) {
        client.send('S', out.token ?? new Uint8Array(0));
        out = await server.step((await client.next(['C'])).data);
      }
      assert.equal(server.user, `alice@${REALM}`);
      assert.equal(server.authorizationId, `alice@${REALM}`);
      assert.equal(server.layer, layer);
      await client.next(['complete']);
      const msg = enc('srv message 1\0');
      client.send('S', layer === 'none' ? msg : encodeSaslFrame(server.wrap(msg)));
      assert.equal((await client.next(['decoded'])).text, 'srv message 1');
      const back = (await client.next(['C'])).data;
      assert.equal(dec(layer === 'none' ? back : server.unwrap(unframe(back))), 'client message 1\0');
    });
  }
});
