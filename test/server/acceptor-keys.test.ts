// Which keytab keys the acceptor tries. With no `principal` option, as MIT's acceptor with no
// name (and so mod_auth_gssapi): every key of the ticket's enctype, so a ticket for another SPN
// of the same AD account — an alias, a port SPN, the name in another case, all under the
// account's one key — is accepted. `principal` pins one name and nothing else opens.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Keytab, parseKeytab } from '../../src/ccache/keytab.js';
import { parsePrincipal } from '../../src/ccache/principal-text.js';
import { KerberosError } from '../../src/errors.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { createAcceptor } from '../../src/server/index.js';
import { createInitiatorContext } from '../../src/spnego/index.js';
import { MiniKdc } from '../../src/testing/index.js';

const REALM = 'KEYS.TEST';
const ACCOUNT = `HTTP/web.keys.test@${REALM}`;
const ALIASES = ['HTTP/alias.keys.test', 'HTTP/web.keys.test:8443', 'HTTP/WEB.Keys.Test'];

async function token(kdc: MiniKdc, spn: string): Promise<Uint8Array> {
  const credentials = await Credentials.fromPassword('alice', 'pw', { config: kdc.clientConfig() });
  const ctx = await createInitiatorContext({ credentials, target: spn, mutual: true });
  const first = await ctx.step();
  assert.ok(first.token);
  return first.token;
}

/** The keytab an AD admin exports for the account: the SPN's keys under the account's name. */
function accountKeytab(kdc: MiniKdc, spn: string): Keytab {
  const kt = parseKeytab(kdc.keytabFor(spn));
  const account = parsePrincipal(ACCOUNT);
  return { ...kt, entries: kt.entries.map((e) => ({ ...e, principal: account })) };
}

const krbErr = (name: string) => (e: unknown) => e instanceof KerberosError && e.errorName === name;

describe('acceptor keytab keys', () => {
  it('unpinned: a ticket for an alias, a port SPN or another case is opened by the account key', async () => {
    await using kdc = await MiniKdc.start({
      realm: REALM,
      principals: [{ name: 'alice', password: 'pw' }, ...ALIASES],
    });
    for (const spn of ALIASES) {
      const acceptor = createAcceptor({ keytab: accountKeytab(kdc, spn) });
      const r = await acceptor.accept(await token(kdc, spn));
      assert.equal(r.user, `alice@${REALM}`, spn);
      assert.ok(r.responseToken, spn); // the AP-REP for mutual authentication
    }
  });

  it('pinned with `principal`: only the named service, as before', async () => {
    await using kdc = await MiniKdc.start({
      realm: REALM,
      principals: [{ name: 'alice', password: 'pw' }, 'HTTP/alias.keys.test'],
    });
    const keytab = accountKeytab(kdc, 'HTTP/alias.keys.test');
    const pinned = createAcceptor({ keytab, principal: ACCOUNT });
    await assert.rejects(
      pinned.accept(await token(kdc, 'HTTP/alias.keys.test')),
      krbErr('KRB_AP_ERR_NOT_US'),
    );
  });

  it('unpinned: a key of another account that does not open the ticket still refuses it', async () => {
    await using kdc = await MiniKdc.start({
      realm: REALM,
      principals: [{ name: 'alice', password: 'pw' }, 'HTTP/alias.keys.test', 'HTTP/other.keys.test'],
    });
    // The keytab holds another service's key, same enctype and kvno: tried, fails, NOKEY names the ticket.
    const acceptor = createAcceptor({ keytab: accountKeytab(kdc, 'HTTP/other.keys.test') });
    await assert.rejects(acceptor.accept(await token(kdc, 'HTTP/alias.keys.test')), (e: unknown) => {
      assert.ok(krbErr('KRB_AP_ERR_NOKEY')(e), String(e));
      assert.match((e as Error).message, /HTTP\/alias\.keys\.test/);
      return true;
    });
  });

  it('an RODC-style kvno (2^31 and up, negative on the wire) goes through TGS, the keytab and the acceptor', async () => {
    await using kdc = await MiniKdc.start({
      realm: REALM,
      principals: [
        { name: 'alice', password: 'pw' },
        { name: 'HTTP/rodc.keys.test', kvno: 0x80000003 },
      ],
    });
    const kt = parseKeytab(kdc.keytabFor('HTTP/rodc.keys.test'));
    assert.equal(kt.entries[0]?.kvno, 0x80000003);
    const credentials = await Credentials.fromPassword('alice', 'pw', { config: kdc.clientConfig() });
    const st = await credentials.getServiceTicket('HTTP/rodc.keys.test');
    assert.equal(st.ticket.encPart.kvno, 0x80000003);
    const r = await createAcceptor({ keytab: kt, principal: `HTTP/rodc.keys.test@${REALM}` }).accept(
      await token(kdc, 'HTTP/rodc.keys.test'),
    );
    assert.equal(r.user, `alice@${REALM}`);
  });
});
