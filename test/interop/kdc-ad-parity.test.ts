// Active Directory habits, against real MIT KDCs and MIT's own acceptor (python-gssapi with no
// acceptor name, as mod_auth_gssapi runs):
// - one account, several SPNs under one key (alias, port SPN, another case): MIT's acceptor
//   takes a ticket for each with the account's keytab, and so does ours when unpinned;
// - TGS requests copy the TGT's FORWARDABLE/RENEWABLE as MIT's do (krb5.conf forwardable unset);
// - AS requests carry RENEWABLE_OK: the same krb5.conf gives MIT and us a renewable TGT;
// - a KDC whose own [capaths] route A → HUB → D hands back an off-path TGT, which is followed.
// The shared key: each SPN is added with the same password and the `onlyrealm` salt (realm
// only), so all keys are equal, as an AD account's SPNs share the account key.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeTgsReq, decodeTicket } from '../../src/asn1/index.js';
import { TicketFlag } from '../../src/ccache/flags.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { makeKey } from '../../src/crypto/index.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { KdcOption, readKdcAnswer } from '../../src/krb5/kdc-reply.js';
import { buildTgsReq, openTgsRep } from '../../src/krb5/tgs.js';
import { sendToKdcs } from '../../src/krb5/transport.js';
import { createAcceptor } from '../../src/server/index.js';
import { createInitiatorContext } from '../../src/spnego/index.js';
import { fromB64, skipUnlessPythonGssapi, startGssPeer, toB64 } from './helpers/gss-peer.js';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';
import { messageName } from './helpers/relay.js';

const REALM = 'ADP.TEST';
const ACCOUNT_PW = 'account-password-shared-by-spns';
const SPNS = ['HTTP/web.adp.test', 'HTTP/alias.adp.test', 'HTTP/web.adp.test:8443', 'HTTP/WEB.ADP.test'];

