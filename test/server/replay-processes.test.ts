// Replays across processes: two server processes serving the same keytab with the DEFAULT
// replay cache (the per-host file cache, here in a KRB5RCACHEDIR of the test's own) — as
// node:cluster or pm2 -i N run them. A header one process accepted must be refused by the other,
// when many are sent to both at once exactly one process accepts each, and a process started
// after a restart still refuses what was accepted before it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeKeytab } from '../../src/ccache/keytab.js';
import { type Minted, mint } from '../gss/helpers.js';
import { header, type Proc, startServer, status, stopServer } from './helpers/rcache-procs.js';

describe('the default replay cache across processes on one host', () => {
  let dir: string;
  let m: Minted;
  let env: NodeJS.ProcessEnv;
  let keytab: string;
  let a: Proc | undefined;
  let b: Proc | undefined;
  before(async () => {
    dir = mkdtempSync(join(process.env['SPNEGO_INTEROP_TMP'] ?? tmpdir(), 'rcache-procs-'));
    m = await mint();
    keytab = join(dir, 'http.keytab');
    await writeKeytab(keytab, m.keytab.entries);
    env = { ...process.env, KRB5RCACHEDIR: dir };
    [a, b] = await Promise.all([startServer(keytab, env), startServer(keytab, env)]);
  });
  after(async () => {
    await Promise.all([stopServer(a), stopServer(b)]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a header accepted by one process is refused by its sibling', async () => {
    assert.ok(a && b);
    const h = await header(m);
    assert.equal(await status(a.url, h), 200);
    assert.equal(await status(b.url, h), 401);
    const h2 = await header(m);
    assert.equal(await status(b.url, h2), 200);
    assert.equal(await status(a.url, h2), 401);
  });

  it('headers sent to both processes at once are each accepted exactly once', async () => {
    assert.ok(a && b);
    const { url: ua } = a;
    const { url: ub } = b;
    const headers = await Promise.all(Array.from({ length: 60 }, () => header(m)));
    const results = await Promise.all(
      headers.map(async (h) => {
        const [sa, sb] = await Promise.all([status(ua, h), status(ub, h)]);
        return [sa, sb].sort().join(',');
      }),
    );
    assert.deepEqual(
      results.filter((r) => r !== '200,401'),
      [],
    );
  });

  it('a process started after a restart refuses what was accepted before it', async () => {
    assert.ok(a);
    const h = await header(m);
    assert.equal(await status(a.url, h), 200);
    await stopServer(a);
    a = await startServer(keytab, env);
    assert.equal(await status(a.url, h), 401);
  });
});
