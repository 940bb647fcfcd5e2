// KCM: caches against a daemon double that answers as sssd-kcm (GET_CRED_LIST, REPLACE) or as
// Heimdal's kcm (neither): names, reading, kinit-style writes, MIT-style write-back of service
// tickets with STORE, the collection (klist -l / -A, kdestroy -A), following another process's
// kdestroy — and a hostile daemon: absent, slow, garbage, huge lengths, closing mid-reply, each a
// typed error with a hint, in bounded time, with no write sent after a failed read.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { ByteWriter } from '../../src/ccache/bytes.js';
import { KcmOp, MAX_KCM_REPLY } from '../../src/ccache/kcm-protocol.js';
import { parseCcacheName } from '../../src/ccache/resolve.js';
import {
  ccacheForNewPrincipal,
  listCcacheCollection,
  openCcache,
  switchPrimary,
} from '../../src/ccache/store.js';
import type { CliIo } from '../../src/cli/ccache-name.js';
import { kdestroyCommand } from '../../src/cli/kdestroy.js';
import { klistCommand } from '../../src/cli/klist.js';
import { CredentialsError } from '../../src/errors.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { MiniKdc } from '../../src/testing/index.js';
import { KcmDaemon } from './kcm-daemon.js';

const REALM = 'KCM.TEST';
const WRITES = [KcmOp.STORE, KcmOp.REPLACE, KcmOp.INITIALIZE, KcmOp.DESTROY, KcmOp.SET_KDC_OFFSET];

function cli(env: Record<string, string>): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: (n) => env[n] };
}

describe('KCM ccache names', () => {
  it('KCM:, KCM:<uid> and KCM:<uid>:<name> are KCM caches; KEYRING: stays a typed error', () => {
    assert.deepEqual(parseCcacheName('KCM:'), { type: 'KCM', residual: '' });
    assert.deepEqual(parseCcacheName('KCM:1000'), { type: 'KCM', residual: '1000' });
    assert.deepEqual(parseCcacheName('KCM:1000:42'), { type: 'KCM', residual: '1000:42' });
    assert.throws(
      () => parseCcacheName('KEYRING:persistent:1000'),
      (e: unknown) => {
        assert.ok(e instanceof CredentialsError);
        assert.equal(e.code, 'CCACHE_TYPE_UNSUPPORTED');
        assert.match(e.hint ?? '', /FILE/);
        return true;
      },
    );
  });
});

