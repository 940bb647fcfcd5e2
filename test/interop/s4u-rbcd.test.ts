// Resource-based constrained delegation (the back end's msDS-AllowedToActOnBehalfOfOtherIdentity)
// with MIT's client as the reference, on a KDC that supports it: MiniKdc, which asks what MIT's
// KDC and Heimdal's (Samba >= 4.19) ask — PA-PAC-OPTIONS with the resource-based bit in the
// S4U2Proxy request — and, as MS-SFU §3.2.5.2.2 and MIT allow, takes a non-forwardable evidence
// ticket (an account without protocol transition). `kvno -U alice -P` and our impersonate() get
// the same ticket; a back end that does not list the service refuses both. Samba 4.17's KDC,
// which has no RBCD, is in s4u-samba.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readCcache } from '../../src/ccache/ccache.js';
import { TicketFlag } from '../../src/ccache/flags.js';
import { parseKeytab } from '../../src/ccache/keytab.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { KerberosError } from '../../src/errors.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { createAcceptor } from '../../src/server/index.js';
import { createInitiatorContext } from '../../src/spnego/index.js';
import { MiniKdc } from '../../src/testing/index.js';
import { run, skipUnlessMit } from './helpers/mit-realm.js';

const REALM = 'RBCD.TEST';
const SERVICE = 'HTTP/rbcd.rbcd.test';
const BACK = 'HTTP/back.rbcd.test';
const OTHER = 'HTTP/other.rbcd.test';

describe('resource-based constrained delegation: MIT kvno -U -P and ours against MiniKdc', {
  skip: skipUnlessMit(),
}, () => {
  let kdc: MiniKdc;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    dir = mkdtempSync(join(process.env['SPNEGO_INTEROP_TMP'] ?? tmpdir(), 's4u-rbcd-'));
    kdc = await MiniKdc.start({
      realm: REALM,
      principals: [
        { name: 'alice', password: 'alice-pw' },
        // No protocol transition, no msDS-AllowedToDelegateTo: only the back end's RBCD list.
        SERVICE,
        { name: BACK, allowedToActOnBehalfOf: [`${SERVICE}@${REALM}`] },
        OTHER,
      ],
    });
    await kdc.writeKeytab(join(dir, 'svc.keytab'), SERVICE);
    env = {
      KRB5_CONFIG: await kdc.writeKrb5Conf(join(dir, 'krb5.conf')),
      KRB5CCNAME: `FILE:${join(dir, 'svc.cc')}`,
      KRB5_TRACE: join(dir, 'trace.log'),
    };
    const k = await run('kinit', ['-k', '-t', join(dir, 'svc.keytab'), SERVICE], { env });
    assert.equal(k.code, 0, k.stderr);
  });
  after(async () => {
    await kdc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('MIT kvno -U alice -P and our impersonate() both get a ticket to the back end for alice', async () => {
    const v = await run('kvno', ['-U', 'alice', '-P', `${BACK}@${REALM}`], { env });
    assert.equal(v.code, 0, v.stderr);
    const mit = (await readCcache(join(dir, 'svc.cc'))).credentials.find(
      (c) => unparsePrincipal(c.server) === `${BACK}@${REALM}`,
    );
    assert.ok(mit, "MIT's ccache holds the back end's ticket");
    assert.equal(unparsePrincipal(mit.client), `alice@${REALM}`);

    const service = await Credentials.fromKeytab(SERVICE, parseKeytab(kdc.keytabFor(SERVICE)), {
      config: kdc.clientConfig(),
    });
    const evidence = await service.getTicketForUser('alice');
    assert.equal(evidence.flags & TicketFlag.FORWARDABLE, 0, 'no protocol transition: not forwardable');
    const asAlice = await service.impersonate(evidence);
    const ctx = await createInitiatorContext({
      credentials: asAlice,
      target: `${BACK}@${REALM}`,
      mutual: true,
    });
    const token = (await ctx.step()).token;
    assert.ok(token);
    assert.equal(
      (await createAcceptor({ keytab: kdc.keytabFor(BACK) }).accept(token)).user,
      `alice@${REALM}`,
    );
    // The same flags as MIT's ticket (not forwardable: the evidence was not).
    const ours = asAlice
      .toCcache()
      .credentials.find((c) => unparsePrincipal(c.server) === `${BACK}@${REALM}`);
    assert.ok(ours);
    assert.equal(ours.flags & TicketFlag.FORWARDABLE, mit.flags & TicketFlag.FORWARDABLE);
  });

  it('a back end that does not list the service: both refused with KDC_ERR_BADOPTION', async () => {
    const v = await run('kvno', ['-U', 'alice', '-P', `${OTHER}@${REALM}`], { env });
    assert.notEqual(v.code, 0);
    assert.match(v.stderr, /can't fulfill requested option/);
    const service = await Credentials.fromKeytab(SERVICE, parseKeytab(kdc.keytabFor(SERVICE)), {
      config: kdc.clientConfig(),
    });
    await assert.rejects(
      (await service.impersonate('alice')).getServiceTicket(OTHER),
      (e: unknown) => e instanceof KerberosError && e.errorName === 'KDC_ERR_BADOPTION',
    );
  });
});
