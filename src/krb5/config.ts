// krb5.conf as a typed object (krb5.conf(5)): [libdefaults] with MIT's defaults, [realms],
// [domain_realm] and [capaths]. The raw profile stays reachable for anything not modelled.
// File reading (KRB5_CONFIG, includes) lives in config-load.ts; this part is pure.
import {
  DEFAULT_MAX_S2K_ITERATIONS,
  isEnctypeWeak,
  MAX_PBKDF2_ITERATIONS,
  MIT_DEFAULT_ENCTYPES,
} from '../crypto/index.js';
import { ConfigError } from '../errors.js';
import {
  parseBoolean,
  parseDuration,
  parseEnctypeList,
  parseInteger,
  parseMitDeltat,
} from './config-values.js';
import { type IncludeResolver, type Profile, type ProfileValue, parseProfile } from './profile.js';

/** [libdefaults], typed, with MIT 1.20's defaults for anything unset. Durations are in seconds. */
export interface Libdefaults {
  defaultRealm: string | undefined;
  dnsLookupKdc: boolean;
  dnsLookupRealm: boolean;
  dnsCanonicalizeHostname: boolean | 'fallback';
  rdns: boolean;
  /** Requests at least this long go to the KDC over TCP first (MIT caps it at 32700). */
  udpPreferenceLimit: number;
  allowWeakCrypto: boolean;
  /** Enctype numbers in preference order, after DEFAULT/+/- and the weak filter. */
  permittedEnctypes: number[];
  defaultTgsEnctypes: number[];
  defaultTktEnctypes: number[];
  forwardable: boolean;
  proxiable: boolean;
  noaddresses: boolean;
  canonicalize: boolean;
  renewLifetime: number;
  ticketLifetime: number;
  /** `spnego_max_s2k_iterations` (ours): most PBKDF2 iterations a KDC may ask of a password login. */
  maxS2kIterations: number;
  /**
   * KDC options every AS request starts from, as MIT's kdc_default_options (in its bit
   * numbering: 0x10 = RENEWABLE_OK, MIT's default). Dropped RENEWABLE_OK when renew_lifetime asks
   * for RENEWABLE itself.
   */
  kdcDefaultOptions: number;
  clockskew: number;
  /** Heimdal/Java's per-KDC timeout in seconds; MIT has none (it waits 1 s, then backs off). */
  kdcTimeout: number | undefined;
  /** MIT 1.22 request_timeout in seconds; 0 = no overall limit. */
  requestTimeout: number;
  /** Unexpanded (%{uid} etc. are expanded by the ccache layer). MIT's default: FILE:/tmp/krb5cc_%{uid}. */
  defaultCcacheName: string;
  defaultKeytabName: string;
  /** Unset means the platform's default (the keytab layer decides). */
  defaultClientKeytabName: string | undefined;
  /** Unix socket of the KCM daemon (`-` = none); unset means MIT's default path. */
  kcmSocket: string | undefined;
  ignoreAcceptorHostname: boolean;
  enforceOkAsDelegate: boolean;
  /** -1: do not try the host's parent domains as realms. */
  realmTryDomains: number;
  /** undefined: unset (MIT uses the first DNS search domain); "" disables qualification. */
  qualifyShortname: string | undefined;
}

/** The libdefaults MIT also reads from a realm subsection: `[libdefaults] REALM = { ... }`. */
export type RealmLibdefaults = Pick<
  Libdefaults,
  | 'forwardable'
  | 'proxiable'
  | 'noaddresses'
  | 'canonicalize'
  | 'renewLifetime'
  | 'ticketLifetime'
  | 'maxS2kIterations'
>;

/** One [realms] entry. Server entries are kept as written; locate.ts parses host:port. */
export interface RealmConfig {
  name: string;
  kdc: readonly ProfileValue[];
  /** primary_kdc, else its pre-1.19 name master_kdc. */
  primaryKdc: readonly ProfileValue[];
  adminServer: readonly ProfileValue[];
  kpasswdServer: readonly ProfileValue[];
  defaultDomain: string | undefined;
  /**
   * `http_anchors`: where the CA certificates trusted for this realm's KDC proxies are
   * (`FILE:path`, `DIR:path`, `ENV:NAME`, as MIT reads them); empty = the system store.
   */
  httpAnchors: readonly string[];
}

export interface Krb5Config {
  libdefaults: Libdefaults;
  /** Realm names in the order [realms] lists them. */
  realms: ReadonlyMap<string, RealmConfig>;
  /** [domain_realm] as written: tag (host, domain or .domain) → realm; the first value wins. */
  domainRealm: ReadonlyMap<string, string>;
  /** [capaths]: client realm → server realm → intermediate realms in order ("." = direct). */
  capaths: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
  profile: Profile;
  /** Things MIT silently ignores that a person may want to know (unknown enctype names...). */
  warnings: readonly string[];
  /** The libdefaults with a realm's `[libdefaults] REALM = { ... }` overrides applied. */
  libdefaultsFor(realm: string): Libdefaults;
}