for (const flavour of ['sssd', 'heimdal'] as const) {
  describe(`KCM caches on a ${flavour}-like daemon`, () => {
    let kdc: MiniKdc;
    let daemon: KcmDaemon;
    let confPath: string;
    const config = () => kdc.clientConfig({ libdefaults: { kcm_socket: daemon.socketPath } });
    const kcm = () => ({ kcm: { socketPath: daemon.socketPath } });

    before(async () => {
      kdc = await MiniKdc.start({
        realm: REALM,
        principals: [
          { name: 'alice', password: 'alice-pw' },
          { name: 'bob', password: 'bob-pw' },
          'HTTP/localhost',
        ],
      });
      daemon = await KcmDaemon.start({ heimdal: flavour === 'heimdal' });
      confPath = join(daemon.dir, 'krb5.conf');
      writeFileSync(
        confPath,
        kdc.krb5ConfigText({ libdefaults: { kcm_socket: daemon.socketPath, default_ccache_name: 'KCM:' } }),
      );
    });
    after(async () => {
      await daemon?.stop();
      await kdc?.stop();
    });

    it('a TGT saved to KCM: lands in the primary cache and reads back the same', async () => {
      const creds = await Credentials.fromPassword('alice', 'alice-pw', { config: config() });
      const store = await openCcache('KCM:', kcm());
      assert.equal(store.name, 'KCM:1000');
      await creds.save(store.name);
      const back = await store.read();
      assert.equal(back.defaultPrincipal.name.nameString[0], 'alice');
      assert.deepEqual(back.credentials, creds.toCcache().credentials);
      assert.equal(daemon.count(flavour === 'sssd' ? KcmOp.REPLACE : KcmOp.INITIALIZE), 1);
    });

    it('a service ticket is stored into the cache (STORE, as MIT), not by rewriting it', async () => {
      const creds = await Credentials.fromCcache('KCM:', { config: config() });
      const replaces = daemon.count(KcmOp.REPLACE) + daemon.count(KcmOp.INITIALIZE);
      const stores = daemon.count(KcmOp.STORE);
      await creds.getServiceTicket('HTTP/localhost');
      assert.equal(daemon.count(KcmOp.STORE) - stores, 1);
      assert.equal(daemon.count(KcmOp.REPLACE) + daemon.count(KcmOp.INITIALIZE), replaces);
      const servers = (await (await openCcache('KCM:1000', kcm())).read()).credentials.map((c) =>
        c.server.name.nameString.join('/'),
      );
      assert.deepEqual(servers, [`krbtgt/${REALM}`, 'HTTP/localhost']);
    });

    it('a second principal gets a new cache of the collection; klist -l and -A list both', async () => {
      const bob = await Credentials.fromPassword('bob', 'bob-pw', { config: config() });
      const store = await ccacheForNewPrincipal('KCM:', bob.principal, kcm());
      assert.notEqual(store.name, 'KCM:1000');
      await bob.save(store.name);
      await switchPrimary(store);
      const names = (await listCcacheCollection('KCM:', kcm())).map((s) => s.name);
      assert.deepEqual(names, [store.name, 'KCM:1000'], 'primary first');
      const io = cli({ KRB5_CONFIG: confPath, KRB5CCNAME: 'KCM:' });
      assert.equal(await klistCommand(['-l'], io), 0);
      const table = io.out.join('');
      assert.match(table, /^Principal name {17}Cache name\n-{14} {17}-{10}\n/);
      assert.match(table, new RegExp(`bob@${REALM} +${store.name}\\n`));
      assert.match(table, new RegExp(`alice@${REALM} +KCM:1000\\n`));
      const all = cli({ KRB5_CONFIG: confPath, KRB5CCNAME: 'KCM:' });
      assert.equal(await klistCommand(['-A'], all), 0);
      assert.match(all.out.join(''), /Ticket cache: KCM:1000\nDefault principal: alice@KCM.TEST/);
      assert.match(all.out.join(''), new RegExp(`Ticket cache: ${store.name}\\nDefault principal: bob@`));
      // The principal option of fromCcache picks a cache of the collection by client.
      const picked = await Credentials.fromCcache('KCM:', { config: config(), principal: 'alice' });
      assert.equal(picked.principal.name.nameString[0], 'alice');
    });

    it('a kdestroy by someone else is noticed; kdestroy -A empties the collection', async () => {
      const creds = await Credentials.fromCcache('KCM:1000', { config: config(), ccacheCheckIntervalMs: 0 });
      await (await openCcache('KCM:1000', kcm())).destroy();
      await assert.rejects(creds.getServiceTicket('HTTP/localhost'), (e: unknown) => {
        assert.equal((e as CredentialsError).code, 'CCACHE_DESTROYED');
        return true;
      });
      const io = cli({ KRB5_CONFIG: confPath, KRB5CCNAME: 'KCM:' });
      assert.equal(await kdestroyCommand(['-A'], io), 0);
      assert.equal(daemon.caches.size, 0);
      assert.deepEqual(await listCcacheCollection('KCM:', kcm()), []);
      const l = cli({ KRB5_CONFIG: confPath, KRB5CCNAME: 'KCM:' });
      assert.equal(await klistCommand(['-l'], l), 1);
    });
  });
}

