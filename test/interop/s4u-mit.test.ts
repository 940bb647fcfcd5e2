// S4U2Self (MS-SFU protocol transition) against MIT's KDC, beside MIT's own client (`kvno -U`):
// the service gets a ticket to itself for alice, PA-FOR-USER's HMAC-MD5 keyed with the AES
// session key; the ticket opens with the service's keytab and names alice; its FORWARDABLE flag is
// what MIT's kvno -U gets (MIT: set with ok_to_auth_as_delegate, AD's TRUSTED_TO_AUTH_FOR_DELEGATION,
// and also for a service with no constrained-delegation list, which DB2 cannot hold). MIT's DB2
// database holds no delegation lists, so its KDC refuses S4U2Proxy to us as to `kvno -U -P`
// (KDC_ERR_BADOPTION): S4U2Proxy is proven against Samba AD (s4u-samba.test.ts) and MiniKdc.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeEncTicketPart } from '../../src/asn1/index.js';
import { TicketFlag } from '../../src/ccache/flags.js';
import { readKeytab } from '../../src/ccache/keytab.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { decrypt, makeKey } from '../../src/crypto/index.js';
import { KerberosError } from '../../src/errors.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const REALM = 'S4UMIT.TEST';
const TRUSTED = 'HTTP/trusted.s4umit.test';
const PLAIN = 'HTTP/plain.s4umit.test';

describe('S4U2Self against MIT krb5kdc', { skip: skipUnlessMit() }, () => {
  let realm: MitRealm;
  const keytabs: Record<string, string> = {};

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal', 'aes128-cts-hmac-sha256-128:normal'],
      principals: [
        { name: 'alice', password: 'alice-pw' },
        { name: TRUSTED },
        { name: PLAIN },
        { name: 'HTTP/back.s4umit.test' },
      ],
    });
    await realm.kadmin(`modprinc +ok_to_auth_as_delegate ${TRUSTED}`);
    for (const spn of [TRUSTED, PLAIN]) keytabs[spn] = await realm.keytab(`${spn}@${REALM}`);
  });
  after(async () => {
    await realm?.stop();
  });

  async function service(spn: string): Promise<Credentials> {
    const config = await loadConfig({ files: [realm.krb5ConfPath] });
    return Credentials.fromKeytab(`${spn}@${REALM}`, keytabs[spn], { config });
  }

  /** What MIT's own client gets: `kvno -U alice SPN` with the service's TGT, then klist -f. */
  async function mitS4U2Self(spn: string): Promise<string> {
    const cc = `FILE:${join(realm.dir, `${spn.replace(/\W/g, '_')}.cc`)}`;
    const kinit = await realm.run('kinit', ['-k', '-t', keytabs[spn] as string, '-c', cc, `${spn}@${REALM}`]);
    assert.equal(kinit.code, 0, kinit.stderr);
    const kvno = await realm.run('kvno', ['-c', cc, '-U', 'alice', `${spn}@${REALM}`]);
    assert.equal(kvno.code, 0, kvno.stderr);
    const list = await realm.run('klist', ['-f', '-c', cc]);
    const at = list.stdout.indexOf('for client alice');
    return /Flags: (\S+)/.exec(list.stdout.slice(at))?.[1] ?? '';
  }

  for (const spn of [TRUSTED, PLAIN]) {
    it(`${spn}: a ticket to itself for alice, flagged as MIT's kvno -U gets it`, async () => {
      const creds = await service(spn);
      const t = await creds.getTicketForUser('alice');
      assert.equal(unparsePrincipal(t.client), `alice@${REALM}`);
      assert.equal(unparsePrincipal(t.server), `${spn}@${REALM}`);
      if (spn === TRUSTED) assert.ok((t.flags & TicketFlag.FORWARDABLE) !== 0);
      // The ticket is real: the service's own key opens it, and it names alice.
      const kt = await readKeytab(keytabs[spn] as string);
      const e = kt.entries.find((x) => x.key.keytype === t.ticket.encPart.etype);
      assert.ok(e);
      const part = decodeEncTicketPart(
        decrypt(makeKey(e.key.keytype, e.key.keyvalue), 2, t.ticket.encPart.cipher),
      );
      assert.equal(`${part.cname.nameString.join('/')}@${part.crealm}`, `alice@${REALM}`);
      // MIT's client, same KDC, same account: the same forwardable flag.
      assert.equal((await mitS4U2Self(spn)).includes('F'), (t.flags & TicketFlag.FORWARDABLE) !== 0);
    });
  }

  it('S4U2Proxy: MIT (DB2, no delegation lists) refuses us as it refuses kvno -U -P', async () => {
    const asAlice = await (await service(TRUSTED)).impersonate('alice');
    await assert.rejects(
      asAlice.getServiceTicket(`HTTP/back.s4umit.test@${REALM}`),
      (e: unknown) => e instanceof KerberosError && e.errorName === 'KDC_ERR_BADOPTION',
    );
    const cc = `FILE:${join(realm.dir, 'proxy.cc')}`;
    await realm.run('kinit', ['-k', '-t', keytabs[TRUSTED] as string, '-c', cc, `${TRUSTED}@${REALM}`]);
    const kvno = await realm.run('kvno', ['-c', cc, '-U', 'alice', '-P', `HTTP/back.s4umit.test@${REALM}`]);
    assert.notEqual(kvno.code, 0);
    assert.match(kvno.stderr, /can't fulfill requested option|BADOPTION/i);
  });
});