describe('AD parity against MIT', { skip: skipUnlessMit() || skipUnlessPythonGssapi() }, () => {
  let realm: MitRealm;
  let keytab: string;

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal', 'aes256-cts-hmac-sha1-96:onlyrealm'],
      principals: [{ name: 'alice', password: 'alice-pw' }],
      relay: true,
    });
    for (const spn of SPNS) {
      await realm.kadmin(`addprinc -e aes256-cts-hmac-sha1-96:onlyrealm -pw ${ACCOUNT_PW} ${spn}`);
    }
    // The admin exports the account's keys once, under its first SPN.
    keytab = await realm.keytab(`${SPNS[0]}@${REALM}`);
  });
  after(async () => {
    await realm?.stop();
  });

  async function tokenFor(spn: string, creds: Credentials): Promise<Uint8Array> {
    const ctx = await createInitiatorContext({ credentials: creds, target: `${spn}@${REALM}`, mutual: true });
    const out = await ctx.step();
    assert.ok(out.token);
    return out.token;
  }

  it('a ticket for each SPN of the account: MIT accepts it with the keytab, and so do we (unpinned)', async () => {
    await realm.kinit('alice', 'alice-pw');
    const config = await loadConfig({ files: [realm.krb5ConfPath] });
    const creds = await Credentials.fromCcache(realm.ccache, { config, writeBack: false });
    const ours = createAcceptor({ keytab, config });
    for (const spn of SPNS) {
      // MIT's reference: a GSS acceptor with no name over the same keytab.
      const peer = startGssPeer(['accept', 'spnego'], { ...realm.env, KRB5_KTNAME: `FILE:${keytab}` });
      try {
        const mit = await peer.call({ op: 'step', token: toB64(await tokenFor(spn, creds)) });
        assert.equal(mit.error, undefined, `MIT refused ${spn}: ${mit.error}`);
        assert.equal(mit.client, `alice@${REALM}`);
        assert.ok(fromB64(mit.token).length > 0);
      } finally {
        peer.stop();
      }
      const r = await ours.accept(await tokenFor(spn, creds));
      assert.equal(r.user, `alice@${REALM}`, spn);
    }
    // `principal` still pins one name.
    const pinned = createAcceptor({ keytab, config, principal: `${SPNS[0]}@${REALM}` });
    await assert.rejects(
      pinned.accept(await tokenFor(SPNS[1] as string, creds)),
      /KRB_AP_ERR_NOT_US|this service is/,
    );
  });

  it('TGS requests copy the TGT flags: a forwardable, renewable service ticket with forwardable unset', async () => {
    const conf = join(realm.dir, 'noforward.conf');
    realm.writeKrb5Conf(conf, realm.port, { forwardable: 'false', renew_lifetime: '2d' });
    const env = { KRB5_CONFIG: conf, KRB5CCNAME: `FILE:${join(realm.dir, 'fwd.cc')}` };
    await realm.kinit('alice', 'alice-pw', env.KRB5CCNAME, ['-f']);
    // MIT's kvno with the same krb5.conf: the service ticket is F and R.
    const kvno = await realm.run('kvno', [`${SPNS[0]}@${REALM}`], { env });
    assert.equal(kvno.code, 0, kvno.stderr);
    const mit = await realm.run('klist', ['-f', '-c', env.KRB5CCNAME], { env });
    const line = mit.stdout.split('\n').findIndex((l) => l.includes(SPNS[0] as string));
    const flags = /Flags: (\S+)/.exec(mit.stdout.split('\n').slice(line).join('\n'))?.[1] ?? '';
    assert.match(flags, /F/, mit.stdout);
    assert.match(flags, /R/, mit.stdout);
    const config = await loadConfig({ files: [conf] });
    const creds = await Credentials.fromCcache(env.KRB5CCNAME, { config, writeBack: false });
    realm.relay?.clear();
    const st = await creds.getServiceTicket(`${SPNS[1]}@${REALM}`);
    assert.ok((st.flags & TicketFlag.FORWARDABLE) !== 0, 'our service ticket is forwardable');
    assert.ok((st.flags & TicketFlag.RENEWABLE) !== 0, 'our service ticket is renewable');
    const tgs = (realm.relay?.messages ?? []).find(
      (m) => m.direction === 'request' && messageName(m.bytes) === 'TGS-REQ',
    );
    assert.ok(tgs);
    const opts = decodeTgsReq(tgs.bytes).reqBody.kdcOptions;
    assert.ok((opts & KdcOption.FORWARDABLE) !== 0 && (opts & KdcOption.RENEWABLE) !== 0);
  });

  it("MIT's KDC takes the unkeyed rsa-md5 req-body checksum Windows clients send (MiniKdc does too)", async () => {
    const config = await loadConfig({ files: [realm.krb5ConfPath] });
    const creds = await Credentials.fromPassword(`alice@${REALM}`, 'alice-pw', { config });
    const c = creds
      .toCcache()
      .credentials.find((x) => unparsePrincipal(x.server) === `krbtgt/${REALM}@${REALM}`);
    assert.ok(c);
    const opts = {
      tgt: {
        client: c.client,
        server: c.server,
        ticket: decodeTicket(c.ticket),
        sessionKey: makeKey(c.key.keytype, c.key.keyvalue),
      },
      server: { realm: REALM, name: { nameType: 3, nameString: ['HTTP', 'web.adp.test'] } },
      etypes: [18],
      till: new Date(Date.now() + 3_600_000),
      bodyChecksumType: 7,
    };
    const built = buildTgsReq(opts, Date.now());
    const answer = readKdcAnswer(
      await sendToKdcs(REALM, [{ host: '127.0.0.1', port: realm.port, transport: 'tcp' }], built.bytes),
      'tgs-rep',
    );
    assert.equal(answer.kind, 'rep', answer.kind === 'error' ? `KRB-ERROR ${answer.error.errorCode}` : '');
    if (answer.kind === 'rep') {
      assert.equal(
        unparsePrincipal(openTgsRep(answer.rep, built, opts, false).server),
        `HTTP/web.adp.test@${REALM}`,
      );
    }
  });

  it('AS requests carry RENEWABLE_OK: with no renew_lifetime MIT kinit and we both get a renewable TGT', async () => {
    // ticket_lifetime 24h (default) against the realm's max_life 10h, no renew_lifetime.
    const conf = join(realm.dir, 'renewok.conf');
    realm.writeKrb5Conf(conf, realm.port, { forwardable: 'true' });
    const cc = `FILE:${join(realm.dir, 'renewok.cc')}`;
    await realm.kinit('alice', 'alice-pw', cc, []);
    const mit = await realm.run('klist', ['-f', '-c', cc], { env: { KRB5_CONFIG: conf } });
    assert.match(mit.stdout, /Flags: FRI/, mit.stdout);
    const config = await loadConfig({ files: [conf] });
    const creds = await Credentials.fromPassword(`alice@${REALM}`, 'alice-pw', { config });
    const tgt = creds
      .toCcache()
      .credentials.find((c) => unparsePrincipal(c.server) === `krbtgt/${REALM}@${REALM}`);
    assert.ok(tgt);
    assert.ok((tgt.flags & TicketFlag.RENEWABLE) !== 0, 'renewable');
    assert.ok((tgt.flags & TicketFlag.FORWARDABLE) !== 0, 'forwardable');
  });
});

