// Issue 4 acceptance against real MIT KDCs: `spnego kinit` (password and keytab) in each AES
// realm (17, 18, 19, 20) writes a ccache MIT klist lists, MIT kvno uses and curl --negotiate
// authenticates with against Apache mod_auth_gssapi; Credentials.fromCcache() gets service
// tickets after MIT kinit and after ours and writes them back where curl uses them without
// asking the KDC; each KDC refusal is its typed error; 1,000 concurrent getServiceTicket calls
// make one TGS-REQ, counted at the recording relay.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeEncTicketPart, decodeTgsReq } from '../../src/asn1/index.js';
import { isConfigEntry, readCcache } from '../../src/ccache/ccache.js';
import { readKeytab } from '../../src/ccache/keytab.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { listCcacheCollection } from '../../src/ccache/store.js';
import { kinitCommand } from '../../src/cli/kinit.js';
import { decrypt, makeKey } from '../../src/crypto/index.js';
import { CredentialsError, KerberosError } from '../../src/errors.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { KdcOption } from '../../src/krb5/kdc-reply.js';
import { type Apache, skipUnlessApache, startApache } from './helpers/apache.js';
import { type MitRealm, run, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';
import { messageName } from './helpers/relay.js';

const PASSWORD = 'kinit-password-1';
const REALMS = [
  { enctype: 17, name: 'aes128-cts-hmac-sha1-96' },
  { enctype: 18, name: 'aes256-cts-hmac-sha1-96' },
  { enctype: 19, name: 'aes128-cts-hmac-sha256-128' },
  { enctype: 20, name: 'aes256-cts-hmac-sha384-192' },
];

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs our kinit in-process with the realm's environment and `password` as what stdin gives. */
async function ourKinit(realm: MitRealm, argv: string[], password = PASSWORD): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const env = realm.env;
  const code = await kinitCommand(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: (n) => (n in env ? env[n] : n.startsWith('KRB5') ? undefined : process.env[n]),
    readPassword: async () => password,
  });
  return { code, stdout, stderr };
}

async function curlNegotiate(
  apache: Apache,
  ccache: string,
  realm: MitRealm,
): Promise<{ code: number | null; status: string; user: string }> {
  const r = await run(
    'curl',
    ['-s', '-o', '/dev/null', '-D', '-', '--negotiate', '-u', ':', `${apache.url}/private/`],
    {
      env: { KRB5_CONFIG: realm.krb5ConfPath, KRB5CCNAME: ccache },
    },
  );
  const status = /HTTP\/1\.1 (\d+)/g;
  let last = '';
  for (let m = status.exec(r.stdout); m !== null; m = status.exec(r.stdout)) last = m[1] ?? '';
  const user = /X-Remote-User: (\S+)/i.exec(r.stdout)?.[1] ?? '';
  return { code: r.code, status: last, user };
}

function tgsReqs(realm: MitRealm): number {
  return (
    realm.relay?.messages.filter((m) => m.direction === 'request' && messageName(m.bytes) === 'TGS-REQ')
      .length ?? -1
  );
}

