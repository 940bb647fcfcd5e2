// Our FILE ccache and keytab code against real MIT krb5: caches MIT writes (all four versions)
// parse and list identically; caches and keytabs WE write are accepted by MIT klist, kvno and
// kinit -k; and our atomic writer racing MIT kinit never leaves a file MIT rejects.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isConfigEntry, newCcache, parseCcache, readCcache, writeCcache } from '../../src/ccache/ccache.js';
import { parseKeytab, readKeytab, writeKeytab } from '../../src/ccache/keytab.js';
import { klistJson, klistText } from '../../src/ccache/klist-format.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { type MitRealm, run, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

process.env.TZ = 'UTC';
const REALM = 'CCACHE.TEST';
const PASSWORD = 'user-password-1';
const SPN = `HTTP/localhost@${REALM}`;

/** MIT klist -ef -C with the cache name line dropped (it names the path, which differs). */
async function mitKlist(realm: MitRealm, path: string): Promise<string> {
  const r = await realm.run('klist', ['-e', '-f', '-C', '-c', `FILE:${path}`], { env: { TZ: 'UTC' } });
  assert.equal(r.code, 0, `MIT klist rejected ${path}: ${r.stderr}`);
  return r.stdout.split('\n').slice(1).join('\n');
}

function ourKlist(path: string): string {
  const c = parseCcache(new Uint8Array(readFileSync(path)));
  return klistText(c, { cacheName: '', showConfig: true }).split('\n').slice(1).join('\n');
}

