// Host-name canonicalization of `service@host` names as MIT's krb5_sname_to_principal does it
// (krb5.conf dns_canonicalize_hostname true | false | fallback, rdns), against the MiniKdc and a
// resolver double that records what was asked. The real-DNS comparison with MIT's kvno is
// test/interop/dns-canonicalize.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { KerberosError } from '../../src/errors.js';
import { Credentials } from '../../src/krb5/credentials.js';
import type { DnsResolver } from '../../src/runtime/dns.js';
import { MiniKdc } from '../../src/testing/index.js';

const REALM = 'CANON.TEST';

/** alias → web (CNAME); web's address has the PTR name rev. */
function fakeDns(): DnsResolver & { asked: Array<[string, boolean]> } {
  const asked: Array<[string, boolean]> = [];
  return {
    asked,
    resolveSrv: async () => [],
    resolveTxt: async () => [],
    async canonicalHost(host, reverse) {
      asked.push([host, reverse]);
      if (host === 'alias.canon.test' || host === 'web.canon.test')
        return reverse ? 'rev.canon.test' : 'web.canon.test';
      return undefined;
    },
  };
}

describe('dns_canonicalize_hostname / rdns', () => {
  let kdc: MiniKdc;
  before(async () => {
    kdc = await MiniKdc.start({
      realm: REALM,
      principals: [
        { name: 'alice', password: 'pw' },
        'HTTP/web.canon.test',
        'HTTP/rev.canon.test',
        'HTTP/alias.canon.test',
      ],
    });
  });
  after(async () => {
    await kdc?.stop();
  });

  async function serverFor(libdefaults: Record<string, string>, target: string, dns = fakeDns()) {
    const creds = await Credentials.fromPassword(`alice@${REALM}`, 'pw', {
      config: kdc.clientConfig({ libdefaults }),
      dns,
    });
    try {
      return { name: unparsePrincipal((await creds.getServiceTicket(target)).server), dns };
    } catch (e) {
      if (e instanceof KerberosError) return { name: `error: ${e.errorName}`, dns };
      throw e;
    }
  }

  it('true (MIT default): the CNAME target; with rdns the PTR name', async () => {
    const fwd = await serverFor(
      { dns_canonicalize_hostname: 'true', rdns: 'false' },
      'HTTP@Alias.Canon.Test.',
    );
    assert.equal(fwd.name, `HTTP/web.canon.test@${REALM}`);
    assert.deepEqual(fwd.dns.asked, [['alias.canon.test', false]]);
    const rev = await serverFor({ dns_canonicalize_hostname: 'true', rdns: 'true' }, 'HTTP@alias.canon.test');
    assert.equal(rev.name, `HTTP/rev.canon.test@${REALM}`);
  });

  it('false: the name as given (lowercased), no DNS', async () => {
    const r = await serverFor({ dns_canonicalize_hostname: 'false' }, 'HTTP@ALIAS.canon.test');
    assert.equal(r.name, `HTTP/alias.canon.test@${REALM}`);
    assert.deepEqual(r.dns.asked, []);
  });

  it('fallback: the name as given first; canonicalized only after S_PRINCIPAL_UNKNOWN', async () => {
    kdc.faults.unknownPrincipals.clear();
    const known = await serverFor(
      { dns_canonicalize_hostname: 'fallback', rdns: 'false' },
      'HTTP@alias.canon.test',
    );
    assert.equal(known.name, `HTTP/alias.canon.test@${REALM}`);
    assert.deepEqual(known.dns.asked, []);
    kdc.faults.unknownPrincipals.add(`HTTP/alias.canon.test@${REALM}`);
    try {
      const r = await serverFor(
        { dns_canonicalize_hostname: 'fallback', rdns: 'false' },
        'HTTP@alias.canon.test',
      );
      assert.equal(r.name, `HTTP/web.canon.test@${REALM}`);
      assert.deepEqual(r.dns.asked, [['alias.canon.test', false]]);
      // A name DNS does not know stays as it is, and the KDC's answer stands.
      const none = await serverFor({ dns_canonicalize_hostname: 'fallback' }, 'HTTP@nowhere.canon.test');
      assert.equal(none.name, 'error: KDC_ERR_S_PRINCIPAL_UNKNOWN');
    } finally {
      kdc.faults.unknownPrincipals.clear();
    }
  });

  it('a principal name (targetName "HTTP/alias.canon.test@REALM") is used as given', async () => {
    const r = await serverFor(
      { dns_canonicalize_hostname: 'true', rdns: 'true' },
      `HTTP/alias.canon.test@${REALM}`,
    );
    assert.equal(r.name, `HTTP/alias.canon.test@${REALM}`);
    assert.deepEqual(r.dns.asked, []);
  });
});
