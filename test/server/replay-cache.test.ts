// Replay caches: a live authenticator is never forgotten (a flood fills the cache, it does not
// flush it: new authenticators are refused instead, and servers answer 503), clients the
// service's filters refuse take no room, and the per-host file cache shares what it records
// between instances (as between processes), survives a restart, and fails closed on a file or
// directory it cannot trust.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KerberosError } from '../../src/errors.js';
import { acceptApReq, Krb5Initiator, ReplayCache } from '../../src/krb5/gss/index.js';
import {
  createAcceptor,
  FileReplayCache,
  MemoryReplayCache,
  negotiateHandler,
  negotiateMiddleware,
  RedisReplayCache,
  type RequestLike,
} from '../../src/server/index.js';
import { base64Encode } from '../../src/spnego/base64.js';
import { createInitiatorContext } from '../../src/spnego/index.js';
import { type Minted, mint } from '../gss/helpers.js';

const krbErr = (name: string) => (e: unknown) => e instanceof KerberosError && e.errorName === name;
const tag = (i: number): Uint8Array => {
  const t = new Uint8Array(32);
  new DataView(t.buffer).setUint32(0, i);
  t[31] = 7;
  return t;
};

async function token(m: Minted): Promise<Uint8Array> {
  const ctx = await createInitiatorContext({ credentials: m.credentials, target: 'HTTP/localhost@GSS.TEST' });
  const first = await ctx.step();
  assert.ok(first.token);
  return first.token;
}

describe('a full replay cache', () => {
  it('a replay is refused after a flood of fresh authenticators fills the cache', async () => {
    const m = await mint();
    const cache = new ReplayCache({ maxEntries: 3 });
    const captured = new Krb5Initiator({ ticket: m.ticket, mutual: true }).token;
    await acceptApReq(captured, { keytab: m.keytab, replayCache: cache });
    // Any user of the realm can send fresh authenticators; they must not push the captured one out.
    for (let i = 0; i < 5; i++) {
      const fresh = new Krb5Initiator({ ticket: m.ticket, mutual: true }).token;
      await Promise.resolve()
        .then(() => acceptApReq(fresh, { keytab: m.keytab, replayCache: cache }))
        .catch(() => undefined);
    }
    await assert.rejects(
      Promise.resolve().then(() => acceptApReq(captured, { keytab: m.keytab, replayCache: cache })),
      krbErr('KRB_AP_ERR_REPEAT'),
    );
  });

  it('refuses new authenticators with REPLAY_CACHE_FULL, grows within maxBytes, and makes room as entries expire', () => {
    const cache = new MemoryReplayCache({ maxEntries: 2 });
    assert.equal(cache.checkAndStore(tag(1), 61_000, 0), true);
    assert.equal(cache.checkAndStore(tag(2), 130_000, 0), true);
    assert.throws(() => cache.checkAndStore(tag(3), 61_000, 0), { code: 'REPLAY_CACHE_FULL' });
    assert.equal(cache.checkAndStore(tag(1), 61_000, 1_000), false);
    // tag 1's minute is over: its room is free again, tag 2 (still live) is kept.
    assert.equal(cache.checkAndStore(tag(3), 190_000, 121_000), true);
    assert.equal(cache.checkAndStore(tag(2), 130_000, 121_000), false);
    // Growing past the memory bound is refused too: the table doubles at half full.
    const small = new MemoryReplayCache({ maxBytes: 4096 });
    let stored = 0;
    assert.throws(
      () => {
        for (let i = 0; i < 10_000; i++) {
          small.checkAndStore(tag(i), 30_000, 0);
          stored++;
        }
      },
      { code: 'REPLAY_CACHE_FULL' },
    );
    assert.ok(stored > 100 && stored < 1000, `${stored} entries in 4 KiB`);
    for (let i = 0; i < stored; i++) assert.equal(small.checkAndStore(tag(i), 30_000, 0), false);
  });

  it('makes negotiateMiddleware and negotiateHandler answer 503 with a log line, not accept', async () => {
    const m = await mint();
    const lines: string[] = [];
    const cache = new MemoryReplayCache({ maxEntries: 1 });
    const acceptor = createAcceptor({
      keytab: m.keytab,
      replayCache: cache,
      logger: { debug: (l: string) => lines.push(l) },
    });
    const handler = negotiateHandler(() => new Response('ok'), { acceptor });
    const ask = async () =>
      handler(
        new Request('http://x/', { headers: { Authorization: `Negotiate ${base64Encode(await token(m))}` } }),
      );
    assert.equal((await ask()).status, 200);
    const refused = await ask();
    assert.equal(refused.status, 503);
    assert.ok(
      lines.some((l) => /REPLAY_CACHE_FULL/.test(l)),
      lines.join('\n'),
    );

    const mw = negotiateMiddleware({ acceptor });
    const server: Server = createServer((req, res) =>
      mw(req as unknown as RequestLike, res, () => res.end('ok')),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
      const res = await fetch(url, {
        headers: { Authorization: `Negotiate ${base64Encode(await token(m))}` },
      });
      assert.equal(res.status, 503);
    } finally {
      server.close();
    }
  });
});

