// Where a realm's KDCs are: the [realms] `kdc` lines, else (dns_lookup_kdc) DNS SRV records
// `_kerberos._udp.REALM` / `_kerberos._tcp.REALM` (RFC 4120 §7.2.3) in RFC 2782 order.
// A `kdc = https://host[:port]/path` line is a KDC proxy (MS-KKDCP), as MIT reads it; MIT's
// DNS URI records (dns_uri_lookup) are not used.
import { ConfigError } from '../errors.js';
import { type DnsResolver, type SrvRecord, systemDns } from '../runtime/dns.js';
import type { Krb5Config } from './config.js';
import type { ProfileValue } from './profile.js';

export const KDC_PORT = 88;

export interface KdcAddress {
  host: string;
  port: number;
  /**
   * `any`: a plain config line; the transport picks UDP or TCP (udp_preference_limit).
   * `https`: a KDC proxy (MS-KKDCP) at `https://host:port/path`.
   */
  transport: 'tcp' | 'udp' | 'any' | 'https';
  /** For `https`: the URL path after the first `/`, as MIT splits it (may be empty). */
  path?: string;
  source: 'config' | 'dns';
}

/** The URL a KDC proxy entry is posted to. */
export function kdcProxyUrl(a: { host: string; port: number; path?: string }): string {
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return `https://${host}:${a.port}/${a.path ?? ''}`;
}

/**
 * MIT's parse_uri_if_https: a value starting `https://` (exactly so, as MIT compares) is a KDC
 * proxy; the host[:port] runs to the first `/` (port 443 by default), the path is the rest.
 */
function kdcProxyEntry(spec: string): KdcAddress | undefined {
  const rest = spec.slice('https://'.length).split(/\s/)[0] ?? '';
  const slash = rest.indexOf('/');
  const hp = parseHostPort(slash < 0 ? rest : rest.slice(0, slash), 443);
  if (hp === undefined || hp.transport !== 'any') return undefined;
  return {
    host: hp.host,
    port: hp.port,
    transport: 'https',
    path: slash < 0 ? '' : rest.slice(slash + 1),
    source: 'config',
  };
}

export interface LocateOptions {
  dns?: DnsResolver;
  /** Put TCP SRV results before UDP ones (a request longer than udp_preference_limit). */
  preferTcp?: boolean;
  /** Uniform in [0, 1), for RFC 2782's weighted choice; injectable for tests. */
  random?: () => number;
}

/**
 * MIT's host[:port] syntax: `host`, `host:88`, `[v6]`, `[v6]:88`, or a bare IPv6 address (more
 * than one colon, so no port). Returns undefined when the port is not a number in 1..65535 or
 * the host is empty. Heimdal's `tcp/`/`udp/` prefixes are honoured (MIT would take them as part
 * of a hostname that can never resolve).
 */
export function parseHostPort(
  spec: string,
  defaultPort: number,
): { host: string; port: number; transport: 'tcp' | 'udp' | 'any' } | undefined {
  let s = spec.trim();
  let transport: 'tcp' | 'udp' | 'any' = 'any';
  const proto = /^(tcp|udp)\//i.exec(s);
  if (proto !== null) {
    transport = (proto[1] as string).toLowerCase() as 'tcp' | 'udp';
    s = s.slice(4);
  }
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return undefined;
    host = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      portText = rest.slice(1);
    }
  } else {
    const first = s.indexOf(':');
    if (first >= 0 && first === s.lastIndexOf(':')) {
      host = s.slice(0, first);
      portText = s.slice(first + 1);
    } else {
      host = s;
    }
  }
  if (host === '' || /\s/.test(host)) return undefined;
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return undefined;
    port = Number(portText);
    if (port < 1 || port > 65535) return undefined;
  }
  return { host, port, transport };
}

