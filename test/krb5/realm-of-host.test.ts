import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { parseConfig } from '../../src/krb5/config.js';
import { mappedRealmOfHost, realmOfHost, resolveRealmOfHost } from '../../src/krb5/realm-of-host.js';
import type { DnsResolver } from '../../src/runtime/dns.js';

const sample = parseConfig(
  readFileSync(new URL('../vectors/krb5conf/mit-sample.conf', import.meta.url), 'utf8'),
);

describe('realm of a host', () => {
  it("MIT's [domain_realm] example", () => {
    assert.equal(mappedRealmOfHost('crash.mit.edu', sample), 'TEST.ATHENA.MIT.EDU');
    assert.equal(mappedRealmOfHost('host.dev.mit.edu', sample), 'TEST.ATHENA.MIT.EDU');
    assert.equal(mappedRealmOfHost('a.b.dev.mit.edu', sample), 'TEST.ATHENA.MIT.EDU');
    // ".dev.mit.edu" is subdomains only: dev.mit.edu itself falls to "mit.edu".
    assert.equal(mappedRealmOfHost('dev.mit.edu', sample), 'ATHENA.MIT.EDU');
    assert.equal(mappedRealmOfHost('mit.edu', sample), 'ATHENA.MIT.EDU');
    assert.equal(mappedRealmOfHost('www.mit.edu', sample), 'ATHENA.MIT.EDU');
    assert.equal(mappedRealmOfHost('notmit.edu', sample), undefined);
  });

  it('cleans the name: case and a trailing dot', () => {
    assert.equal(mappedRealmOfHost('CRASH.MIT.EDU.', sample), 'TEST.ATHENA.MIT.EDU');
  });

  it('exact host beats .domain, and longer suffixes beat shorter ones', () => {
    const c = parseConfig(
      '[domain_realm]\n.example.com = EX\n.corp.example.com = CORP\nsrv.corp.example.com = SRV\nlocalhost = LOCAL.TEST\n',
    );
    assert.equal(realmOfHost('srv.corp.example.com', c).realm, 'SRV');
    assert.equal(realmOfHost('web.corp.example.com', c).realm, 'CORP');
    assert.equal(realmOfHost('www.example.com', c).realm, 'EX');
    assert.deepEqual(realmOfHost('localhost', c), { realm: 'LOCAL.TEST', source: 'domain_realm' });
  });

  it('unmapped: the uppercased domain (MIT fallback after a referral), else default_realm', () => {
    const c = parseConfig('[libdefaults]\ndefault_realm = HOME.ORG\n');
    assert.deepEqual(realmOfHost('www.other.net', c), { realm: 'OTHER.NET', source: 'domain' });
    assert.deepEqual(realmOfHost('shortname', c), { realm: 'HOME.ORG', source: 'default_realm' });
    assert.deepEqual(realmOfHost('10.0.0.1', c), { realm: 'HOME.ORG', source: 'default_realm' });
    assert.deepEqual(realmOfHost('::1', c), { realm: 'HOME.ORG', source: 'default_realm' });
    assert.throws(
      () => realmOfHost('shortname', parseConfig('')),
      (e: unknown) => e instanceof ConfigError && e.code === 'NO_DEFAULT_REALM',
    );
  });

  it('DNS TXT _kerberos records only when dns_lookup_realm is on, walking up the domain', async () => {
    const asked: string[] = [];
    const dns: DnsResolver = {
      async resolveSrv() {
        return [];
      },
      async resolveTxt(name) {
        asked.push(name);
        return name === '_kerberos.example.com' ? ['EXAMPLE.COM'] : [];
      },
    };
    const off = parseConfig('');
    assert.deepEqual(await resolveRealmOfHost('a.b.example.com', off, { dns }), {
      realm: 'B.EXAMPLE.COM',
      source: 'domain',
    });
    assert.deepEqual(asked, []);
    const on = parseConfig('[libdefaults]\ndns_lookup_realm = true\n[domain_realm]\n.mapped.org = M\n');
    assert.deepEqual(await resolveRealmOfHost('a.b.example.com', on, { dns }), {
      realm: 'EXAMPLE.COM',
      source: 'dns',
    });
    assert.deepEqual(asked, [
      '_kerberos.a.b.example.com',
      '_kerberos.b.example.com',
      '_kerberos.example.com',
    ]);
    assert.deepEqual(await resolveRealmOfHost('x.mapped.org', on, { dns }), {
      realm: 'M',
      source: 'domain_realm',
    });
  });
});
