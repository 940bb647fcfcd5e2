// DNS lookups Kerberos uses: SRV records to find KDCs (RFC 4120 §7.2.3) and TXT records for a
// host's realm. Behind an interface so KDC location can be tested without a resolver.
import type * as NodeDns from 'node:dns';
import { builtin, isPlatformUnsupported } from './builtin.js';

const dnsp = () => builtin<typeof NodeDns>('node:dns').promises;

export interface SrvRecord {
  /** Target host as published; "." (or "") means "no such service here" (RFC 2782). */
  name: string;
  port: number;
  priority: number;
  weight: number;
}

export interface DnsResolver {
  /** SRV records of `name`; [] when the name or record does not exist. Other failures throw. */
  resolveSrv(name: string): Promise<SrvRecord[]>;
  /** TXT records of `name`, each as its joined strings; [] when none exist. */
  resolveTxt(name: string): Promise<string[]>;
  /**
   * Host-name canonicalization as MIT's getaddrinfo(AI_CANONNAME) + getnameinfo does it: the
   * canonical name of `host` after CNAMEs, and with `reverse` the name the PTR record of its
   * first address gives. undefined when `host` does not resolve (the name is then used as given).
   */
  canonicalHost?(host: string, reverse: boolean): Promise<string | undefined>;
}

/** CNAME chains longer than this are not followed (a loop, or an attack). */
const MAX_CNAMES = 10;

function lower(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

// Answers that mean "there is no such record", as opposed to "DNS did not answer".
const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'NOTFOUND', 'NODATA', 'ENONAME', 'NONAME']);

function isNotFound(e: unknown): boolean {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && NOT_FOUND.has(code);
}

export const systemDns: DnsResolver = {
  async resolveSrv(name) {
    try {
      return (await dnsp().resolveSrv(name)).map((r) => ({
        name: r.name,
        port: r.port,
        priority: r.priority,
        weight: r.weight,
      }));
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
  },
  async resolveTxt(name) {
    try {
      return (await dnsp().resolveTxt(name)).map((chunks) => chunks.join(''));
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
  },
  async canonicalHost(host, reverse) {
    try {
      return await canonicalize(host, reverse, undefined);
    } catch (e) {
      // No resolver on this platform (an edge runtime): the name is used as given, as MIT does
      // when the lookup fails.
      if (isPlatformUnsupported(e)) return undefined;
      throw e;
    }
  },
};

type Resolver = InstanceType<typeof NodeDns.promises.Resolver>;

/** Follows CNAMEs from `host` (bounded); the last name, or undefined when `host` has no records. */
async function followCnames(r: Pick<Resolver, 'resolveCname'>, host: string): Promise<string> {
  let name = host;
  for (let i = 0; i < MAX_CNAMES; i++) {
    let next: string[];
    try {
      next = await r.resolveCname(name);
    } catch {
      // No CNAME here (NODATA, NXDOMAIN, or a server that refuses the type): the chain ends.
      return name;
    }
    if (next[0] === undefined) return name;
    name = next[0];
  }
  return name;
}

async function canonicalize(
  host: string,
  reverse: boolean,
  r: Resolver | undefined,
): Promise<string | undefined> {
  const dns = builtin<typeof NodeDns>('node:dns');
  const resolver = r ?? dns.promises;
  const canon = await followCnames(resolver, host);
  if (!reverse) return lower(canon);
  // The first address of the canonical name, then its PTR name (getnameinfo NI_NAMEREQD).
  try {
    let address: string | undefined;
    if (r) {
      address = (await r.resolve4(canon).catch(() => [] as string[]))[0];
      address ??= (await r.resolve6(canon).catch(() => [] as string[]))[0];
    } else {
      address = (await dns.promises.lookup(canon)).address;
    }
    if (address === undefined) return lower(canon);
    const names = r ? await r.reverse(address) : [(await dns.promises.lookupService(address, 0)).hostname];
    const ptr = names[0];
    // A bare address back (no PTR record) is not a name: keep the forward result, as MIT does.
    return ptr && ptr !== address ? lower(ptr) : lower(canon);
  } catch {
    return lower(canon);
  }
}

/**
 * A resolver asking the given DNS servers (`"127.0.0.1:5353"`, `"[::1]:53"`) instead of the
 * system's: for tests and for hosts whose resolver Kerberos should not use.
 */
export function createDnsResolver(o: { servers: readonly string[]; timeoutMs?: number }): DnsResolver {
  const dns = builtin<typeof NodeDns>('node:dns');
  const r = new dns.promises.Resolver({ timeout: o.timeoutMs ?? 2000, tries: 2 });
  r.setServers([...o.servers]);
  return {
    async resolveSrv(name) {
      try {
        return (await r.resolveSrv(name)).map((x) => ({
          name: x.name,
          port: x.port,
          priority: x.priority,
          weight: x.weight,
        }));
      } catch (e) {
        if (isNotFound(e)) return [];
        throw e;
      }
    },
    async resolveTxt(name) {
      try {
        return (await r.resolveTxt(name)).map((chunks) => chunks.join(''));
      } catch (e) {
        if (isNotFound(e)) return [];
        throw e;
      }
    },
    canonicalHost: (host, reverse) => canonicalize(host, reverse, r),
  };
}