export interface ParseConfigOptions {
  path?: string;
  resolveInclude?: IncludeResolver;
}

/** Parses one krb5.conf text. Includes need `resolveInclude` (loadConfig supplies one). */
export function parseConfig(text: string, opts: ParseConfigOptions = {}): Krb5Config {
  return configFromProfile(parseProfile(text, opts));
}

type Lookup = (key: string) => ProfileValue | undefined;

function where(v: ProfileValue): string {
  return `${v.file}:${v.line}`;
}

function badValue(v: ProfileValue, key: string, expected: string): ConfigError {
  return new ConfigError(
    'CONFIG_VALUE',
    `${where(v)}: ${key} = ${JSON.stringify(v.value)} is not ${expected}`,
    {
      hint: `fix or remove the ${key} line`,
    },
  );
}

function bool(look: Lookup, key: string, dflt: boolean): boolean {
  const v = look(key);
  if (v === undefined) return dflt;
  const b = parseBoolean(v.value);
  if (b === undefined) throw badValue(v, key, 'a boolean (true/false, yes/no, on/off, 1/0)');
  return b;
}

function duration(look: Lookup, key: string, dflt: number, warnings?: string[]): number {
  const v = look(key);
  if (v === undefined) return dflt;
  const d = parseDuration(v.value);
  if (d !== undefined) return d;
  // MIT reads more than the clean forms ("24hrs" is 24h, "1:90" is 2h30m, "1D" is 1 second):
  // take what MIT takes, and say so, rather than refuse a file MIT accepts.
  const mit = parseMitDeltat(v.value);
  if (mit === undefined) throw badValue(v, key, 'a duration (e.g. 3600, 10h, 1d 2h, 36:00)');
  warnings?.push(`${where(v)}: ${key} = ${JSON.stringify(v.value)} is read as ${mit} seconds, as MIT does`);
  return mit;
}

function integer(look: Lookup, key: string, dflt: number): number {
  const v = look(key);
  if (v === undefined) return dflt;
  const n = parseInteger(v.value);
  if (n === undefined) throw badValue(v, key, 'an integer');
  return n;
}

const HARD_UDP_LIMIT = 32700;

function buildLibdefaults(look: Lookup, warnings: string[]): Libdefaults {
  const allowWeakCrypto = bool(look, 'allow_weak_crypto', false);
  const enctypes = (key: string, dflt: readonly number[]): number[] => {
    const v = look(key);
    if (v === undefined) return [...dflt];
    const r = parseEnctypeList(v.value, allowWeakCrypto);
    for (const u of r.unknown) warnings.push(`${where(v)}: unknown enctype "${u}" in ${key} ignored`);
    return r.ids;
  };
  const defaultList = MIT_DEFAULT_ENCTYPES.filter((id) => allowWeakCrypto || !isEnctypeWeak(id));
  // MIT 1.18+: the tgs/tkt lists default to permitted_enctypes.
  const permittedEnctypes = enctypes('permitted_enctypes', defaultList);
  const canon = look('dns_canonicalize_hostname');
  let dnsCanonicalizeHostname: boolean | 'fallback' = true;
  if (canon !== undefined) {
    const b = canon.value.trim().toLowerCase() === 'fallback' ? 'fallback' : parseBoolean(canon.value);
    if (b === undefined) throw badValue(canon, 'dns_canonicalize_hostname', 'true, false or fallback');
    dnsCanonicalizeHostname = b;
  }
  const udp = integer(look, 'udp_preference_limit', 1465);
  return {
    defaultRealm: nonEmpty(look('default_realm')?.value),
    dnsLookupKdc: bool(look, 'dns_lookup_kdc', true),
    dnsLookupRealm: bool(look, 'dns_lookup_realm', false),
    dnsCanonicalizeHostname,
    rdns: bool(look, 'rdns', true),
    udpPreferenceLimit: Math.min(udp, HARD_UDP_LIMIT),
    allowWeakCrypto,
    permittedEnctypes,
    defaultTgsEnctypes: enctypes('default_tgs_enctypes', permittedEnctypes),
    defaultTktEnctypes: enctypes('default_tkt_enctypes', permittedEnctypes),
    ...realmLibdefaults(look, warnings),
    kdcDefaultOptions: integer(look, 'kdc_default_options', 0x10) >>> 0,
    clockskew: duration(look, 'clockskew', 300, warnings),
    kdcTimeout: look('kdc_timeout') === undefined ? undefined : duration(look, 'kdc_timeout', 0, warnings),
    requestTimeout: duration(look, 'request_timeout', 0, warnings),
    defaultCcacheName: look('default_ccache_name')?.value ?? 'FILE:/tmp/krb5cc_%{uid}',
    defaultKeytabName: look('default_keytab_name')?.value ?? 'FILE:/etc/krb5.keytab',
    defaultClientKeytabName: look('default_client_keytab_name')?.value,
    kcmSocket: look('kcm_socket')?.value,
    ignoreAcceptorHostname: bool(look, 'ignore_acceptor_hostname', false),
    enforceOkAsDelegate: bool(look, 'enforce_ok_as_delegate', false),
    realmTryDomains: integer(look, 'realm_try_domains', -1),
    qualifyShortname: look('qualify_shortname')?.value,
  };
}

