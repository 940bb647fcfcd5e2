import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type Ccache, parseCcache, writeCcache } from '../../src/ccache/ccache.js';
import { parsePrincipal } from '../../src/ccache/principal-text.js';
import {
  ccacheForNewPrincipal,
  findCcacheForPrincipal,
  listCcacheCollection,
  openCcache,
  openDefaultCcache,
  switchPrimary,
} from '../../src/ccache/store.js';
import { CredentialsError } from '../../src/errors.js';
import { ccacheWith, credential, fixture, hex } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'spnego-cc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function forUser(name: string): Ccache {
  const p = parsePrincipal(`${name}@EXAMPLE.TEST`);
  return { ...ccacheWith([credential({ client: p })]), defaultPrincipal: p };
}

test('FILE: write is 0600, read back equal, destroy removes it', async () => {
  const path = join(dir, 'krb5cc_test');
  const store = await openCcache(`FILE:${path}`);
  assert.equal(store.name, `FILE:${path}`);
  await assert.rejects(
    store.read(),
    (e: unknown) => e instanceof CredentialsError && e.code === 'CCACHE_NOT_FOUND',
  );
  assert.equal(await store.readIfExists(), undefined);
  await store.write(forUser('alice'));
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(await store.read(), forUser('alice'));
  assert.equal(await store.destroy(), true);
  assert.equal(existsSync(path), false);
  assert.equal(await store.destroy(), false);
});

test('writeCcache of an MIT cache is byte-identical, and leaves no temp files', async () => {
  const path = join(dir, 'mit-copy');
  await writeCcache(path, parseCcache(fixture('mit-ccache-v4.bin')));
  assert.equal(hex(new Uint8Array(readFileSync(path))), hex(fixture('mit-ccache-v4.bin')));
  const { readdirSync } = await import('node:fs');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test('the default cache comes from KRB5CCNAME', async () => {
  const path = join(dir, 'from-env');
  const store = await openDefaultCcache({ env: (n) => (n === 'KRB5CCNAME' ? path : undefined) });
  assert.equal(store.name, `FILE:${path}`);
});

test('DIR: collection: primary member, selection by principal, switching', async () => {
  const coll = join(dir, 'coll');
  const name = `DIR:${coll}`;
  assert.deepEqual(await listCcacheCollection(name), []);
  // The first cache becomes `tkt` and the primary.
  const first = await ccacheForNewPrincipal(name, parsePrincipal('alice@EXAMPLE.TEST'));
  assert.equal(first.name, `DIR::${coll}/tkt`);
  await first.write(forUser('alice'));
  assert.equal(readFileSync(join(coll, 'primary'), 'utf8'), 'tkt\n');
  assert.equal(statSync(coll).mode & 0o777, 0o700);
  // A second principal gets a new tkt* member; the primary stays.
  const second = await ccacheForNewPrincipal(name, parsePrincipal('bob@EXAMPLE.TEST'));
  assert.match(second.name, new RegExp(`^DIR::${coll}/tkt[a-z0-9]{6}$`));
  await second.write(forUser('bob'));
  assert.equal((await openCcache(name)).name, `DIR::${coll}/tkt`);
  const members = await listCcacheCollection(name);
  assert.deepEqual(
    members.map((m) => m.name),
    [`DIR::${coll}/tkt`, second.name],
  );
  // Selecting by principal finds bob's member; an unknown principal finds nothing.
  assert.equal((await findCcacheForPrincipal(name, parsePrincipal('bob@EXAMPLE.TEST')))?.name, second.name);
  assert.equal(await findCcacheForPrincipal(name, parsePrincipal('carol@EXAMPLE.TEST')), undefined);
  // kswitch: bob becomes primary, listed first, and DIR:path now opens bob's cache.
  await switchPrimary(second);
  const primary = await openCcache(name);
  assert.equal(primary.name, second.name);
  assert.equal((await primary.read()).defaultPrincipal.name.nameString[0], 'bob');
  assert.equal((await listCcacheCollection(name))[0]?.name, second.name);
  // DIR::path names one member directly.
  assert.equal(
    (await (await openCcache(`DIR::${coll}/tkt`)).read()).defaultPrincipal.name.nameString[0],
    'alice',
  );
});

test('DIR: a primary file naming something outside the collection is refused', async () => {
  const coll = join(dir, 'evil');
  await (await openCcache(`DIR:${coll}`)).write(forUser('x'));
  writeFileSync(join(coll, 'primary'), '../../etc/passwd\n');
  await assert.rejects(
    openCcache(`DIR:${coll}`),
    (e: unknown) => e instanceof CredentialsError && e.code === 'CCACHE_FORMAT',
  );
  await assert.rejects(openCcache(`DIR::${coll}/notamember`), (e: unknown) => e instanceof CredentialsError);
});

test('MEMORY: caches live in the process and are listed as one collection', async () => {
  const a = await openCcache('MEMORY:a');
  await a.write(forUser('alice'));
  const again = await openCcache('MEMORY:a');
  assert.deepEqual(await again.read(), forUser('alice'));
  assert.ok((await listCcacheCollection('MEMORY:a')).some((s) => s.name === 'MEMORY:a'));
  assert.equal(await a.destroy(), true);
  assert.equal(await again.readIfExists(), undefined);
});
