// Regenerates test/vectors/mit-wire/<enctype>.json: MIT kinit + kvno through a recording relay
// against a throwaway MIT KDC, one realm per enctype (17, 18, 19, 20).
// Usage: node --import tsx scripts/interop/record-wire.ts [enctype...]
// Needs MIT krb5 (krb5-kdc krb5-admin-server krb5-user); never touches /etc.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INSTALL_HINT, missingMitBinaries } from '../../test/interop/helpers/mit-realm.js';
import { recordWire, startWireRealm, WIRE_CASES } from '../../test/interop/helpers/wire.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = join(root, 'test', 'vectors', 'mit-wire');

async function main(): Promise<void> {
  const missing = missingMitBinaries();
  if (missing.length > 0) {
    process.stderr.write(`record-wire: missing ${missing.join(', ')}.\n${INSTALL_HINT}\n`);
    process.exit(1);
  }
  const wanted = process.argv.slice(2).map(Number);
  const cases = WIRE_CASES.filter((c) => wanted.length === 0 || wanted.includes(c.enctype));
  if (cases.length === 0) throw new Error(`no case for enctype(s) ${wanted.join(', ')}`);
  mkdirSync(outDir, { recursive: true });
  for (const c of cases) {
    const realm = await startWireRealm(c);
    try {
      const fixture = await recordWire(realm, c);
      const file = join(outDir, `${c.enctype}.json`);
      writeFileSync(file, `${JSON.stringify(fixture, null, 2)}\n`);
      process.stdout.write(
        `wrote ${file}: ${fixture.messages.map((m) => `${m.name}(${m.hex.length / 2})`).join(' ')}\n`,
      );
    } finally {
      await realm.stop();
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`record-wire: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
