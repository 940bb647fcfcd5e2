// Per-message tokens with the enctypes beyond AES against MIT krb5 1.20 (its KDC, and its GSS-API
// through Debian's python3-gssapi): a camellia realm (camellia256/128 keys for everyone) with one
// RC4-only service. Our AS and TGS get camellia tickets from MIT's KDC; then, for each service,
// MIT initiator → our acceptor and our initiator → MIT acceptor, with MIC and Wrap (sealed and
// not) both ways. rc4-hmac contexts carry RFC 4757 tokens (01 01 / 02 01), camellia ones RFC 4121.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readCcache } from '../../src/ccache/ccache.js';
import { readKeytab } from '../../src/ccache/keytab.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { enctypeDisplayName } from '../../src/crypto/index.js';
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
const REALM = 'PERMSG.TEST';

/** TOK_ID of a per-message token: after the RFC 2743 framing for RFC 4757 ones, first for RFC 4121. */
function tokId(t: Uint8Array): number {
  if (t[0] !== 0x60) return ((t[0] ?? 0) << 8) | (t[1] ?? 0);
  const lenOctets = (t[1] ?? 0) & 0x80 ? (t[1] ?? 0) & 0x7f : 0;
  const oid = 2 + lenOctets;
  const at = oid + 2 + (t[oid + 1] ?? 0);
  return ((t[at] ?? 0) << 8) | (t[at + 1] ?? 0);
}

async function exchange(ours: SecurityContext, peer: GssPeer, rc4: boolean): Promise<void> {
  const [MIC, WRAP] = rc4 ? [0x0101, 0x0201] : [0x0404, 0x0504];
  for (const conf of [true, false]) {
    for (const size of [0, 1, 1000]) {
      const text = `ours-${conf}-`.padEnd(size, 'x');
      const w = ours.wrap(enc(text), { confidential: conf });
      assert.equal(tokId(w), WRAP);
      const u = await peer.call({ op: 'unwrap', token: toB64(w) });
      assert.equal(u.error, undefined, `MIT unwrap of our ${conf ? 'sealed' : 'integrity'} token`);
      assert.equal(dec(fromB64(u.msg)), text);
      assert.equal(u.conf, conf);
      const mw = await peer.call({ op: 'wrap', msg: toB64(enc(`mit-${conf}-${size}`)), conf });
      assert.equal(mw.error, undefined);
      assert.equal(tokId(fromB64(mw.token)), WRAP);
      const ou = ours.unwrap(fromB64(mw.token));
      assert.equal(dec(ou.message), `mit-${conf}-${size}`);
      assert.equal(ou.confidential, conf);
    }
  }
  const mic = ours.getMIC(enc('signed by us'));
  assert.equal(tokId(mic), MIC);
  assert.deepEqual(await peer.call({ op: 'verify', msg: toB64(enc('signed by us')), token: toB64(mic) }), {
    ok: true,
  });
  const bad = await peer.call({ op: 'verify', msg: toB64(enc('signed by someone')), token: toB64(mic) });
  assert.match(bad.error ?? '', /BadMIC|integrity|signature/i);
  const theirs = await peer.call({ op: 'mic', msg: toB64(enc('signed by MIT')) });
  assert.equal(tokId(fromB64(theirs.token)), MIC);
  ours.verifyMIC(enc('signed by MIT'), fromB64(theirs.token));
  assert.throws(() => ours.verifyMIC(enc('signed by MIT?'), fromB64(theirs.token)), { code: 'BAD_MIC' });
  // A token MIT already delivered is a replay.
  assert.throws(() => ours.verifyMIC(enc('signed by MIT'), fromB64(theirs.token)), {
    code: 'DUPLICATE_TOKEN',
  });
}