describe('a hostile or absent KCM daemon', () => {
  let kdc: MiniKdc;
  let daemon: KcmDaemon;
  let creds: Credentials;
  const TIMEOUT = 400;
  before(async () => {
    kdc = await MiniKdc.start({
      realm: REALM,
      principals: [{ name: 'alice', password: 'alice-pw' }, 'HTTP/localhost'],
    });
    daemon = await KcmDaemon.start();
    const config = kdc.clientConfig({ libdefaults: { kcm_socket: daemon.socketPath } });
    const tgt = await Credentials.fromPassword('alice', 'alice-pw', { config });
    await tgt.save('KCM:1000');
  });
  afterEach(() => {
    daemon.hook = undefined;
  });
  after(async () => {
    await daemon?.stop();
    await kdc?.stop();
  });

  const open = () => openCcache('KCM:1000', { kcm: { socketPath: daemon.socketPath, timeoutMs: TIMEOUT } });
  const frame = (len: number, rest: Uint8Array = new Uint8Array(0)) =>
    new ByteWriter().u32(len).bytes(rest).finish();

  async function expectError(code: string, f: () => Promise<unknown>): Promise<number> {
    const t0 = Date.now();
    await assert.rejects(f(), (e: unknown) => {
      assert.ok(e instanceof CredentialsError, `a CredentialsError, not ${String(e)}`);
      assert.equal(e.code, code, e.message);
      assert.ok(e.hint && e.hint.length > 10, 'with a hint');
      return true;
    });
    return Date.now() - t0;
  }

  it('no daemon at the socket: KCM_NO_SERVER with what to do', async () => {
    const ms = await expectError('KCM_NO_SERVER', async () =>
      (await openCcache('KCM:', { kcm: { socketPath: join(daemon.dir, 'absent.socket') } })).read(),
    );
    assert.ok(ms < 1000);
    await expectError('KCM_NO_SERVER', async () =>
      (await openCcache('KCM:', { kcm: { socketPath: '-' } })).read(),
    );
  });

  const cases: [string, string, () => void][] = [
    ['silent (slow)', 'KCM_TIMEOUT', () => (daemon.hook = () => ({ kind: 'silent' }))],
    [
      'garbage after a success status',
      'KCM_MALFORMED_REPLY',
      () =>
        (daemon.hook = () => ({
          kind: 'raw',
          bytes: frame(20, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, ...new Uint8Array(16).fill(0x41)])),
        })),
    ],
    [
      'a garbage status word',
      'KCM_ERROR',
      () => (daemon.hook = () => ({ kind: 'raw', bytes: frame(12, new Uint8Array(16).fill(0x41)) })),
    ],
    [
      'a huge announced length',
      'KCM_REPLY_TOO_BIG',
      () => (daemon.hook = () => ({ kind: 'raw', bytes: frame(0xfffffff0, new Uint8Array(4)) })),
    ],
    [
      'closing mid-reply',
      'KCM_IO',
      () => (daemon.hook = () => ({ kind: 'raw', bytes: frame(100, new Uint8Array(20)), close: true })),
    ],
    ['closing before any reply', 'KCM_IO', () => (daemon.hook = () => ({ kind: 'close' }))],
    [
      'a credential count no reply could hold',
      'KCM_MALFORMED_REPLY',
      () =>
        (daemon.hook = (op) =>
          op === KcmOp.GET_CRED_LIST
            ? {
                kind: 'raw',
                bytes: frame(16, new ByteWriter().u32(0).u32(0).u32(0x7fffffff).u32(8).u32(8).finish()),
              }
            : undefined),
    ],
    [
      'a reply longer than it says',
      'KCM_MALFORMED_REPLY',
      () => (daemon.hook = () => ({ kind: 'raw', bytes: frame(4, new Uint8Array(12)) })),
    ],
  ];

  for (const [what, code, arm] of cases) {
    it(`${what}: ${code}, in bounded time, and nothing written`, async () => {
      const store = await open();
      arm();
      const before = daemon.ops.length;
      const heap = process.memoryUsage().heapUsed;
      const ms = await expectError(code, () => store.read());
      assert.ok(ms < TIMEOUT + 1500, `took ${ms} ms`);
      assert.ok(process.memoryUsage().heapUsed - heap < 64 * 1024 * 1024, 'no huge allocation');
      assert.ok(MAX_KCM_REPLY <= 10 * 1024 * 1024);
      // The read failed: no write of any kind followed it.
      assert.deepEqual(
        daemon.ops.slice(before).filter((o) => WRITES.includes(o as (typeof WRITES)[number])),
        [],
      );
    });
  }

  it('a write-back that meets a hostile daemon leaves the cache as it was and still returns the ticket', async () => {
    const config = kdc.clientConfig({ libdefaults: { kcm_socket: daemon.socketPath } });
    creds = await Credentials.fromCcache('KCM:1000', { config });
    const snapshot = JSON.stringify([...(daemon.caches.get('1000')?.creds.map((c) => c.cred.endTime) ?? [])]);
    // The read before the STORE gets garbage: no STORE is sent.
    daemon.hook = (op) =>
      op === KcmOp.GET_CRED_LIST ? { kind: 'raw', bytes: frame(12, new Uint8Array(16).fill(7)) } : undefined;
    const before = daemon.ops.length;
    const t = await creds.getServiceTicket('HTTP/localhost');
    assert.equal(t.server.name.nameString.join('/'), 'HTTP/localhost');
    assert.equal(daemon.ops.slice(before).includes(KcmOp.STORE), false);
    assert.equal(
      JSON.stringify([...(daemon.caches.get('1000')?.creds.map((c) => c.cred.endTime) ?? [])]),
      snapshot,
    );
  });
});

describe('a renewed TGT in a KCM cache', () => {
  for (const flavour of ['sssd', 'heimdal'] as const) {
    it(`replaces the old one (${flavour}-like daemon), as kinit -R does`, async () => {
      const kdc = await MiniKdc.start({
        realm: REALM,
        lifetime: 3600,
        renewLifetime: 7200,
        principals: [{ name: 'alice', password: 'alice-pw' }, 'HTTP/localhost'],
      });
      const daemon = await KcmDaemon.start({ heimdal: flavour === 'heimdal' });
      try {
        const config = kdc.clientConfig({ libdefaults: { kcm_socket: daemon.socketPath } });
        await (await Credentials.fromPassword('alice', 'alice-pw', { config })).save('KCM:1000');
        let jump = 0;
        const creds = await Credentials.fromCcache('KCM:1000', { config, now: () => Date.now() + jump });
        jump = 3400_000;
        await creds.getServiceTicket('HTTP/localhost');
        const back = await (await openCcache('KCM:1000', { kcm: { socketPath: daemon.socketPath } })).read();
        const tgts = back.credentials.filter((c) => c.server.name.nameString[0] === 'krbtgt');
        assert.equal(tgts.length, 1, 'one TGT, the renewed one');
        assert.deepEqual(back.credentials.map((c) => c.server.name.nameString.join('/')).sort(), [
          'HTTP/localhost',
          `krbtgt/${REALM}`,
        ]);
      } finally {
        await daemon.stop();
        await kdc.stop();
      }
    });
  }
});
