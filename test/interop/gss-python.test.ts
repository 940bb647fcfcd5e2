// Context establishment, MIC and Wrap between our contexts and MIT's GSS-API (Debian's
// python3-gssapi), both roles, krb5 and SPNEGO, with and without confidentiality:
// MIT verifies our AP-REP, unwraps our tokens and verifies our MICs, and the reverse.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readKeytab } from '../../src/ccache/keytab.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import {
  createAcceptorContext,
  createInitiatorContext,
  type SecurityContext,
} from '../../src/spnego/index.js';
import { fromB64, type GssPeer, skipUnlessPythonGssapi, startGssPeer, toB64 } from './helpers/gss-peer.js';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

async function exchangeMessages(ours: SecurityContext, peer: GssPeer): Promise<void> {
  for (const conf of [true, false]) {
    // ours → MIT
    const w = ours.wrap(enc(`ours-${conf}`), { confidential: conf });
    const u = await peer.call({ op: 'unwrap', token: toB64(w) });
    assert.equal(u.error, undefined);
    assert.equal(dec(fromB64(u.msg)), `ours-${conf}`);
    assert.equal(u.conf, conf);
    // MIT → ours
    const mw = await peer.call({ op: 'wrap', msg: toB64(enc(`mit-${conf}`)), conf });
    assert.equal(mw.error, undefined);
    const ou = ours.unwrap(fromB64(mw.token));
    assert.equal(dec(ou.message), `mit-${conf}`);
    assert.equal(ou.confidential, conf);
  }
  const mic = ours.getMIC(enc('signed by us'));
  assert.deepEqual(await peer.call({ op: 'verify', msg: toB64(enc('signed by us')), token: toB64(mic) }), {
    ok: true,
  });
  const bad = await peer.call({ op: 'verify', msg: toB64(enc('signed by someone')), token: toB64(mic) });
  assert.match(bad.error ?? '', /BadMIC|integrity|signature/i);
  const theirs = await peer.call({ op: 'mic', msg: toB64(enc('signed by MIT')) });
  ours.verifyMIC(enc('signed by MIT'), fromB64(theirs.token));
  assert.throws(() => ours.verifyMIC(enc('signed by MIT?'), fromB64(theirs.token)), { code: 'BAD_MIC' });
}

for (const enctype of ['aes256-cts-hmac-sha1-96', 'aes256-cts-hmac-sha384-192']) {
  describe(`MIT GSS-API (python3-gssapi) ↔ ours, ${enctype}`, {
    skip: skipUnlessMit() || skipUnlessPythonGssapi(),
  }, () => {
    let realm: MitRealm;
    let creds: Credentials;
    let keytabPath: string;
    const REALM = enctype.includes('384') ? 'PYGSS20.TEST' : 'PYGSS18.TEST';
    const peers: GssPeer[] = [];
    const peer = (args: string[]): GssPeer => {
      const p = startGssPeer(args, { ...realm.env, KRB5_KTNAME: `FILE:${keytabPath}` });
      peers.push(p);
      return p;
    };
    before(async () => {
      realm = await startMitRealm({
        realm: REALM,
        enctypes: [`${enctype}:normal`],
        principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'HTTP/localhost' }],
      });
      keytabPath = await realm.keytab('HTTP/localhost');
      await realm.kinit('alice', 'alice-pw', realm.ccache, ['-f']);
      creds = await Credentials.fromCcache(realm.ccache, {
        config: await loadConfig({ files: [realm.krb5ConfPath] }),
      });
    });
    after(async () => {
      for (const p of peers) p.stop();
      await realm?.stop();
    });

    for (const mech of ['krb5', 'spnego'] as const) {
      it(`MIT initiator (${mech}) → our acceptor: MIT verifies our AP-REP; wrap/unwrap/MIC both ways`, async () => {
        const mit = peer(['init', mech, 'HTTP@localhost']);
        const first = await mit.call({ op: 'step', token: null });
        assert.equal(first.error, undefined);
        const ours = createAcceptorContext({ keytab: await readKeytab(keytabPath) });
        const out = await ours.step(fromB64(first.token));
        assert.equal(out.complete, true);
        assert.equal(unparsePrincipal(ours.result().client), `alice@${REALM}`);
        assert.ok(out.token);
        const last = await mit.call({ op: 'step', token: toB64(out.token) });
        assert.equal(last.error, undefined);
        assert.equal(last.complete, true);
        await exchangeMessages(ours, mit);
      });

      it(`our initiator (${mech}) → MIT acceptor: MIT accepts our AP-REQ, we verify its AP-REP; wrap/unwrap/MIC both ways`, async () => {
        const mit = peer(['accept', mech]);
        const ours = await createInitiatorContext({
          credentials: creds,
          target: 'HTTP@localhost',
          mech,
          mutual: true,
        });
        const first = await ours.step();
        const reply = await mit.call({ op: 'step', token: toB64(first.token!) });
        assert.equal(reply.error, undefined);
        assert.equal(reply.complete, true);
        assert.equal(reply.client, `alice@${REALM}`);
        const done = await ours.step(fromB64(reply.token));
        assert.equal(done.complete, true);
        await exchangeMessages(ours, mit);
      });
    }

    it('MIT refuses an AP-REP we tampered with', async () => {
      const mit = peer(['init', 'krb5', 'HTTP@localhost']);
      const first = await mit.call({ op: 'step', token: null });
      const ours = createAcceptorContext({ keytab: await readKeytab(keytabPath) });
      const out = await ours.step(fromB64(first.token));
      const bad = out.token!.slice();
      bad[bad.length - 2] = (bad[bad.length - 2] ?? 0) ^ 1;
      const last = await mit.call({ op: 'step', token: toB64(bad) });
      assert.match(last.error ?? '', /\S/);
      assert.notEqual(last.complete, true);
    });

    it('our acceptor refuses the same MIT AP-REQ twice (replay cache)', async () => {
      const mit = peer(['init', 'krb5', 'HTTP@localhost']);
      const first = await mit.call({ op: 'step', token: null });
      const kt = await readKeytab(keytabPath);
      await createAcceptorContext({ keytab: kt }).step(fromB64(first.token));
      await assert.rejects(createAcceptorContext({ keytab: kt }).step(fromB64(first.token)), {
        code: 'KRB_AP_ERR_REPEAT',
      });
    });

    // Last: it gives HTTP/localhost a new key (kvno + 1) in the KDC.
    it('names a ticket for an older key version KRB_AP_ERR_BADKEYVER', async () => {
      const mit = peer(['init', 'krb5', 'HTTP@localhost']);
      const first = await mit.call({ op: 'step', token: null });
      const rotated = `${realm.dir}/rotated.keytab`;
      await realm.kadmin(`ktadd -k ${rotated} HTTP/localhost`);
      await assert.rejects(
        createAcceptorContext({ keytab: await readKeytab(rotated) }).step(fromB64(first.token)),
        {
          code: 'KRB_AP_ERR_BADKEYVER',
          message: /kvno 1.*kvno 2/,
        },
      );
    });
  });
}