describe('per-message tokens with camellia and rc4-hmac against MIT', {
  skip: skipUnlessMit() || skipUnlessPythonGssapi(),
}, () => {
  let realm: MitRealm;
  let keytabPath: string;
  const peers: GssPeer[] = [];
  const peer = (args: string[]): GssPeer => {
    const p = startGssPeer(args, { ...realm.env, KRB5_KTNAME: `FILE:${keytabPath}` });
    peers.push(p);
    return p;
  };

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['camellia256-cts-cmac:normal', 'camellia128-cts-cmac:normal', 'arcfour-hmac:normal'],
      // MIT 1.20's KDC issues rc4-hmac session keys only with allow_rc4 (kdc_util.c
      // select_session_keytype); allow_weak_crypto as MIT's docs ask for rc4 test realms.
      kdcLibdefaults: { allow_rc4: 'true', allow_weak_crypto: 'true' },
      libdefaults: { allow_weak_crypto: 'true' },
      principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'cam/localhost' }],
    });
    // An RC4-only service account, as AD still has them: rc4 key, rc4 session keys.
    await realm.kadmin('addprinc -randkey -e arcfour-hmac:normal rc4/localhost');
    await realm.kadmin('setstr rc4/localhost session_enctypes arcfour-hmac');
    // MIT 1.18+ would otherwise assume aes256 session keys for every service.
    await realm.kadmin('setstr cam/localhost session_enctypes camellia256-cts-cmac');
    keytabPath = await realm.keytab('cam/localhost');
    await realm.keytab('rc4/localhost', keytabPath);
    await realm.kinit('alice', 'alice-pw');
  });
  after(async () => {
    for (const p of peers) p.stop();
    await realm?.stop();
  });

  it('our AS and TGS exchanges with camellia keys: MIT KDC issues camellia256 TGT and service ticket; MIT kinit ccache reads with the same names klist prints', async () => {
    const config = await loadConfig({ files: [realm.krb5ConfPath] });
    const creds = await Credentials.fromPassword(`alice@${REALM}`, 'alice-pw', { config });
    const cam = await creds.getServiceTicket(`cam/localhost@${REALM}`);
    assert.equal(cam.sessionKey.enctype, 26);
    assert.equal(cam.ticket.encPart.etype, 26);
    const rc4 = await creds.getServiceTicket(`rc4/localhost@${REALM}`);
    assert.equal(rc4.sessionKey.enctype, 23);
    assert.equal(rc4.ticket.encPart.etype, 23);
    // The ccache MIT kinit wrote holds a camellia TGT; we name its enctypes as klist -e does.
    const mitCcache = await readCcache(realm.ccache.replace(/^FILE:/, ''));
    const tgt = mitCcache.credentials.find((c) => c.server.name.nameString[0] === 'krbtgt');
    assert.ok(tgt);
    assert.equal(enctypeDisplayName(tgt.key.keytype), 'camellia256-cts-cmac');
    const klist = await realm.klist(realm.ccache);
    assert.match(klist.stdout, /Etype \(skey, tkt\): camellia256-cts-cmac, camellia256-cts-cmac/);
  });

  for (const svc of ['cam', 'rc4'] as const) {
    const rc4 = svc === 'rc4';
    for (const mech of ['krb5', 'spnego'] as const) {
      it(`${svc}/localhost, MIT initiator (${mech}) → our acceptor: MIC and Wrap both ways`, async () => {
        const mit = peer(['init', mech, `${svc}@localhost`]);
        const first = await mit.call({ op: 'step', token: null });
        assert.equal(first.error, undefined);
        const ours = createAcceptorContext({ keytab: await readKeytab(keytabPath) });
        const out = await ours.step(fromB64(first.token));
        assert.equal(out.complete, true);
        assert.equal(unparsePrincipal(ours.result().client), `alice@${REALM}`);
        const last = await mit.call({ op: 'step', token: toB64(out.token!) });
        assert.equal(last.error, undefined);
        assert.equal(last.complete, true);
        await exchange(ours, mit, rc4);
      });

      it(`${svc}/localhost, our initiator (${mech}) → MIT acceptor: MIC and Wrap both ways`, async () => {
        const config = await loadConfig({ files: [realm.krb5ConfPath] });
        const creds = await Credentials.fromCcache(realm.ccache, { config });
        const mit = peer(['accept', mech]);
        const ours = await createInitiatorContext({
          credentials: creds,
          target: `${svc}@localhost`,
          mech,
          mutual: true,
        });
        const first = await ours.step();
        const reply = await mit.call({ op: 'step', token: toB64(first.token!) });
        assert.equal(reply.error, undefined);
        assert.equal(reply.complete, true);
        const done = await ours.step(fromB64(reply.token));
        assert.equal(done.complete, true);
        await exchange(ours, mit, rc4);
      });
    }
  }
});
