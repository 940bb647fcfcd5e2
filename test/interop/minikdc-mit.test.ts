// MIT's client tools against MiniKdc: kinit (password on stdin, and -k -t with keytabFor's
// keytab), kvno, klist, kinit -R, over TCP and over UDP. If MIT accepts its replies, MiniKdc is a
// real KDC on the wire, not a double tuned to our own client.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MiniKdc } from '../../src/testing/index.js';
import { run, skipUnlessMit } from './helpers/mit-realm.js';

const PASSWORD = 'mit-vs-minikdc-1';
const ENCTYPE_NAMES: Record<number, string> = {
  17: 'aes128-cts-hmac-sha1-96',
  18: 'aes256-cts-hmac-sha1-96',
  19: 'aes128-cts-hmac-sha256-128',
  20: 'aes256-cts-hmac-sha384-192',
  23: 'arcfour-hmac',
};

describe('MIT client tools against MiniKdc', { skip: skipUnlessMit() }, () => {
  let kdc: MiniKdc;
  let dir: string;
  let env: Record<string, string>;
  let n = 0;
  const freshCcache = (): string => `FILE:${join(dir, `cc${++n}`)}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'minikdc-mit-'));
    kdc = await MiniKdc.start({
      principals: [
        { name: 'alice', password: PASSWORD },
        { name: 'salty', password: PASSWORD, salt: 'SOMEWHERE.ELSEsalty-old-name' },
        'svc-client',
        'HTTP/localhost',
      ],
    });
    const conf = await kdc.writeKrb5Conf(join(dir, 'krb5.conf'));
    await kdc.writeKrb5Conf(join(dir, 'krb5-udp.conf'), { udp: true });
    env = { KRB5_CONFIG: conf, KRB5_TRACE: join(dir, 'trace.log') };
  });
  after(async () => {
    await kdc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kinit with a password on stdin, then klist and kvno HTTP/localhost', async () => {
    const cc = freshCcache();
    const k = await run('kinit', ['alice'], { env: { ...env, KRB5CCNAME: cc }, input: `${PASSWORD}\n` });
    assert.equal(k.code, 0, k.stderr);
    const v = await run('kvno', ['HTTP/localhost'], { env: { ...env, KRB5CCNAME: cc } });
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /HTTP\/localhost@EXAMPLE\.TEST: kvno = 1/);
    const l = await run('klist', ['-f', '-e'], { env: { ...env, KRB5CCNAME: cc } });
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /Default principal: alice@EXAMPLE\.TEST/);
    assert.match(l.stdout, /krbtgt\/EXAMPLE\.TEST@EXAMPLE\.TEST/);
    assert.match(l.stdout, /HTTP\/localhost@EXAMPLE\.TEST/);
    // forwardable = true and renew_lifetime in the generated krb5.conf: F and R on the TGT.
    assert.match(l.stdout, /Flags: FRIA/);
    assert.match(l.stdout, /Etype \(skey, tkt\): aes256-cts-hmac-sha1-96, aes256-cts-hmac-sha1-96/);
  });

  it('kinit -k -t with the keytab from keytabFor()', async () => {
    const kt = await kdc.writeKeytab(join(dir, 'client.keytab'), 'svc-client');
    const cc = freshCcache();
    const k = await run('kinit', ['-k', '-t', kt, 'svc-client'], { env: { ...env, KRB5CCNAME: cc } });
    assert.equal(k.code, 0, k.stderr);
    const v = await run('kvno', ['HTTP/localhost@EXAMPLE.TEST'], { env: { ...env, KRB5CCNAME: cc } });
    assert.equal(v.code, 0, v.stderr);
    const l = await run('klist', [], { env: { ...env, KRB5CCNAME: cc } });
    assert.match(l.stdout, /Default principal: svc-client@EXAMPLE\.TEST/);
  });

  it('kvno -k checks the service ticket against the service keytab', async () => {
    const cc = freshCcache();
    assert.equal(
      (await run('kinit', ['alice'], { env: { ...env, KRB5CCNAME: cc }, input: `${PASSWORD}\n` })).code,
      0,
    );
    const kt = await kdc.writeKeytab(join(dir, 'http.keytab'), 'HTTP/localhost');
    const v = await run('kvno', ['-k', kt, 'HTTP/localhost'], { env: { ...env, KRB5CCNAME: cc } });
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /keytab entry valid/);
  });

  it('a non-default salt reaches MIT kinit through PA-ETYPE-INFO2', async () => {
    const r = await run('kinit', ['salty'], {
      env: { ...env, KRB5CCNAME: freshCcache() },
      input: `${PASSWORD}\n`,
    });
    assert.equal(r.code, 0, r.stderr);
  });

  it('wrong password: kinit fails with the PREAUTH_FAILED message', async () => {
    const r = await run('kinit', ['alice'], { env: { ...env, KRB5CCNAME: freshCcache() }, input: 'nope\n' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Password incorrect/);
  });

  it('unknown client and unknown service are reported as such', async () => {
    const r = await run('kinit', ['nobody'], {
      env: { ...env, KRB5CCNAME: freshCcache() },
      input: `${PASSWORD}\n`,
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not found in Kerberos database/);
    const cc = freshCcache();
    assert.equal(
      (await run('kinit', ['alice'], { env: { ...env, KRB5CCNAME: cc }, input: `${PASSWORD}\n` })).code,
      0,
    );
    const v = await run('kvno', ['HTTP/absent.localhost'], { env: { ...env, KRB5CCNAME: cc } });
    assert.notEqual(v.code, 0);
    assert.match(v.stderr, /Server HTTP\/absent\.localhost@EXAMPLE\.TEST not found in Kerberos database/);
  });

  it('kinit -R renews the TGT', async () => {
    const cc = freshCcache();
    assert.equal(
      (await run('kinit', ['-r', '2d', 'alice'], { env: { ...env, KRB5CCNAME: cc }, input: `${PASSWORD}\n` }))
        .code,
      0,
    );
    kdc.clearRequests();
    const r = await run('kinit', ['-R'], { env: { ...env, KRB5CCNAME: cc } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(kdc.count('TGS-REQ', { succeeded: true }), 1);
  });

  it('over UDP (udp_preference_limit unset)', async () => {
    kdc.clearRequests();
    const udpEnv = { ...env, KRB5_CONFIG: join(dir, 'krb5-udp.conf'), KRB5CCNAME: freshCcache() };
    const k = await run('kinit', ['alice'], { env: udpEnv, input: `${PASSWORD}\n` });
    assert.equal(k.code, 0, k.stderr);
    assert.equal((await run('kvno', ['HTTP/localhost'], { env: udpEnv })).code, 0);
    assert.deepEqual(
      kdc.requests.map((r) => `${r.transport} ${r.type} ${r.errorName ?? 'OK'}`),
      ['udp AS-REQ KDC_ERR_PREAUTH_REQUIRED', 'udp AS-REQ OK', 'udp TGS-REQ OK'],
    );
  });

  it('over UDP, a reply too big for a datagram → KRB_ERR_RESPONSE_TOO_BIG → MIT retries over TCP', async () => {
    const small = await MiniKdc.start({
      udpMaxReply: 400,
      principals: [{ name: 'alice', password: PASSWORD }],
    });
    try {
      const e = {
        KRB5_CONFIG: await small.writeKrb5Conf(join(dir, 'krb5-small.conf'), { udp: true }),
        KRB5CCNAME: freshCcache(),
      };
      const k = await run('kinit', ['alice'], { env: e, input: `${PASSWORD}\n` });
      assert.equal(k.code, 0, k.stderr);
      assert.deepEqual(
        small.requests.map((r) => `${r.transport} ${r.type} ${r.errorName ?? 'OK'}`),
        ['udp AS-REQ KDC_ERR_PREAUTH_REQUIRED', 'udp AS-REQ OK', 'tcp AS-REQ OK'],
      );
    } finally {
      await small.stop();
    }
  });

  for (const enctype of [17, 18, 19, 20, 23]) {
    it(`only ${ENCTYPE_NAMES[enctype]} keys: kinit + kvno`, async () => {
      const name = `user${enctype}`;
      const svc = `HTTP/e${enctype}.localhost`;
      kdc.addPrincipal({ name, password: PASSWORD, enctypes: [enctype] });
      kdc.addPrincipal({ name: svc, enctypes: [enctype] });
      const conf = await kdc.writeKrb5Conf(join(dir, `krb5-${enctype}.conf`), {
        // MIT 1.20 leaves RC4 out of its defaults unless asked for.
        libdefaults: { permitted_enctypes: ENCTYPE_NAMES[enctype] ?? '', allow_weak_crypto: 'true' },
      });
      const e = { ...env, KRB5_CONFIG: conf, KRB5CCNAME: freshCcache() };
      const k = await run('kinit', [name], { env: e, input: `${PASSWORD}\n` });
      assert.equal(k.code, 0, k.stderr);
      const v = await run('kvno', [svc], { env: e });
      assert.equal(v.code, 0, v.stderr);
      const l = await run('klist', ['-e'], { env: e });
      assert.match(
        l.stdout,
        new RegExp(`${ENCTYPE_NAMES[enctype]}, (DEPRECATED:)?${ENCTYPE_NAMES[enctype]}`),
      );
    });
  }
});

describe('MIT client tools against a two-realm MiniKdc', { skip: skipUnlessMit() }, () => {
  let kdc: MiniKdc;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'minikdc-mit-x-'));
    kdc = await MiniKdc.start({
      realm: 'A.TEST',
      realms: ['B.TEST'],
      principals: [{ name: 'alice', password: PASSWORD }, 'HTTP/b.localhost@B.TEST'],
    });
    env = {
      KRB5_CONFIG: await kdc.writeKrb5Conf(join(dir, 'krb5.conf')),
      KRB5CCNAME: `FILE:${join(dir, 'cc')}`,
    };
    const k = await run('kinit', ['alice'], { env, input: `${PASSWORD}\n` });
    assert.equal(k.code, 0, k.stderr);
  });
  after(async () => {
    await kdc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kvno of a service in the other realm goes through krbtgt/B.TEST@A.TEST', async () => {
    const v = await run('kvno', ['HTTP/b.localhost@B.TEST'], { env });
    assert.equal(v.code, 0, v.stderr);
    const l = await run('klist', [], { env });
    assert.match(l.stdout, /krbtgt\/B\.TEST@A\.TEST/);
    assert.match(l.stdout, /HTTP\/b\.localhost@B\.TEST/);
  });

  it('kvno of a service mapped to A but living in B follows the referral', async () => {
    const cc = { ...env, KRB5CCNAME: `FILE:${join(dir, 'cc2')}` };
    assert.equal((await run('kinit', ['alice'], { env: cc, input: `${PASSWORD}\n` })).code, 0);
    kdc.clearRequests();
    const v = await run('kvno', ['HTTP/b.localhost'], { env: cc });
    assert.equal(v.code, 0, v.stderr);
    // MIT prints the name it asked for; the KDC log shows the referral was followed to B.
    assert.match(v.stdout, /HTTP\/b\.localhost@A\.TEST: kvno = 1/);
    assert.deepEqual(
      kdc.requests.map((r) => `${r.server} ${r.errorName ?? 'OK'}`),
      ['HTTP/b.localhost@A.TEST OK', 'HTTP/b.localhost@B.TEST OK'],
    );
  });
});
