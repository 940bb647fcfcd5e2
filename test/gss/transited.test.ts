// The transited field of cross-realm tickets (RFC 4120 §2.7): a path the KDC did not check (no
// TRANSITED-POLICY-CHECKED) is accepted only through the realms [capaths] or the realm hierarchy
// put between the client and the service, as MIT's acceptor (krb5_check_transited_list).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NameType } from '../../src/asn1/index.js';
import { TicketFlag } from '../../src/ccache/flags.js';
import type { Principal } from '../../src/ccache/principal-text.js';
import { KerberosError } from '../../src/errors.js';
import { acceptApReq, Krb5Initiator, MemoryReplayCache } from '../../src/krb5/gss/index.js';
import { createAcceptor } from '../../src/server/index.js';
import { createInitiatorContext } from '../../src/spnego/index.js';
import { mint, REALM } from './helpers.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const user = (realm: string): Principal => ({
  realm,
  name: { nameType: NameType.PRINCIPAL, nameString: ['carol'] },
});
const krbErr = (name: string) => (e: unknown) => e instanceof KerberosError && e.errorName === name;

describe('the acceptor checks the transited path of tickets the KDC did not check', () => {
  const accept = async (o: Parameters<typeof mint>[0], capaths?: Map<string, Map<string, string[]>>) => {
    const m = await mint(o);
    const ini = new Krb5Initiator({ ticket: m.ticket, mutual: true });
    return acceptApReq(ini.token, {
      keytab: m.keytab,
      replayCache: new MemoryReplayCache(),
      ...(capaths ? { capaths } : {}),
    });
  };

  it('refuses a cross-realm ticket that came through a realm off the path (KRB_AP_ERR_ILL_CR_TKT)', async () => {
    const evil = { client: user('OTHER.TEST'), transited: { trType: 1, contents: ascii('EVIL.TEST') } };
    await assert.rejects(() => accept(evil), krbErr('KRB_AP_ERR_ILL_CR_TKT'));
    // The KDC vouching for the path (TRANSITED-POLICY-CHECKED) is taken, as MIT does.
    const checked = await accept({
      ...evil,
      flags: TicketFlag.TRANSITED_POLICY_CHECKED | TicketFlag.PRE_AUTHENT,
    });
    assert.equal(checked.client.realm, 'OTHER.TEST');
    // Through the realm [capaths] names: accepted; through another: refused.
    const capaths = new Map([['OTHER.TEST', new Map([[REALM, ['MID.TEST']]])]]);
    const viaMid = { client: user('OTHER.TEST'), transited: { trType: 1, contents: ascii('MID.TEST') } };
    assert.equal((await accept(viaMid, capaths)).client.realm, 'OTHER.TEST');
    await assert.rejects(() => accept(evil, capaths), krbErr('KRB_AP_ERR_ILL_CR_TKT'));
    // The hierarchy: X.SUB.GSS.TEST reaches GSS.TEST through SUB.GSS.TEST.
    const viaParent = {
      client: user(`X.SUB.${REALM}`),
      transited: { trType: 1, contents: ascii(`SUB.${REALM}`) },
    };
    assert.equal((await accept(viaParent)).client.realm, `X.SUB.${REALM}`);
  });

  it('refuses a same-realm ticket naming transited realms, and an unknown encoding', async () => {
    await assert.rejects(
      () => accept({ transited: { trType: 1, contents: ascii('EVIL.TEST') } }),
      krbErr('KRB_AP_ERR_ILL_CR_TKT'),
    );
    await assert.rejects(
      () => accept({ client: user('OTHER.TEST'), transited: { trType: 7, contents: ascii('x') } }),
      krbErr('KRB_AP_ERR_ILL_CR_TKT'),
    );
    // An empty path (a direct trust) needs no check.
    assert.equal((await accept({ client: user('OTHER.TEST') })).client.realm, 'OTHER.TEST');
  });

  it('a ticket whose unchecked transited path names an untrusted realm is refused by createAcceptor even with a realms filter', async () => {
    const m = await mint({ transited: { trType: 1, contents: ascii('EVIL.TEST') } });
    const acceptor = createAcceptor({
      keytab: m.keytab,
      realms: [REALM],
      replayCache: new MemoryReplayCache(),
    });
    const ctx = await createInitiatorContext({
      credentials: m.credentials,
      target: `HTTP/localhost@${REALM}`,
    });
    const first = await ctx.step();
    assert.ok(first.token);
    await assert.rejects(() => acceptor.accept(first.token as Uint8Array), krbErr('KRB_AP_ERR_ILL_CR_TKT'));
  });
});