for (const { enctype, name } of REALMS) {
  const REALM = `KINIT${enctype}.TEST`;
  const SPN = `HTTP/localhost@${REALM}`;
  describe(`spnego kinit vs MIT KDC, ${name} (${enctype})`, {
    skip: skipUnlessMit() || skipUnlessApache(),
  }, () => {
    let realm: MitRealm;
    let apache: Apache;
    let clientKeytab: string;
    before(async () => {
      realm = await startMitRealm({
        realm: REALM,
        enctypes: [`${name}:normal`],
        principals: [
          { name: 'user', password: PASSWORD },
          { name: 'robot', password: 'robot-password-not-used' },
          { name: 'HTTP/localhost' },
        ],
        relay: true,
      });
      clientKeytab = await realm.keytab('robot');
      apache = await startApache({ realm, keytab: await realm.keytab('HTTP/localhost') });
    });
    after(async () => {
      await apache?.stop();
      await realm?.stop();
    });

    it('password kinit: MIT klist lists it, MIT kvno and curl --negotiate use it', async () => {
      const cc = `FILE:${join(realm.dir, 'ours-pw.ccache')}`;
      const r = await ourKinit(realm, ['-c', cc, 'user']);
      assert.equal(r.code, 0, r.stderr);
      const list = await realm.klist(cc);
      assert.match(list.stdout, new RegExp(`Default principal: user@${REALM}`));
      assert.match(list.stdout, new RegExp(`krbtgt/${REALM}@${REALM}`));
      assert.match(list.stdout, new RegExp(`Etype \\(skey, tkt\\): ${name}, ${name}`));
      await realm.kvno(SPN, cc);
      assert.match((await realm.klist(cc)).stdout, new RegExp(SPN.replace(/\./g, '\\.')));
      const c = await curlNegotiate(apache, cc, realm);
      assert.deepEqual(
        { code: c.code, status: c.status, user: c.user },
        { code: 0, status: '200', user: `user@${REALM}` },
      );
    });

    it('keytab kinit (-k -t): MIT klist, kvno and curl --negotiate accept it', async () => {
      const cc = `FILE:${join(realm.dir, 'ours-kt.ccache')}`;
      const r = await ourKinit(realm, ['-k', '-t', clientKeytab, '-c', cc, `robot@${REALM}`]);
      assert.equal(r.code, 0, r.stderr);
      const list = await realm.klist(cc);
      assert.match(list.stdout, new RegExp(`Default principal: robot@${REALM}`));
      await realm.kvno(SPN, cc);
      const c = await curlNegotiate(apache, cc, realm);
      assert.equal(c.status, '200');
      assert.equal(c.user, `robot@${REALM}`);
    });

    it('fromCcache after MIT kinit: service ticket, written back, then used by curl with no TGS-REQ', async () => {
      const path = join(realm.dir, 'mit.ccache');
      await realm.kinit('user', PASSWORD, `FILE:${path}`);
      const config = await loadConfig({ env: realm.env });
      const creds = await Credentials.fromCcache(`FILE:${path}`, { config });
      const t = await creds.getServiceTicket('HTTP@localhost');
      assert.equal(unparsePrincipal(t.server), SPN);
      assert.equal(t.ticket.encPart.etype, enctype);
      // The ticket really is for the service: its key opens it and names our client.
      const kt = await readKeytab(await realm.keytab('HTTP/localhost'));
      const k = kt.entries.find((e) => e.key.keytype === enctype);
      assert.ok(k);
      const part = decodeEncTicketPart(
        decrypt(makeKey(k.key.keytype, k.key.keyvalue), 2, t.ticket.encPart.cipher),
      );
      assert.equal(`${part.cname.nameString.join('/')}@${part.crealm}`, `user@${REALM}`);
      const servers = (await readCcache(path)).credentials
        .filter((c) => !isConfigEntry(c))
        .map((c) => unparsePrincipal(c.server));
      assert.ok(servers.includes(SPN), `written back: ${servers.join(', ')}`);
      realm.relay?.clear();
      const c = await curlNegotiate(apache, `FILE:${path}`, realm);
      assert.equal(c.status, '200');
      assert.equal(tgsReqs(realm), 0, 'curl used the written-back ticket');
    });

    it('fromCcache after our kinit: service ticket written back, used by curl with no TGS-REQ', async () => {
      const cc = `FILE:${join(realm.dir, 'ours-then-creds.ccache')}`;
      assert.equal((await ourKinit(realm, ['-c', cc, 'user'])).code, 0);
      const config = await loadConfig({ env: realm.env });
      const creds = await Credentials.fromCcache(cc, { config });
      const t = await creds.getServiceTicket(SPN);
      assert.equal(unparsePrincipal(t.server), SPN);
      realm.relay?.clear();
      const c = await curlNegotiate(apache, cc, realm);
      assert.equal(c.status, '200');
      assert.equal(tgsReqs(realm), 0);
    });
  });
}

