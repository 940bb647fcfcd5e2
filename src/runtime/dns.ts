// DNS lookups Kerberos uses: SRV records to find KDCs (RFC 4120 §7.2.3) and TXT records for a
// host's realm. Behind an interface so KDC location can be tested without a resolver.
import type * as NodeDns from 'node:dns';
import { builtin } from './builtin.js';

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
};