/** The realm's KDCs from config, or DNS; ConfigError `NO_KDC_FOR_REALM` when there are none. */
export async function locateKdcs(
  realm: string,
  config: Krb5Config,
  opts: LocateOptions = {},
): Promise<KdcAddress[]> {
  const fromConfig = kdcsFromConfig(config.realms.get(realm)?.kdc ?? []);
  if (fromConfig.length > 0) return fromConfig;
  let dnsNote = 'dns_lookup_kdc is false';
  if (config.libdefaults.dnsLookupKdc && realm !== '') {
    const dns = opts.dns ?? systemDns;
    const random = opts.random ?? Math.random;
    const lookups = [
      { transport: 'udp' as const, name: `_kerberos._udp.${realm}` },
      { transport: 'tcp' as const, name: `_kerberos._tcp.${realm}` },
    ];
    if (opts.preferTcp === true) lookups.reverse();
    const out: KdcAddress[] = [];
    const failures: string[] = [];
    for (const l of lookups) {
      let records: SrvRecord[];
      try {
        records = await dns.resolveSrv(l.name);
      } catch (e) {
        failures.push(`${l.name}: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      for (const r of orderSrv(records, random)) {
        out.push({ host: r.name, port: r.port, transport: l.transport, source: 'dns' });
      }
    }
    if (out.length > 0) return out;
    dnsNote =
      failures.length > 0
        ? `DNS lookups failed (${failures.join('; ')})`
        : `no DNS SRV records _kerberos._udp.${realm} / _kerberos._tcp.${realm}`;
  }
  throw new ConfigError(
    'NO_KDC_FOR_REALM',
    `cannot find a KDC for realm ${JSON.stringify(realm)}: no kdc in [realms] and ${dnsNote}`,
    {
      hint: `add to krb5.conf:\n[realms]\n    ${realm || 'YOUR.REALM'} = {\n        kdc = kdc.example.com\n    }`,
    },
  );
}

/**
 * What MIT's host-string parser reads of a [realms] server value: the host ends at a blank, a
 * colon or (for `[v6]`) the `]`, and a blank there ends the entry; the rest is ignored. So
 * `kdc = kdc1.example.com  # primary` is kdc1.example.com:88 and `kdc = a b` is a (MIT 1.20),
 * while `kdc = a:88 # x` stays malformed, as in MIT (its port must run to the end).
 */
function mitServerSpec(spec: string): string {
  const proto = /^(tcp|udp)\//i.test(spec) ? 4 : 0;
  const body = spec.slice(proto);
  let end: number;
  if (body.startsWith('[')) {
    const close = body.indexOf(']');
    end = close >= 0 && /^\s/.test(body.charAt(close + 1)) ? close + 1 : -1;
  } else {
    const m = /^[^\s:]*(?=\s)/.exec(body);
    end = m === null ? -1 : m[0].length;
  }
  return end < 0 ? spec : spec.slice(0, proto + end);
}

function kdcsFromConfig(values: readonly ProfileValue[]): KdcAddress[] {
  const out: KdcAddress[] = [];
  for (const v of values) {
    const spec = v.value.trim();
    if (spec.startsWith('https://')) {
      const proxy = kdcProxyEntry(spec);
      if (proxy === undefined) {
        throw new ConfigError(
          'CONFIG_VALUE',
          `${v.file}:${v.line}: kdc = ${JSON.stringify(v.value)} is not https://host[:port]/path`,
          {
            hint: 'write `kdc = https://kdcproxy.example.com/KdcProxy`',
          },
        );
      }
      out.push(proxy);
      continue;
    }
    // A Unix socket path (MIT), or a URL of a scheme no KDC speaks: not something we can reach.
    if (spec.startsWith('/') || /^https?:\/\//i.test(spec)) continue;
    const hp = parseHostPort(mitServerSpec(spec), KDC_PORT);
    if (hp === undefined) {
      throw new ConfigError(
        'CONFIG_VALUE',
        `${v.file}:${v.line}: kdc = ${JSON.stringify(v.value)} is not host, host:port or [ipv6]:port`,
        {
          hint: 'write `kdc = kdc.example.com` or `kdc = kdc.example.com:88`',
        },
      );
    }
    out.push({ ...hp, source: 'config' });
  }
  return out;
}

/**
 * RFC 2782 order: ascending priority; within a priority, repeatedly pick a record with
 * probability proportional to its weight (zero-weight records rarely first). A single record
 * with target "." means the service is decidedly not offered: no records.
 */
export function orderSrv(records: readonly SrvRecord[], random: () => number = Math.random): SrvRecord[] {
  const valid = records
    .map((r) => ({ ...r, name: r.name.endsWith('.') ? r.name.slice(0, -1) : r.name }))
    .filter((r) => Number.isInteger(r.port) && r.port > 0 && r.port <= 65535);
  if (valid.length === 1 && valid[0]?.name === '') return [];
  const usable = valid.filter((r) => r.name !== '');
  const priorities = [...new Set(usable.map((r) => r.priority))].sort((a, b) => a - b);
  const out: SrvRecord[] = [];
  for (const p of priorities) {
    // Zero weights first, as RFC 2782 suggests, so they are chosen only when drawn as 0.
    const group = usable
      .filter((r) => r.priority === p)
      .sort((a, b) => (a.weight === 0 ? 0 : 1) - (b.weight === 0 ? 0 : 1));
    while (group.length > 0) {
      const total = group.reduce((n, r) => n + Math.max(0, r.weight), 0);
      const draw = Math.min(total, Math.floor(random() * (total + 1)));
      let running = 0;
      let pick = group.length - 1;
      for (let i = 0; i < group.length; i++) {
        running += Math.max(0, (group[i] as SrvRecord).weight);
        if (running >= draw) {
          pick = i;
          break;
        }
      }
      out.push(group.splice(pick, 1)[0] as SrvRecord);
    }
  }
  return out;
}