describe('KDC refusals and behaviour against MIT (aes256)', { skip: skipUnlessMit() }, () => {
  const REALM = 'KERR.TEST';
  let realm: MitRealm;
  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal', 'aes128-cts-hmac-sha256-128:normal'],
      principals: [
        { name: 'user', password: PASSWORD },
        { name: 'other', password: 'other-password-2' },
        { name: 'old', password: 'old-password-3' },
        { name: 'HTTP/localhost' },
      ],
      relay: true,
    });
    await realm.kadmin(`modprinc -pwexpire "2001-01-01 00:00:00 UTC" old@${REALM}`);
  });
  after(async () => {
    await realm?.stop();
  });
  const config = (): ReturnType<typeof loadConfig> => loadConfig({ env: realm.env });

  it('wrong password → KerberosError KDC_ERR_PREAUTH_FAILED "password incorrect"; the CLI says so, exit 1', async () => {
    await assert.rejects(
      Credentials.fromPassword(`user@${REALM}`, 'wrong', { config: await config() }),
      (e: unknown) => {
        assert.ok(e instanceof KerberosError);
        assert.equal(e.errorName, 'KDC_ERR_PREAUTH_FAILED');
        assert.match(e.hint ?? '', /password incorrect/);
        return true;
      },
    );
    const r = await ourKinit(realm, ['-c', `FILE:${join(realm.dir, 'nope')}`, 'user'], 'wrong');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^spnego kinit: .*KDC_ERR_PREAUTH_FAILED/);
    assert.match(r.stderr, /\nhint: password incorrect/);
  });

  it('unknown principal → KDC_ERR_C_PRINCIPAL_UNKNOWN', async () => {
    await assert.rejects(
      Credentials.fromPassword(`nobody@${REALM}`, 'x', { config: await config() }),
      (e: unknown) => {
        assert.ok(e instanceof KerberosError);
        assert.equal(e.errorName, 'KDC_ERR_C_PRINCIPAL_UNKNOWN');
        return true;
      },
    );
  });

  it('expired password (kadmin modprinc -pwexpire) → KDC_ERR_KEY_EXPIRED with the kpasswd hint', async () => {
    await assert.rejects(
      Credentials.fromPassword(`old@${REALM}`, 'old-password-3', { config: await config() }),
      (e: unknown) => {
        assert.ok(e instanceof KerberosError);
        assert.equal(e.errorName, 'KDC_ERR_KEY_EXPIRED');
        assert.match(e.hint ?? '', /password has expired/);
        return true;
      },
    );
  });

  it('unknown service → KDC_ERR_S_PRINCIPAL_UNKNOWN from getServiceTicket', async () => {
    const creds = await Credentials.fromPassword(`user@${REALM}`, PASSWORD, { config: await config() });
    await assert.rejects(creds.getServiceTicket(`HTTP/nowhere.invalid@${REALM}`), (e: unknown) => {
      assert.ok(e instanceof KerberosError);
      assert.equal(e.errorName, 'KDC_ERR_S_PRINCIPAL_UNKNOWN');
      return true;
    });
  });

  it('1,000 concurrent getServiceTicket calls for one service make exactly one TGS-REQ', async () => {
    const cc = `FILE:${join(realm.dir, 'flight.ccache')}`;
    assert.equal((await ourKinit(realm, ['-c', cc, 'user'])).code, 0);
    const creds = await Credentials.fromCcache(cc, { config: await config() });
    realm.relay?.clear();
    const tickets = await Promise.all(
      Array.from({ length: 1000 }, () => creds.getServiceTicket(`HTTP/localhost@${REALM}`)),
    );
    assert.equal(tgsReqs(realm), 1);
    assert.equal(new Set(tickets.map((t) => t.ticketBytes)).size, 1);
  });

  it('lifetime, renewable and forwardable options reach the ticket (-l 1h -r 2d -f / -F)', async () => {
    const cc = `FILE:${join(realm.dir, 'life.ccache')}`;
    assert.equal((await ourKinit(realm, ['-l', '1h', '-r', '2d', '-f', '-c', cc, 'user'])).code, 0);
    const tgt = (await readCcache(cc.slice(5))).credentials[0];
    assert.ok(tgt);
    assert.equal(tgt.endTime - tgt.authTime, 3600);
    assert.ok(tgt.renewTill - tgt.authTime === 2 * 86400, `renew till ${tgt.renewTill - tgt.authTime}`);
    const flags = (await realm.klist(cc, ['-f'])).stdout;
    assert.match(flags, /Flags: F?R?.*[FR]/);
    assert.match(flags, /Flags: [A-Za-z]*F/);
    assert.match(flags, /Flags: [A-Za-z]*R/);
    const cc2 = `FILE:${join(realm.dir, 'life2.ccache')}`;
    assert.equal((await ourKinit(realm, ['-F', '-c', cc2, 'user'])).code, 0);
    assert.doesNotMatch((await realm.klist(cc2, ['-f'])).stdout, /Flags: [A-Za-z]*F/);
  });

  it('a renewable TGT close to expiry is renewed with a TGS RENEW request before use', async () => {
    const cc = `FILE:${join(realm.dir, 'renew.ccache')}`;
    assert.equal((await ourKinit(realm, ['-l', '4m', '-r', '1h', '-c', cc, 'user'])).code, 0);
    const before = (await readCcache(cc.slice(5))).credentials[0];
    assert.ok(before);
    const creds = await Credentials.fromCcache(cc, { config: await config() });
    realm.relay?.clear();
    await creds.getServiceTicket(`HTTP/localhost@${REALM}`);
    // First a RENEW of the TGT (KDCOptions bit 30), then the service ticket with the renewed TGT.
    const reqs = (realm.relay?.messages ?? [])
      .filter((m) => m.direction === 'request')
      .map((m) => decodeTgsReq(m.bytes));
    assert.equal(reqs.length, 2);
    assert.equal(((reqs[0]?.reqBody.kdcOptions ?? 0) & KdcOption.RENEW) !== 0, true);
    assert.deepEqual(reqs[0]?.reqBody.sname?.nameString, ['krbtgt', REALM]);
    assert.deepEqual(reqs[1]?.reqBody.sname?.nameString, ['HTTP', 'localhost']);
    const tgt = (await readCcache(cc.slice(5))).credentials.find(
      (c) => c.server.name.nameString[0] === 'krbtgt',
    );
    assert.ok(tgt);
    assert.ok(
      tgt.startTime >= before.startTime && tgt.endTime >= before.endTime,
      'the renewed TGT was written back',
    );
    assert.equal(tgt.renewTill, before.renewTill);
    assert.notDeepEqual(tgt.ticket, before.ticket);
  });

  it('an expired TGT in a ccache is a CredentialsError telling to run kinit', async () => {
    const cc = `FILE:${join(realm.dir, 'expired.ccache')}`;
    assert.equal((await ourKinit(realm, ['-l', '1h', '-c', cc, 'user'])).code, 0);
    const now = Date.now() + 2 * 3600_000;
    const creds = await Credentials.fromCcache(cc, { config: await config(), now: () => now });
    await assert.rejects(creds.getServiceTicket(`HTTP/localhost@${REALM}`), (e: unknown) => {
      assert.ok(e instanceof CredentialsError);
      assert.equal(e.code, 'TGT_EXPIRED');
      assert.match(e.hint ?? '', /kinit/);
      return true;
    });
  });

  it('a replaced ccache (kinit as another user) is noticed by the next getServiceTicket', async () => {
    const path = join(realm.dir, 'replaced.ccache');
    await realm.kinit('user', PASSWORD, `FILE:${path}`);
    // The file is looked at most once per ccacheCheckIntervalMs (default 1 s): move our clock.
    let clock = Date.now();
    const creds = await Credentials.fromCcache(`FILE:${path}`, { config: await config(), now: () => clock });
    assert.equal(
      unparsePrincipal((await creds.getServiceTicket(`HTTP/localhost@${REALM}`)).client),
      `user@${REALM}`,
    );
    await realm.kinit('other', 'other-password-2', `FILE:${path}`);
    assert.equal(
      unparsePrincipal((await creds.getServiceTicket(`HTTP/localhost@${REALM}`)).client),
      `user@${REALM}`,
      'within the check interval the cached ticket is served without a stat',
    );
    clock += 1001;
    assert.equal(
      unparsePrincipal((await creds.getServiceTicket(`HTTP/localhost@${REALM}`)).client),
      `other@${REALM}`,
    );
  });

  it('writeBack: false leaves the ccache file untouched', async () => {
    const path = join(realm.dir, 'nowb.ccache');
    await realm.kinit('user', PASSWORD, `FILE:${path}`);
    const creds = await Credentials.fromCcache(`FILE:${path}`, { config: await config(), writeBack: false });
    await creds.getServiceTicket(`HTTP/localhost@${REALM}`);
    const servers = (await readCcache(path)).credentials
      .filter((c) => !isConfigEntry(c))
      .map((c) => unparsePrincipal(c.server));
    assert.deepEqual(servers, [`krbtgt/${REALM}@${REALM}`]);
  });

  it('DIR: collection: each principal gets its own member, the last kinit becomes primary', async () => {
    const dir = `DIR:${join(realm.dir, 'coll')}`;
    assert.equal((await ourKinit(realm, ['-c', dir, 'user'])).code, 0);
    assert.equal((await ourKinit(realm, ['-c', dir, `other@${REALM}`], 'other-password-2')).code, 0);
    const members = await listCcacheCollection(dir);
    assert.equal(members.length, 2);
    const mit = await realm.run('klist', ['-l'], { env: { KRB5CCNAME: dir } });
    assert.equal(mit.code, 0, mit.stderr);
    assert.match(mit.stdout, new RegExp(`user@${REALM}`));
    assert.match(mit.stdout, new RegExp(`other@${REALM}`));
    const primary = await realm.run('klist', [], { env: { KRB5CCNAME: dir } });
    assert.match(primary.stdout, new RegExp(`Default principal: other@${REALM}`));
    // kinit again as the first user reuses its member instead of adding a third.
    assert.equal((await ourKinit(realm, ['-c', dir, 'user'])).code, 0);
    assert.equal((await listCcacheCollection(dir)).length, 2);
  });

  it('the spnego command reads the password from piped stdin and writes the ccache', async () => {
    const cc = `FILE:${join(realm.dir, 'cli.ccache')}`;
    const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
    const r = await run(process.execPath, ['--import', 'tsx', main, 'kinit', '-c', cc, 'user'], {
      input: `${PASSWORD}\n`,
      env: realm.env,
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match((await realm.klist(cc)).stdout, new RegExp(`Default principal: user@${REALM}`));
    const bad = await run(process.execPath, ['--import', 'tsx', main, 'kinit', '-c', cc, 'user'], {
      input: 'wrong\n',
      env: realm.env,
      timeoutMs: 60_000,
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^spnego kinit: .*KDC_ERR_PREAUTH_FAILED[^\n]*\nhint: password incorrect/);
  });
});