describe('off-path cross-realm TGT (the KDC routes A → HUB → D by its own [capaths])', {
  skip: skipUnlessMit(),
}, () => {
  const A = 'A.OFFPATH.TEST';
  const HUB = 'HUB.ELSEWHERE.TEST';
  const D = 'D.OFFPATH.TEST';
  // Every KDC knows the route (the last one checks the transited realms against it); the
  // client's krb5.conf knows none, so it walks A → OFFPATH.TEST → D and gets HUB instead.
  const capaths = `[capaths]\n  ${A} = {\n    ${D} = ${HUB}\n  }\n`;
  let a: MitRealm;
  let hub: MitRealm;
  let d: MitRealm;

  before(async () => {
    const enctypes = ['aes256-cts-hmac-sha1-96:normal'];
    [a, hub, d] = await Promise.all([
      startMitRealm({
        realm: A,
        enctypes,
        principals: [{ name: 'alice', password: 'alice-pw' }],
        relay: true,
        kdcConfExtra: capaths,
      }),
      startMitRealm({ realm: HUB, enctypes, relay: true, kdcConfExtra: capaths }),
      startMitRealm({
        realm: D,
        enctypes,
        principals: [{ name: 'HTTP/svc.d.test' }],
        relay: true,
        kdcConfExtra: capaths,
      }),
    ]);
    await Promise.all([
      a.addPrincipal(`krbtgt/${HUB}@${A}`, 'a-hub'),
      hub.addPrincipal(`krbtgt/${HUB}@${A}`, 'a-hub'),
    ]);
    await Promise.all([
      hub.addPrincipal(`krbtgt/${D}@${HUB}`, 'hub-d'),
      d.addPrincipal(`krbtgt/${D}@${HUB}`, 'hub-d'),
    ]);
  });
  after(async () => {
    await Promise.all([a?.stop(), hub?.stop(), d?.stop()]);
  });

  it('the client follows krbtgt/HUB@A to HUB, then D, and gets the service ticket', async () => {
    const conf = join(a.dir, 'client.conf');
    a.writeKrb5Conf(conf, a.port);
    const text = readFileSync(conf, 'utf8').replace(
      '[realms]\n',
      `[realms]\n  ${HUB} = {\n    kdc = 127.0.0.1:${hub.port}\n  }\n  ${D} = {\n    kdc = 127.0.0.1:${d.port}\n  }\n`,
    );
    writeFileSync(conf, text);
    const config = await loadConfig({ files: [conf] });
    const creds = await Credentials.fromPassword(`alice@${A}`, 'alice-pw', { config });
    const st = await creds.getServiceTicket(`HTTP/svc.d.test@${D}`);
    assert.equal(unparsePrincipal(st.server), `HTTP/svc.d.test@${D}`);
    assert.equal(unparsePrincipal(st.client), `alice@${A}`);
    const asked = (r: MitRealm): string[] =>
      (r.relay?.messages ?? [])
        .filter((m) => m.direction === 'request' && messageName(m.bytes) === 'TGS-REQ')
        .map((m) => {
          const b = decodeTgsReq(m.bytes).reqBody;
          return `${b.sname?.nameString.join('/')}@${b.realm}`;
        });
    assert.deepEqual(asked(hub), [`krbtgt/${D}@${HUB}`]);
    assert.deepEqual(asked(d), [`HTTP/svc.d.test@${D}`]);
    // MIT's own client, with the same krb5.conf, takes the same route.
    const cc = `FILE:${join(a.dir, 'offpath.cc')}`;
    await a.kinit('alice', 'alice-pw', cc);
    const kvno = await a.run('kvno', [`HTTP/svc.d.test@${D}`], {
      env: { KRB5_CONFIG: conf, KRB5CCNAME: cc },
    });
    assert.equal(kvno.code, 0, kvno.stderr);
  });
});