describe('the realms and principals filters', () => {
  it('a client the filters refuse takes no replay-cache room', async () => {
    const m = await mint();
    let calls = 0;
    const inner = new MemoryReplayCache({ maxEntries: 1 });
    const counting = {
      checkAndStore(t: Uint8Array, e: number, n: number) {
        calls++;
        return inner.checkAndStore(t, e, n);
      },
    };
    const byRealm = createAcceptor({ keytab: m.keytab, realms: ['OTHER.TEST'], replayCache: counting });
    const byName = createAcceptor({ keytab: m.keytab, principals: ['bob@GSS.TEST'], replayCache: counting });
    const byPredicate = createAcceptor({
      keytab: m.keytab,
      principals: async () => false,
      replayCache: counting,
    });
    for (const a of [byRealm, byName, byPredicate])
      for (let i = 0; i < 3; i++) await assert.rejects(a.accept(await token(m)), { code: 'REJECTED_CLIENT' });
    assert.equal(calls, 0);
    // The room is still there for a client the service takes.
    const open = createAcceptor({ keytab: m.keytab, realms: ['GSS.TEST'], replayCache: counting });
    assert.equal((await open.accept(await token(m))).user, 'alice@GSS.TEST');
    assert.equal(calls, 1);
  });

  it('a replayCache option that is not a cache is refused at creation', () => {
    for (const replayCache of [{}, 'file', null])
      assert.throws(() => createAcceptor({ keytab: new Uint8Array(0), replayCache: replayCache as never }), {
        code: 'BAD_OPTION',
      });
  });
});

describe('the per-host file cache', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(process.env['SPNEGO_INTEROP_TMP'] ?? tmpdir(), 'rcache-file-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('what one instance records, another refuses, before and after a restart', () => {
    const now = Date.now();
    const a = new FileReplayCache({ dir });
    const b = new FileReplayCache({ dir });
    assert.equal(a.checkAndStore(tag(1), now + 300_000, now), true);
    assert.equal(b.checkAndStore(tag(1), now + 300_000, now), false);
    assert.equal(b.checkAndStore(tag(2), now + 300_000, now), true);
    assert.equal(a.checkAndStore(tag(2), now + 300_000, now), false);
    a.close();
    b.close();
    const restarted = new FileReplayCache({ dir });
    assert.equal(restarted.checkAndStore(tag(1), now + 300_000, now + 1000), false);
    assert.equal(restarted.checkAndStore(tag(2), now + 300_000, now + 1000), false);
    assert.equal(restarted.checkAndStore(tag(3), now + 300_000, now + 1000), true);
    // Entries whose skew window is over are dropped with their whole file.
    assert.equal(restarted.checkAndStore(tag(4), now + 1_000_000, now + 500_000), true);
    assert.equal(restarted.size, 1);
    assert.equal(readdirSync(restarted.path).length, 1);
    restarted.close();
  });

  it('is bounded host-wide: past maxEntries every instance refuses new authenticators, none forgets', () => {
    const sub = join(dir, 'bounded');
    mkdirSync(sub);
    const now = Date.now();
    const a = new FileReplayCache({ dir: sub, maxEntries: 2 });
    const b = new FileReplayCache({ dir: sub, maxEntries: 2 });
    assert.equal(a.checkAndStore(tag(1), now + 300_000, now), true);
    assert.equal(b.checkAndStore(tag(2), now + 300_000, now), true);
    assert.throws(() => a.checkAndStore(tag(3), now + 300_000, now), { code: 'REPLAY_CACHE_FULL' });
    assert.throws(() => b.checkAndStore(tag(3), now + 300_000, now), { code: 'REPLAY_CACHE_FULL' });
    assert.equal(a.checkAndStore(tag(2), now + 300_000, now), false);
    assert.equal(b.checkAndStore(tag(1), now + 300_000, now), false);
    a.close();
    b.close();
  });

  it('a record that is not its own format makes it refuse, not accept', () => {
    const sub = join(dir, 'torn');
    mkdirSync(sub);
    const now = Date.now();
    const c = new FileReplayCache({ dir: sub });
    assert.equal(c.checkAndStore(tag(1), now + 300_000, now), true);
    const [file] = readdirSync(c.path);
    assert.ok(file);
    writeFileSync(join(c.path, file), new Uint8Array(32).fill(0x41), { flag: 'a' });
    assert.throws(() => c.checkAndStore(tag(2), now + 300_000, now), { code: 'REPLAY_CACHE_UNAVAILABLE' });
    c.close();
  });

  it('refuses a cache directory other users can write', () => {
    const sub = join(dir, 'shared');
    mkdirSync(sub);
    const c = new FileReplayCache({ dir: sub });
    mkdirSync(c.path);
    chmodSync(c.path, 0o777);
    const now = Date.now();
    assert.throws(() => c.checkAndStore(tag(1), now + 300_000, now), { code: 'REPLAY_CACHE_UNAVAILABLE' });
  });

  it('refuses to record in its directory once it was replaced by one other users can write', () => {
    // A KRB5RCACHEDIR whose parent others can write: the checked directory can be swapped for
    // theirs while the server runs, and what lands there they can delete. Each new file is made
    // only after the directory is checked again.
    const sub = join(dir, 'swapped');
    mkdirSync(sub);
    const c = new FileReplayCache({ dir: sub });
    const now = Date.now();
    assert.equal(c.checkAndStore(tag(1), now + 60_000, now), true);
    rmSync(c.path, { recursive: true, force: true });
    mkdirSync(c.path);
    chmodSync(c.path, 0o777);
    assert.throws(() => c.checkAndStore(tag(2), now + 240_000, now), { code: 'REPLAY_CACHE_UNAVAILABLE' });
    c.close();
  });

  it('is what createAcceptor uses by default, in KRB5RCACHEDIR', async () => {
    const sub = join(dir, 'default');
    mkdirSync(sub);
    const saved = process.env['KRB5RCACHEDIR'];
    process.env['KRB5RCACHEDIR'] = sub;
    try {
      const m = await mint();
      const t = await token(m);
      // Two acceptors made separately (as two apps in one process) share it.
      assert.equal((await createAcceptor({ keytab: m.keytab }).accept(t)).user, 'alice@GSS.TEST');
      await assert.rejects(createAcceptor({ keytab: m.keytab }).accept(t), krbErr('KRB_AP_ERR_REPEAT'));
      assert.equal(readdirSync(sub).length, 1);
      assert.equal(FileReplayCache.forDirectory().path.startsWith(sub), true);
    } finally {
      if (saved === undefined) delete process.env['KRB5RCACHEDIR'];
      else process.env['KRB5RCACHEDIR'] = saved;
    }
  });
});