function realmLibdefaults(look: Lookup, warnings?: string[]): RealmLibdefaults {
  return {
    forwardable: bool(look, 'forwardable', false),
    proxiable: bool(look, 'proxiable', false),
    noaddresses: bool(look, 'noaddresses', true),
    canonicalize: bool(look, 'canonicalize', false),
    renewLifetime: duration(look, 'renew_lifetime', 0, warnings),
    ticketLifetime: duration(look, 'ticket_lifetime', 86400, warnings),
    maxS2kIterations: s2kLimit(look),
  };
}

/** Ours, not MIT's (MIT ignores it): the string-to-key iteration cap, 1 .. MIT's own limit. */
function s2kLimit(look: Lookup): number {
  const key = 'spnego_max_s2k_iterations';
  const n = integer(look, key, DEFAULT_MAX_S2K_ITERATIONS);
  const v = look(key);
  if (v !== undefined && (n < 1 || n > MAX_PBKDF2_ITERATIONS))
    throw badValue(v, key, `an iteration count in 1..${MAX_PBKDF2_ITERATIONS}`);
  return n;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}

function buildRealms(profile: Profile): Map<string, RealmConfig> {
  const out = new Map<string, RealmConfig>();
  for (const name of profile.sectionNames(['realms'])) {
    const s = profile.section(['realms', name]);
    if (s === undefined) continue;
    const primary = s.values('primary_kdc');
    out.set(name, {
      name,
      kdc: s.values('kdc'),
      primaryKdc: primary.length > 0 ? primary : s.values('master_kdc'),
      adminServer: s.values('admin_server'),
      kpasswdServer: s.values('kpasswd_server'),
      defaultDomain: s.values('default_domain')[0]?.value,
      httpAnchors: s.values('http_anchors').map((v) => v.value.trim()),
    });
  }
  return out;
}

function buildDomainRealm(profile: Profile): Map<string, string> {
  const out = new Map<string, string>();
  const s = profile.section(['domain_realm']);
  if (s === undefined) return out;
  for (const [tag, rel] of s.relations) {
    const first = rel.values[0];
    // Tags should be lower case (krb5.conf(5)); we match case-insensitively, see realm-of-host.ts.
    const key = tag.toLowerCase();
    if (first !== undefined && !out.has(key)) out.set(key, first.value);
  }
  return out;
}

function buildCapaths(profile: Profile): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  for (const client of profile.sectionNames(['capaths'])) {
    const s = profile.section(['capaths', client]);
    if (s === undefined) continue;
    const m = new Map<string, string[]>();
    for (const [server, rel] of s.relations)
      m.set(
        server,
        rel.values.map((v) => v.value),
      );
    out.set(client, m);
  }
  return out;
}

/** Builds the typed view of an already-parsed profile. Throws ConfigError `CONFIG_VALUE`. */
export function configFromProfile(profile: Profile): Krb5Config {
  const warnings: string[] = [];
  const globalLook: Lookup = (key) => profile.getValues(['libdefaults', key])[0];
  const libdefaults = buildLibdefaults(globalLook, warnings);
  const perRealm = new Map<string, Libdefaults>();
  return {
    libdefaults,
    realms: buildRealms(profile),
    domainRealm: buildDomainRealm(profile),
    capaths: buildCapaths(profile),
    profile,
    warnings,
    libdefaultsFor(realm: string): Libdefaults {
      const cached = perRealm.get(realm);
      if (cached !== undefined) return cached;
      const sub = profile.section(['libdefaults', realm]);
      const merged =
        sub === undefined
          ? libdefaults
          : { ...libdefaults, ...realmLibdefaults((key) => sub.values(key)[0] ?? globalLook(key)) };
      perRealm.set(realm, merged);
      return merged;
    },
  };
}

/** The default realm, or ConfigError `NO_DEFAULT_REALM` saying how to set one. */
export function requireDefaultRealm(config: Krb5Config): string {
  const r = config.libdefaults.defaultRealm;
  if (r !== undefined) return r;
  throw new ConfigError('NO_DEFAULT_REALM', 'no default realm is configured', {
    hint: 'set `default_realm = YOUR.REALM` under [libdefaults] in krb5.conf (or KRB5_CONFIG), or give the realm in the principal name (user@REALM)',
  });
}

/** A raw [libdefaults] value with MIT's realm fallback: `[libdefaults] REALM = { key }` first. */
export function libdefault(config: Krb5Config, key: string, realm?: string): string | undefined {
  if (realm !== undefined) {
    const v = config.profile.get(['libdefaults', realm, key]);
    if (v !== undefined) return v;
  }
  return config.profile.get(['libdefaults', key]);
}
