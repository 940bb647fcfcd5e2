// krb5.conf parse cost: `node --import tsx bench/krb5conf.ts`.
// A large site config — 200 realms (3 kdc lines, admin_server, a per-realm libdefaults block) and
// 2000 [domain_realm] lines — split over a main file, an include and an includedir of 20 files.
// Measures loadConfig (files read + parsed + typed), parseConfig of the same text in one string,
// and the lookups a request makes. The machine is shared: expect ±30% between runs.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/krb5/config.js';
import { loadConfig } from '../src/krb5/config-load.js';
import { locateKdcs } from '../src/krb5/locate.js';
import { realmOfHost } from '../src/krb5/realm-of-host.js';

const REALMS = 200;
const DOMAINS = 2000;
const PARTS = 20;

function realmBlock(i: number): string {
  return `  R${i}.EXAMPLE.ORG = {\n    kdc = kdc1.r${i}.example.org\n    kdc = kdc2.r${i}.example.org:88\n    kdc = [2001:db8::${i.toString(16)}]:750\n    admin_server = kadmin.r${i}.example.org\n  }\n`;
}

const dir = mkdtempSync(join(tmpdir(), 'krb5conf-bench-'));
const partsDir = join(dir, 'krb5.conf.d');
mkdirSync(partsDir);
const libdefaults = `[libdefaults]\n  default_realm = R0.EXAMPLE.ORG\n  dns_lookup_kdc = false\n  permitted_enctypes = DEFAULT -des3 -rc4\n  ticket_lifetime = 10h\n${Array.from({ length: 20 }, (_, i) => `  R${i}.EXAMPLE.ORG = {\n    forwardable = true\n  }\n`).join('')}`;
const realmsText = `[realms]\n${Array.from({ length: REALMS }, (_, i) => realmBlock(i)).join('')}`;
const domainLines = Array.from(
  { length: DOMAINS },
  (_, i) => `  .d${i}.r${i % REALMS}.example.org = R${i % REALMS}.EXAMPLE.ORG\n`,
);
writeFileSync(join(dir, 'realms.conf'), realmsText);
const per = DOMAINS / PARTS;
for (let p = 0; p < PARTS; p++) {
  writeFileSync(
    join(partsDir, `part-${String(p).padStart(2, '0')}.conf`),
    `[domain_realm]\n${domainLines.slice(p * per, (p + 1) * per).join('')}`,
  );
}
const main = join(dir, 'krb5.conf');
writeFileSync(main, `${libdefaults}\ninclude ${join(dir, 'realms.conf')}\nincludedir ${partsDir}\n`);
const oneText = `${libdefaults}\n${realmsText}\n[domain_realm]\n${domainLines.join('')}`;

async function timeIt(
  fn: () => unknown | Promise<unknown>,
  budgetMs = 1500,
): Promise<{ ms: number; n: number }> {
  for (let i = 0; i < 3; i++) await fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < budgetMs) {
    await fn();
    n++;
  }
  return { ms: (performance.now() - start) / n, n };
}

const cfg = parseConfig(oneText);
const hosts = Array.from({ length: 1000 }, (_, i) => `www${i}.d${i * 2}.r${(i * 2) % REALMS}.example.org`);
const rows: string[][] = [['operation', 'mean', 'runs']];
const add = (name: string, r: { ms: number; n: number }, unit: 'ms' | 'µs' = 'ms') =>
  rows.push([name, unit === 'ms' ? `${r.ms.toFixed(2)} ms` : `${(r.ms * 1000).toFixed(2)} µs`, String(r.n)]);

add(
  `loadConfig: ${PARTS + 2} files, ${oneText.length.toLocaleString('en-US')} chars`,
  await timeIt(() => loadConfig({ files: [main] })),
);
add('parseConfig: same text, one string', await timeIt(() => parseConfig(oneText)));
const lookups = await timeIt(() => {
  for (const h of hosts) realmOfHost(h, cfg);
}, 800);
add(
  'realmOfHost (per host, 2000 domain_realm lines)',
  { ms: lookups.ms / hosts.length, n: lookups.n * hosts.length },
  'µs',
);
const loc = await timeIt(() => locateKdcs('R150.EXAMPLE.ORG', cfg), 800);
add('locateKdcs from config (per call)', loc, 'µs');
const loaded = await loadConfig({ files: [main] });
rmSync(dir, { recursive: true, force: true });

if (loaded.realms.size !== REALMS || loaded.domainRealm.size !== DOMAINS)
  throw new Error('bench config did not load fully');
const width = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(width[c] ?? 0)).join('  '));
