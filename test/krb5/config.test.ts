import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { libdefault, parseConfig, requireDefaultRealm } from '../../src/krb5/config.js';

const vector = (name: string): string =>
  readFileSync(new URL(`../vectors/krb5conf/${name}`, import.meta.url), 'utf8');

describe('typed krb5.conf', () => {
  it('an empty config gives MIT 1.20 defaults', () => {
    const c = parseConfig('');
    const d = c.libdefaults;
    assert.equal(d.defaultRealm, undefined);
    assert.equal(d.dnsLookupKdc, true);
    assert.equal(d.dnsLookupRealm, false);
    assert.equal(d.dnsCanonicalizeHostname, true);
    assert.equal(d.rdns, true);
    assert.equal(d.udpPreferenceLimit, 1465);
    assert.equal(d.allowWeakCrypto, false);
    assert.equal(d.forwardable, false);
    assert.equal(d.proxiable, false);
    assert.equal(d.noaddresses, true);
    assert.equal(d.canonicalize, false);
    assert.equal(d.renewLifetime, 0);
    assert.equal(d.ticketLifetime, 86400);
    assert.equal(d.clockskew, 300);
    assert.equal(d.kdcTimeout, undefined);
    assert.equal(d.requestTimeout, 0);
    assert.equal(d.defaultCcacheName, 'FILE:/tmp/krb5cc_%{uid}');
    assert.equal(d.defaultKeytabName, 'FILE:/etc/krb5.keytab');
    assert.equal(d.defaultClientKeytabName, undefined);
    assert.equal(d.ignoreAcceptorHostname, false);
    assert.equal(d.realmTryDomains, -1);
    assert.deepEqual(d.permittedEnctypes, [18, 17, 20, 19, 16, 23, 25, 26]);
    assert.deepEqual(d.defaultTgsEnctypes, d.permittedEnctypes);
    assert.deepEqual(d.defaultTktEnctypes, d.permittedEnctypes);
    assert.equal(c.realms.size, 0);
    assert.throws(
      () => requireDefaultRealm(c),
      (e: unknown) =>
        e instanceof ConfigError && e.code === 'NO_DEFAULT_REALM' && /default_realm/.test(e.hint ?? ''),
    );
  });

  it('reads every modelled [libdefaults] key', () => {
    const c = parseConfig(`[libdefaults]
  default_realm = EXAMPLE.COM
  dns_lookup_kdc = no
  dns_lookup_realm = YES
  dns_canonicalize_hostname = fallback
  rdns = false
  udp_preference_limit = 1
  allow_weak_crypto = true
  permitted_enctypes = aes256-cts des-cbc-crc
  default_tkt_enctypes = aes128-cts
  forwardable = true
  proxiable = 1
  noaddresses = off
  canonicalize = on
  renew_lifetime = 7d
  ticket_lifetime = 10h 30m
  clockskew = 5m
  kdc_timeout = 3s
  request_timeout = 1:00
  default_ccache_name = DIR:/run/user/%{uid}/krb5cc
  default_keytab_name = FILE:/srv/http.keytab
  default_client_keytab_name = FILE:/srv/client.keytab
  ignore_acceptor_hostname = true
  realm_try_domains = 1
  qualify_shortname = ""
  something_else = kept
`);
    const d = c.libdefaults;
    assert.equal(d.defaultRealm, 'EXAMPLE.COM');
    assert.equal(d.dnsLookupKdc, false);
    assert.equal(d.dnsLookupRealm, true);
    assert.equal(d.dnsCanonicalizeHostname, 'fallback');
    assert.equal(d.rdns, false);
    assert.equal(d.udpPreferenceLimit, 1);
    assert.equal(d.allowWeakCrypto, true);
    assert.deepEqual(d.permittedEnctypes, [18, 1]);
    assert.deepEqual(d.defaultTktEnctypes, [17]);
    assert.deepEqual(d.defaultTgsEnctypes, [18, 1]);
    assert.equal(d.forwardable, true);
    assert.equal(d.proxiable, true);
    assert.equal(d.noaddresses, false);
    assert.equal(d.canonicalize, true);
    assert.equal(d.renewLifetime, 7 * 86400);
    assert.equal(d.ticketLifetime, 10 * 3600 + 30 * 60);
    assert.equal(d.clockskew, 300);
    assert.equal(d.kdcTimeout, 3);
    assert.equal(d.requestTimeout, 3600);
    assert.equal(d.defaultCcacheName, 'DIR:/run/user/%{uid}/krb5cc');
    assert.equal(d.defaultKeytabName, 'FILE:/srv/http.keytab');
    assert.equal(d.defaultClientKeytabName, 'FILE:/srv/client.keytab');
    assert.equal(d.ignoreAcceptorHostname, true);
    assert.equal(d.realmTryDomains, 1);
    assert.equal(d.qualifyShortname, '');
    assert.equal(c.profile.get(['libdefaults', 'something_else']), 'kept');
  });

  it('weak enctypes are filtered from configured lists without allow_weak_crypto', () => {
    const c = parseConfig(
      '[libdefaults]\npermitted_enctypes = des-cbc-md5 aes256-cts\ndefault_tgs_enctypes = DEFAULT -des3 -rc4 -camellia\n',
    );
    assert.deepEqual(c.libdefaults.permittedEnctypes, [18]);
    assert.deepEqual(c.libdefaults.defaultTgsEnctypes, [18, 17, 20, 19]);
  });

  it('reports unknown enctype names as warnings, with the line', () => {
    const c = parseConfig('[libdefaults]\n\npermitted_enctypes = aes256-cts foo\n', { path: 'k.conf' });
    assert.deepEqual(c.warnings, ['k.conf:3: unknown enctype "foo" in permitted_enctypes ignored']);
  });

  it('caps udp_preference_limit as MIT does', () => {
    assert.equal(
      parseConfig('[libdefaults]\nudp_preference_limit = 100000\n').libdefaults.udpPreferenceLimit,
      32700,
    );
  });

  it('earlier values win for single-valued keys', () => {
    assert.equal(
      parseConfig('[libdefaults]\ndefault_realm = A\ndefault_realm = B\n').libdefaults.defaultRealm,
      'A',
    );
  });

  it('bad values are ConfigError CONFIG_VALUE naming file:line and key', () => {
    for (const [line, key] of [
      ['forwardable = maybe', 'forwardable'],
      ['ticket_lifetime = forever', 'ticket_lifetime'],
      ['udp_preference_limit = lots', 'udp_preference_limit'],
      ['dns_canonicalize_hostname = sometimes', 'dns_canonicalize_hostname'],
    ] as const) {
      assert.throws(
        () => parseConfig(`[libdefaults]\n${line}\n`, { path: 'k.conf' }),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.code === 'CONFIG_VALUE' &&
          e.message.startsWith(`k.conf:2: ${key} = `),
      );
    }
  });

  it('realm-specific [libdefaults] subsections override, with fallback to the global value', () => {
    const c = parseConfig(`[libdefaults]
  forwardable = false
  ticket_lifetime = 1h
  EXAMPLE.COM = {
    forwardable = true
    custom = realm-value
  }
`);
    assert.equal(c.libdefaults.forwardable, false);
    const r = c.libdefaultsFor('EXAMPLE.COM');
    assert.equal(r.forwardable, true);
    assert.equal(r.ticketLifetime, 3600);
    assert.equal(c.libdefaultsFor('OTHER.ORG').forwardable, false);
    assert.equal(libdefault(c, 'custom', 'EXAMPLE.COM'), 'realm-value');
    assert.equal(libdefault(c, 'ticket_lifetime', 'EXAMPLE.COM'), '1h');
    assert.equal(libdefault(c, 'custom'), undefined);
  });

  it("MIT's sample krb5.conf", () => {
    const c = parseConfig(vector('mit-sample.conf'), { path: 'mit-sample.conf' });
    assert.equal(c.libdefaults.defaultRealm, 'ATHENA.MIT.EDU');
    assert.deepEqual([...c.realms.keys()], ['ATHENA.MIT.EDU', 'EXAMPLE.COM']);
    const athena = c.realms.get('ATHENA.MIT.EDU');
    assert.deepEqual(
      athena?.kdc.map((v) => v.value),
      ['kerberos.mit.edu', 'kerberos-1.mit.edu', 'kerberos-2.mit.edu'],
    );
    assert.deepEqual(
      athena?.adminServer.map((v) => v.value),
      ['kerberos.mit.edu'],
    );
    assert.deepEqual(
      athena?.primaryKdc.map((v) => v.value),
      ['kerberos.mit.edu'],
    );
    assert.equal(c.domainRealm.get('.dev.mit.edu'), 'TEST.ATHENA.MIT.EDU');
    assert.deepEqual(c.capaths.get('ATHENA.MIT.EDU')?.get('EXAMPLE.COM'), ['.']);
  });

  it('realm entries: master_kdc fallback, kpasswd_server, default_domain', () => {
    const c = parseConfig(
      '[realms]\nR = {\n master_kdc = m\n kpasswd_server = k:464\n default_domain = r.org\n}\n',
    );
    const r = c.realms.get('R');
    assert.deepEqual(
      r?.primaryKdc.map((v) => v.value),
      ['m'],
    );
    assert.deepEqual(
      r?.kpasswdServer.map((v) => v.value),
      ['k:464'],
    );
    assert.equal(r?.defaultDomain, 'r.org');
    assert.deepEqual(r?.kdc, []);
  });

  it('[capaths] keeps repeated subtags in order (MIT NERSC example)', () => {
    const c = parseConfig(vector('nersc-capaths.conf'));
    assert.deepEqual(c.capaths.get('NERSC.GOV')?.get('TEST.ANL.GOV'), ['ES.NET', 'ANL.GOV']);
    assert.deepEqual(c.capaths.get('TEST.ANL.GOV')?.get('NERSC.GOV'), ['ANL.GOV', 'ES.NET']);
    assert.deepEqual(c.capaths.get('ES.NET')?.get('NERSC.GOV'), ['.']);
  });
});