describe('FILE ccache and keytab vs MIT krb5', { skip: skipUnlessMit() }, () => {
  let realm: MitRealm;
  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal', 'aes128-cts-hmac-sha256-128:normal'],
      principals: [{ name: 'user', password: PASSWORD }, { name: 'HTTP/localhost' }],
    });
  });
  after(async () => {
    await realm?.stop();
  });

  for (const version of [1, 2, 3, 4]) {
    it(`parses a v${version} cache from MIT kinit + kvno and lists it exactly as MIT klist`, async () => {
      const conf = join(realm.dir, `krb5-v${version}.conf`);
      realm.writeKrb5Conf(conf, undefined, { ccache_type: String(version) });
      const path = join(realm.dir, `cc-v${version}`);
      const env = { KRB5_CONFIG: conf };
      assert.equal(
        (await realm.run('kinit', ['-c', path, `user@${REALM}`], { input: `${PASSWORD}\n`, env })).code,
        0,
      );
      assert.equal((await realm.run('kvno', ['-c', path, SPN], { env })).code, 0);
      const c = await readCcache(path);
      assert.equal(c.version, version);
      assert.equal(unparsePrincipal(c.defaultPrincipal), `user@${REALM}`);
      const servers = c.credentials.filter((x) => !isConfigEntry(x)).map((x) => unparsePrincipal(x.server));
      assert.deepEqual(servers, [`krbtgt/${REALM}@${REALM}`, SPN]);
      assert.equal(ourKlist(path), await mitKlist(realm, path));
    });
  }

  it('a cache we rewrite is byte-identical (v4) and MIT klist lists it the same', async () => {
    const src = join(realm.dir, 'cc-v4');
    const dst = join(realm.dir, 'cc-rewritten');
    await writeCcache(dst, await readCcache(src));
    assert.deepEqual(readFileSync(dst), readFileSync(src));
    assert.equal(await mitKlist(realm, dst), await mitKlist(realm, src));
  });

  it('a cache we build from scratch (TGT only) is usable by MIT kvno, and we read what kvno added', async () => {
    const mit = await readCcache(join(realm.dir, 'cc-v4'));
    const tgt = mit.credentials.find((x) => unparsePrincipal(x.server) === `krbtgt/${REALM}@${REALM}`);
    assert.ok(tgt);
    const ours = newCcache(mit.defaultPrincipal);
    ours.credentials.push(tgt);
    const path = join(realm.dir, 'cc-scratch');
    await writeCcache(path, ours);
    const listed = await mitKlist(realm, path);
    assert.match(listed, new RegExp(`krbtgt/${REALM}@${REALM}`));
    const r = await realm.run('kvno', ['-c', path, SPN]);
    assert.equal(r.code, 0, r.stderr);
    const after = await readCcache(path);
    assert.deepEqual(
      after.credentials.map((x) => unparsePrincipal(x.server)),
      [`krbtgt/${REALM}@${REALM}`, SPN],
    );
    assert.equal(ourKlist(path), await mitKlist(realm, path));
  });

  it('spnego klist --json matches MIT klist field by field', async () => {
    const path = join(realm.dir, 'cc-v4');
    const json = klistJson(await readCcache(path));
    const text = await mitKlist(realm, path);
    const tickets = json.credentials.filter((c) => !c.server.endsWith('@X-CACHECONF:'));
    for (const t of tickets) {
      const when = (iso: string | null) => {
        const d = new Date(iso ?? 0);
        const two = (n: number) => String(n).padStart(2, '0');
        return `${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
      };
      assert.ok(text.includes(`${when(t.startTime)}  ${when(t.endTime)}  ${t.server}\n`), t.server);
      assert.ok(text.includes(`renew until ${when(t.renewTill)}, Flags: ${t.flags}\n`), t.server);
      assert.ok(text.includes(`Etype (skey, tkt): ${t.enctype}, `), t.server);
    }
    const configs = json.credentials.length - tickets.length;
    assert.equal(configs, (text.match(/^config: /gm) ?? []).length);
  });

  it('a keytab we write (rewritten, and built from scratch) works for MIT kinit -k -t', async () => {
    const mitPath = await realm.keytab('HTTP/localhost');
    const kt = await readKeytab(mitPath);
    assert.ok(kt.entries.length >= 2);
    const rewritten = join(realm.dir, 'ours.keytab');
    await writeKeytab(rewritten, kt.entries);
    const single = join(realm.dir, 'ours-single.keytab');
    const aes = kt.entries.find((e) => e.key.keytype === 18);
    assert.ok(aes);
    await writeKeytab(single, [
      {
        principal: { realm: REALM, name: { nameType: 1, nameString: ['HTTP', 'localhost'] } },
        timestamp: Math.floor(Date.now() / 1000),
        kvno: aes.kvno,
        key: { keytype: 18, keyvalue: aes.key.keyvalue },
      },
    ]);
    for (const keytab of [rewritten, single]) {
      const cc = `${keytab}.cc`;
      const r = await realm.run('kinit', ['-k', '-t', keytab, '-c', cc, SPN]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(unparsePrincipal((await readCcache(cc)).defaultPrincipal), SPN);
    }
    // MIT reads what we wrote exactly as what it wrote.
    assert.deepEqual(await realm.keytabKeys(rewritten), await realm.keytabKeys(mitPath));
    assert.deepEqual(parseKeytab(new Uint8Array(readFileSync(rewritten))).entries, kt.entries);
  });

  it('our writer racing MIT kinit on one FILE cache never leaves a file MIT klist rejects', async () => {
    const path = join(realm.dir, 'cc-race');
    const ours = await readCcache(join(realm.dir, 'cc-v4'));
    const rounds = Number(process.env.CCACHE_RACE_ROUNDS ?? 200);
    for (let i = 0; i < rounds; i++) {
      const [k] = await Promise.all([
        realm.run('kinit', ['-c', path, `user@${REALM}`], { input: `${PASSWORD}\n` }),
        writeCcache(path, ours),
      ]);
      assert.equal(k.code, 0, k.stderr);
      const r = await realm.run('klist', ['-c', path]);
      assert.equal(r.code, 0, `round ${i}: MIT klist rejected the cache: ${r.stderr}`);
      assert.equal(unparsePrincipal((await readCcache(path)).defaultPrincipal), `user@${REALM}`);
    }
  });
});

describe('our klist layout vs MIT klist on unusual entries (no KDC needed)', {
  skip: skipUnlessMit(),
}, () => {
  it('missing renew time, no flags, all flags, undecodable ticket, escaped names, Ticket server', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { serializeCcache } = await import('../../src/ccache/ccache.js');
    const dir = mkdtempSync(join(tmpdir(), 'spnego-klist-'));
    try {
      const fixture = join(import.meta.dirname ?? '.', '..', 'vectors', 'ccache', 'mit-ccache-v4.bin');
      copyFileSync(fixture, join(dir, 'base'));
      const base = await readCcache(join(dir, 'base'));
      const tgt = base.credentials[1];
      const conf = base.credentials[0];
      assert.ok(tgt && conf);
      const odd = {
        realm: 'A/B@C',
        name: { nameType: 1, nameString: ['x/y', 'a@b', 'c\\d', 'e\tf', 'g:h'] },
      };
      const c = {
        ...base,
        credentials: [
          { ...tgt, renewTill: 0 },
          { ...tgt, flags: 0 },
          { ...tgt, flags: 0, renewTill: 0 },
          { ...tgt, flags: 0xffffffff },
          { ...tgt, startTime: 0 },
          { ...tgt, ticket: new Uint8Array([1, 2, 3]) },
          { ...tgt, key: { keytype: 23, keyvalue: new Uint8Array(16) } },
          { ...tgt, server: odd },
          { ...conf, ticket: new Uint8Array([0x79, 0x65, 1, 0xff, 0x0a]) },
        ],
      };
      const path = join(dir, 'odd');
      writeFileSync(path, serializeCcache(c));
      const r = await run('klist', ['-ef', '-C', '-c', path], { env: { TZ: 'UTC' } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(klistText(c, { cacheName: `FILE:${path}`, showConfig: true }), r.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