describe('RedisReplayCache calling conventions (the real server is in test/interop)', () => {
  const now = 1_000_000;
  it('speaks node-redis and ioredis SET NX PX, and reads OK / null', async () => {
    const seen: unknown[][] = [];
    const store = new Set<string>();
    const set = (key: string) => {
      if (store.has(key)) return null;
      store.add(key);
      return 'OK';
    };
    const nodeRedis = {
      set: async (...args: unknown[]) => {
        seen.push(args);
        return set(args[0] as string);
      },
    };
    const ioredis = { ...nodeRedis, defineCommand() {} };
    const viaNodeRedis = new RedisReplayCache(nodeRedis);
    const viaIoredis = new RedisReplayCache(ioredis);
    assert.equal(await viaNodeRedis.checkAndStore(tag(1), now + 300_000, now), true);
    assert.equal(await viaIoredis.checkAndStore(tag(1), now + 300_000, now), false);
    const [key, value, opts] = seen[0] as [string, string, Record<string, unknown>];
    assert.match(key, /^spnego:rcache:[0-9a-f]{32}$/);
    assert.equal(value, '1');
    assert.equal(opts['NX'], true);
    assert.equal(opts['PX'], 360_000);
    assert.deepEqual(seen[1], [key, '1', 'PX', 360_000, 'NX']);
  });

  it('a replay to a server whose clock is a few seconds behind the first one is still refused', async () => {
    // A Redis double that expires keys on the real (test) clock; server A's clock runs 5 s ahead
    // of server B's, within what Kerberos tolerates between hosts. The key A writes must outlive
    // the last instant B would still accept the authenticator.
    let real = 0;
    const keys = new Map<string, number>();
    const redis = {
      set: async (key: string, _v: string, o: { PX: number }) => {
        const until = keys.get(key);
        if (until !== undefined && until > real) return null;
        keys.set(key, real + o.PX);
        return 'OK';
      },
    };
    const skew = 300_000;
    const a = new RedisReplayCache(redis, { api: 'redis' });
    const b = new RedisReplayCache(redis, { api: 'redis' });
    const ctime = 10_000_000;
    real = ctime;
    assert.equal(await a.checkAndStore(tag(9), ctime + skew, real + 5000), true);
    // B still accepts this authenticator's time until its own clock reads ctime + skew.
    real = ctime + skew - 2000;
    assert.equal(await b.checkAndStore(tag(9), ctime + skew, real), false);
  });

  it('refuses (REPLAY_CACHE_UNAVAILABLE) when Redis errs, hangs or answers nonsense', async () => {
    const failing = new RedisReplayCache({ set: async () => Promise.reject(new Error('ECONNREFUSED')) });
    await assert.rejects(failing.checkAndStore(tag(1), now + 1000, now), {
      code: 'REPLAY_CACHE_UNAVAILABLE',
    });
    const hanging = new RedisReplayCache({ set: () => new Promise(() => undefined) }, { timeoutMs: 50 });
    await assert.rejects(hanging.checkAndStore(tag(1), now + 1000, now), {
      code: 'REPLAY_CACHE_UNAVAILABLE',
    });
    const odd = new RedisReplayCache({ set: async () => 'QUEUED' });
    await assert.rejects(odd.checkAndStore(tag(1), now + 1000, now), { code: 'REPLAY_CACHE_UNAVAILABLE' });
    assert.throws(() => new RedisReplayCache({} as never), { code: 'BAD_OPTION' });
  });
});
