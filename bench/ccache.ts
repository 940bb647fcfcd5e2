// `node --import tsx bench/ccache.ts`: parse, serialize and atomic-write time of a 100-entry
// FILE ccache, and keytab parse time, built with our own serializers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Ccache,
  type CcacheCredential,
  parseCcache,
  serializeCcache,
  writeCcache,
} from '../src/ccache/ccache.js';
import { type KeytabEntry, parseKeytab, serializeKeytab } from '../src/ccache/keytab.js';

function credential(i: number): CcacheCredential {
  return {
    client: { realm: 'EXAMPLE.TEST', name: { nameType: 1, nameString: ['user'] } },
    server: { realm: 'EXAMPLE.TEST', name: { nameType: 2, nameString: ['HTTP', `host${i}.example.test`] } },
    key: { keytype: 18, keyvalue: new Uint8Array(32).fill(i & 0xff) },
    authTime: 1_700_000_000,
    startTime: 1_700_000_000 + i,
    endTime: 1_700_036_000,
    renewTill: 1_700_600_000,
    isSkey: false,
    flags: 0x40e10000,
    addresses: [],
    authData: [],
    ticket: new Uint8Array(1100).fill(0x5a), // about the size of an AD ticket with a PAC
    secondTicket: new Uint8Array(0),
  };
}

const ccache: Ccache = {
  version: 4,
  header: { kdcOffset: { seconds: 0, microseconds: 0 }, unknownFields: [] },
  defaultPrincipal: { realm: 'EXAMPLE.TEST', name: { nameType: 1, nameString: ['user'] } },
  credentials: Array.from({ length: 100 }, (_, i) => credential(i)),
};
const keytab: KeytabEntry[] = Array.from({ length: 100 }, (_, i) => ({
  principal: { realm: 'EXAMPLE.TEST', name: { nameType: 1, nameString: ['HTTP', `host${i}`] } },
  timestamp: 1_700_000_000,
  kvno: i,
  key: { keytype: 18, keyvalue: new Uint8Array(32) },
}));

async function time(label: string, iterations: number, fn: () => unknown): Promise<[string, string, string]> {
  for (let i = 0; i < Math.min(50, iterations); i++) await fn();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await fn();
  const per = (performance.now() - start) / iterations;
  return [label, String(iterations), per < 1 ? `${(per * 1000).toFixed(1)} µs` : `${per.toFixed(2)} ms`];
}

const bytes = serializeCcache(ccache);
const ktBytes = serializeKeytab(keytab);
const dir = mkdtempSync(join(tmpdir(), 'spnego-bench-'));
try {
  const rows = [
    await time(`parseCcache (100 entries, ${bytes.length} B)`, 2000, () => parseCcache(bytes)),
    await time('serializeCcache (100 entries)', 2000, () => serializeCcache(ccache)),
    await time('writeCcache (serialize + temp + fsync + rename)', 200, () =>
      writeCcache(join(dir, 'cc'), ccache),
    ),
    await time(`parseKeytab (100 entries, ${ktBytes.length} B)`, 2000, () => parseKeytab(ktBytes)),
  ];
  const w = [Math.max(...rows.map((r) => r[0].length)), 10, 12];
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i] ?? 0)).join('  ');
  console.log(line(['operation', 'iterations', 'per op']));
  console.log(line(w.map((n) => '-'.repeat(n))));
  for (const r of rows) console.log(line(r));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
