// spnego/kerberos servers share the per-host replay cache, as the native addon shares MIT's
// rcache file: a token one process accepted with initializeServer().step() is refused by
// another process of the same host (KRB5RCACHEDIR), not only by the process that saw it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeKeytab } from '../../src/ccache/keytab.js';
import { base64Encode } from '../../src/spnego/base64.js';
import { createInitiatorContext } from '../../src/spnego/index.js';
import { mint } from '../gss/helpers.js';

const ACCEPT = fileURLToPath(new URL('./helpers/accept-once.ts', import.meta.url));

describe('spnego/kerberos initializeServer across processes', () => {
  const dir = mkdtempSync(join(process.env['SPNEGO_INTEROP_TMP'] ?? tmpdir(), 'compat-rcache-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a token accepted by one process is refused by another process on the host', async () => {
    const m = await mint();
    const keytab = join(dir, 'http.keytab');
    await writeKeytab(keytab, m.keytab.entries);
    const krb5Conf = join(dir, 'krb5.conf');
    writeFileSync(krb5Conf, '[libdefaults]\n default_realm = GSS.TEST\n');
    const ctx = await createInitiatorContext({
      credentials: m.credentials,
      target: 'HTTP/localhost@GSS.TEST',
    });
    const first = await ctx.step();
    assert.ok(first.token);
    const token = base64Encode(first.token);
    const env = { ...process.env, KRB5_KTNAME: `FILE:${keytab}`, KRB5_CONFIG: krb5Conf, KRB5RCACHEDIR: dir };
    const once = () =>
      spawnSync(process.execPath, ['--import', 'tsx', ACCEPT, token], {
        env,
        encoding: 'utf8',
      }).stdout.trim();
    assert.equal(once(), 'accepted alice@GSS.TEST');
    assert.match(once(), /^refused .*[Rr]eplay/);
  });
});
