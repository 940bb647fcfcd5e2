import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { kdestroyCommand } from '../../src/cli/kdestroy.js';
import { klistCommand } from '../../src/cli/klist.js';
import { fixtureText, VECTORS } from './helpers.js';

process.env.TZ = 'UTC';
const dir = mkdtempSync(join(tmpdir(), 'spnego-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(cmd: typeof klistCommand, argv: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const code = await cmd(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), env: (n) => env[n] });
  return { code, out, err };
}

test('klist -C prints exactly what MIT klist -ef -C printed for each fixture', async () => {
  for (const v of [1, 2, 3, 4]) {
    const path = join(dir, `cc-v${v}`);
    copyFileSync(join(VECTORS, `mit-ccache-v${v}.bin`), path);
    const expected = fixtureText(`mit-ccache-v${v}.klist.txt`).replace(
      `FILE:/tmp/r1/cc-v${v}`,
      `FILE:${path}`,
    );
    const r = await run(klistCommand, ['-C', '-c', path]);
    assert.equal(r.code, 0);
    assert.equal(r.out, expected);
  }
});

test('klist without -C hides config entries, as MIT does', async () => {
  const r = await run(klistCommand, ['-c', join(VECTORS, 'mit-ccache-v4.bin')]);
  assert.equal(r.code, 0);
  assert.ok(!r.out.includes('config:'));
  assert.ok(r.out.includes('HTTP/localhost@EXAMPLE.TEST'));
});

test('klist --json has the documented shape, config entries included', async () => {
  const r = await run(klistCommand, ['--json'], { KRB5CCNAME: `FILE:${join(VECTORS, 'mit-ccache-v2.bin')}` });
  assert.equal(r.code, 0);
  const j = JSON.parse(r.out);
  assert.deepEqual(Object.keys(j), ['defaultPrincipal', 'credentials']);
  assert.equal(j.defaultPrincipal, 'user@EXAMPLE.TEST');
  assert.deepEqual(j.credentials[2], {
    client: 'user@EXAMPLE.TEST',
    server: 'HTTP/localhost@EXAMPLE.TEST',
    enctype: 'aes256-cts-hmac-sha1-96',
    startTime: '2026-11-28T12:18:35Z',
    endTime: '2026-11-28T22:18:35Z',
    renewTill: '2026-11-29T12:18:35Z',
    flags: 'FRT',
  });
  assert.equal(j.credentials[1].server, 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST');
  assert.equal(j.credentials[1].flags, 'FRI');
  assert.equal(
    j.credentials[0].server,
    'krb5_ccache_conf_data/fast_avail/krbtgt\\/EXAMPLE.TEST\\@EXAMPLE.TEST@X-CACHECONF:',
  );
  assert.equal(j.credentials[0].endTime, null);
});

test('klist on a missing or unsupported cache exits 1 with a hint', async () => {
  const missing = await run(klistCommand, ['-c', join(dir, 'nope')]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no credential cache at FILE:.*nope\nhint: run kinit/);
  const keyring = await run(klistCommand, [], { KRB5CCNAME: 'KEYRING:persistent:0' });
  assert.equal(keyring.code, 1);
  assert.match(keyring.err, /export KRB5CCNAME=FILE:/);
  const corrupt = join(dir, 'corrupt');
  writeFileSync(corrupt, Uint8Array.from([5, 4, 0, 0, 0, 0, 0, 1, 0xff]));
  assert.equal((await run(klistCommand, ['-c', corrupt])).code, 1);
});

test('klist -s: exit status only, 1 when every ticket has expired', async () => {
  const r = await run(klistCommand, ['-s', '-c', join(VECTORS, 'mit-ccache-v4.bin')]);
  assert.equal(r.out + r.err, '');
  // The fixture expires 2026-11-28T22:18:35Z; compare with the real clock as klist -s does.
  assert.equal(r.code, Date.now() / 1000 < 1795904315 ? 0 : 1);
  assert.equal((await run(klistCommand, ['-s', '-c', join(dir, 'nope')])).code, 1);
});

test('kdestroy removes the cache; a missing one is reported but exit 0', async () => {
  const path = join(dir, 'to-destroy');
  copyFileSync(join(VECTORS, 'mit-ccache-v4.bin'), path);
  assert.equal((await run(kdestroyCommand, ['-c', path])).code, 0);
  assert.equal(existsSync(path), false);
  const again = await run(kdestroyCommand, [], { KRB5CCNAME: `FILE:${path}` });
  assert.equal(again.code, 0);
  assert.match(again.err, /no credentials cache found/);
  assert.equal((await run(kdestroyCommand, ['-q', '-c', path])).err, '');
  assert.equal((await run(kdestroyCommand, ['-x'])).code, 2);
});

test('kdestroy -A empties a DIR: collection', async () => {
  const coll = join(dir, 'coll');
  const { openCcache } = await import('../../src/ccache/store.js');
  const { parseCcache } = await import('../../src/ccache/ccache.js');
  const { fixture } = await import('./helpers.js');
  await (await openCcache(`DIR:${coll}`)).write(parseCcache(fixture('mit-ccache-v4.bin')));
  await (await openCcache(`DIR::${coll}/tktother`)).write(parseCcache(fixture('mit-ccache-v3.bin')));
  assert.equal((await run(kdestroyCommand, ['-A', '-c', `DIR:${coll}`])).code, 0);
  assert.equal(existsSync(join(coll, 'tkt')), false);
  assert.equal(existsSync(join(coll, 'tktother')), false);
});
