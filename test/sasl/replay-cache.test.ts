// The SASL GSSAPI server's default replay cache is the per-host file cache, as the HTTP servers'
// and MIT's (gss_accept_sec_context records in the per-host rcache): a bind message one process
// accepted is refused by another process of the same service on the host (LDAP servers and
// brokers run several), and by the same service after a restart.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writeKeytab } from '../../src/ccache/keytab.js';
import { createSaslClient } from '../../src/sasl/index.js';
import { type Minted, mint } from '../gss/helpers.js';

const ACCEPT = fileURLToPath(new URL('./helpers/sasl-accept.ts', import.meta.url));
const run = promisify(execFile);

describe('SASL GSSAPI server: the default replay cache', () => {
  let dir: string;
  let keytab: string;
  let m: Minted;
  before(async () => {
    dir = mkdtempSync(join(process.env['SPNEGO_INTEROP_TMP'] ?? tmpdir(), 'sasl-rcache-'));
    m = await mint();
    keytab = join(dir, 'http.keytab');
    await writeKeytab(keytab, m.keytab.entries);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const accept = async (first: Uint8Array): Promise<string> => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', ACCEPT, keytab, Buffer.from(first).toString('base64')],
      { env: { ...process.env, KRB5RCACHEDIR: dir } },
    );
    return stdout.trim();
  };

  it('a bind message accepted by one process is refused by another on the host', async () => {
    const client = createSaslClient({ credentials: m.credentials, service: 'HTTP/localhost@GSS.TEST' });
    const first = await client.step();
    assert.equal(await accept(first), 'accepted');
    assert.equal(await accept(first), 'KRB_AP_ERR_REPEAT');
  });
});
