// The realm of a service host, as MIT's hostrealm modules decide it (krb5.conf(5) [domain_realm]
// and "hostrealm interface"):
//   1. profile: [domain_realm], trying "a.b.c", ".b.c", "b.c", ".c", "c" — the exact host, then
//      each parent as ".domain" (subdomains only) and as "domain" (itself and subdomains);
//   2. dns (only with dns_lookup_realm): TXT `_kerberos.<name>` for the host and each parent;
//   3. otherwise MIT has no authoritative answer: it asks the client realm's KDC for a referral
//      (a principal with an empty realm) and, if that fails, uses the fallback: the host's domain
//      uppercased ("www.example.com" → "EXAMPLE.COM"), or default_realm for a single-label name
//      or an IP address. `source` tells the caller which case it is.
// realm_try_domains is not implemented (MIT's default, -1, does not search).
import { ConfigError } from '../errors.js';
import { type DnsResolver, systemDns } from '../runtime/dns.js';
import type { Krb5Config } from './config.js';

export interface HostRealm {
  realm: string;
  /**
   * `domain_realm`/`dns`: configured, use it. `domain`/`default_realm`: MIT's fallback; a client
   * should first try a referral from its own realm's KDC (canonicalize) and use this if that fails.
   */
  source: 'domain_realm' | 'dns' | 'domain' | 'default_realm';
}

/** MIT cleans the name first: lower case, no trailing dot. */
export function cleanHostname(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

function isNumericAddress(h: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || h.includes(':');
}

/** Only the [domain_realm] answer, most specific entry first; undefined = no mapping. */
export function mappedRealmOfHost(host: string, config: Krb5Config): string | undefined {
  const h = cleanHostname(host);
  if (h === '') return undefined;
  let name = h;
  for (;;) {
    const r = config.domainRealm.get(name);
    if (r !== undefined) return r;
    if (name.startsWith('.')) {
      name = name.slice(1);
      continue;
    }
    const dot = name.indexOf('.');
    if (dot < 0) return undefined;
    name = name.slice(dot);
  }
}

/** MIT's fallback realm: the uppercased domain, else default_realm; undefined if neither. */
export function fallbackRealmOfHost(host: string, config: Krb5Config): HostRealm | undefined {
  const h = cleanHostname(host);
  const dot = h.indexOf('.');
  if (!isNumericAddress(h) && dot > 0 && dot < h.length - 1) {
    return { realm: h.slice(dot + 1).toUpperCase(), source: 'domain' };
  }
  const d = config.libdefaults.defaultRealm;
  return d === undefined ? undefined : { realm: d, source: 'default_realm' };
}

function noRealm(host: string): ConfigError {
  return new ConfigError('NO_DEFAULT_REALM', `cannot tell the realm of host ${JSON.stringify(host)}`, {
    hint: 'map it under [domain_realm] (e.g. `.example.com = EXAMPLE.COM`) or set default_realm in [libdefaults]',
  });
}

/** [domain_realm], then the fallback; no DNS. ConfigError `NO_DEFAULT_REALM` if nothing applies. */
export function realmOfHost(host: string, config: Krb5Config): HostRealm {
  const mapped = mappedRealmOfHost(host, config);
  if (mapped !== undefined) return { realm: mapped, source: 'domain_realm' };
  const fb = fallbackRealmOfHost(host, config);
  if (fb === undefined) throw noRealm(host);
  return fb;
}

/** As realmOfHost, with DNS TXT `_kerberos.` records in between when dns_lookup_realm is on. */
export async function resolveRealmOfHost(
  host: string,
  config: Krb5Config,
  opts: { dns?: DnsResolver } = {},
): Promise<HostRealm> {
  const mapped = mappedRealmOfHost(host, config);
  if (mapped !== undefined) return { realm: mapped, source: 'domain_realm' };
  const h = cleanHostname(host);
  if (config.libdefaults.dnsLookupRealm && h !== '' && !isNumericAddress(h)) {
    const dns = opts.dns ?? systemDns;
    let name: string | undefined = h;
    while (name !== undefined && name !== '') {
      let txt: string[] = [];
      try {
        txt = await dns.resolveTxt(`_kerberos.${name}`);
      } catch {
        // A DNS failure is "no answer": MIT carries on to the fallback too.
      }
      const realm = txt.map((t) => t.trim()).find((t) => t !== '');
      if (realm !== undefined) return { realm, source: 'dns' };
      const dot = name.indexOf('.');
      name = dot < 0 ? undefined : name.slice(dot + 1);
    }
  }
  const fb = fallbackRealmOfHost(host, config);
  if (fb === undefined) throw noRealm(host);
  return fb;
}
