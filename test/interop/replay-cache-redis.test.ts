// The Redis replay cache against a real redis-server (apt redis-server), started here on a
// loopback port of its own: two acceptor PROCESSES sharing it — one on a node-redis client, the
// other on ioredis, as servers on two hosts behind a load balancer would — refuse each other's
// replays, accept each of many headers sent to both at once exactly once, and refuse (503, not
// accept) while Redis is down. Outside CI a missing redis-server skips with a hint; with
// CI=true it fails.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { writeKeytab } from '../../src/ccache/keytab.js';
import { RedisReplayCache } from '../../src/server/index.js';
import { type Minted, mint } from '../gss/helpers.js';
import { header, type Proc, startServer, status, stopServer } from '../server/helpers/rcache-procs.js';
import { findBinary, freePort } from './helpers/mit-realm.js';

const HINT =
  'install it with: sudo apt-get install -y redis-server (npm run test:interop installs it as root)';

function skipUnlessRedis(): string | false {
  if (findBinary('redis-server')) return false;
  if (process.env['CI'] === 'true') return false; // CI must fail, not skip
  process.stderr.write(`\nSKIPPED interop: redis-server missing. ${HINT}\n`);
  return `redis-server missing. ${HINT}`;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port}`);
}

async function startRedis(dir: string, port: number): Promise<ChildProcess> {
  const bin = findBinary('redis-server');
  if (!bin) throw new Error(`redis-server missing. ${HINT}`);
  const child = spawn(
    bin,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--pidfile',
      join(dir, 'redis.pid'),
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(port);
  return child;
}

async function stopRedis(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

describe('RedisReplayCache with a real redis-server and two acceptor processes', {
  skip: skipUnlessRedis(),
}, () => {
  let dir: string;
  let redis: ChildProcess | undefined;
  let port: number;
  let m: Minted;
  let a: Proc | undefined;
  let b: Proc | undefined;
  before(async () => {
    dir = mkdtempSync(join(process.env['SPNEGO_INTEROP_TMP'] ?? tmpdir(), 'redis-rcache-'));
    port = await freePort();
    redis = await startRedis(dir, port);
    m = await mint();
    const keytab = join(dir, 'http.keytab');
    await writeKeytab(keytab, m.keytab.entries);
    // Each process gets its own (empty) per-host cache dir, so only Redis can link them.
    const env = (n: string) => ({ ...process.env, KRB5RCACHEDIR: mkdtempSync(join(dir, n)) });
    [a, b] = await Promise.all([
      startServer(keytab, env('a-'), ['--redis', String(port)]),
      startServer(keytab, env('b-'), ['--redis', String(port), 'ioredis']),
    ]);
  });
  after(async () => {
    await Promise.all([stopServer(a), stopServer(b)]);
    await stopRedis(redis);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a header accepted through one client library is refused through the other', async () => {
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
      headers.map(async (h) => [await status(ua, h), await status(ub, h)].sort().join(',')),
    );
    assert.deepEqual(
      results.filter((r) => r !== '200,401'),
      [],
    );
  });

  it('records each authenticator with a TTL past its skew window by the clock spread allowed between servers', async () => {
    const client = createClient({ socket: { host: '127.0.0.1', port } });
    await client.connect();
    try {
      const cache = new RedisReplayCache(client, { prefix: 'ttl-test:' });
      const now = Date.now();
      const tag = new Uint8Array(32).fill(9);
      assert.equal(await cache.checkAndStore(tag, now + 300_000, now), true);
      assert.equal(await cache.checkAndStore(tag, now + 300_000, now), false);
      const keys = await client.keys('ttl-test:*');
      assert.equal(keys.length, 1);
      const ttl = await client.pTTL(keys[0] as string);
      // 300 s of skew window left, plus clockSpreadMs (default 60 s).
      assert.ok(ttl > 359_000 && ttl <= 360_000, `pttl ${ttl}`);
    } finally {
      await client.quit();
    }
  });

  it('while Redis is down, headers are refused with 503, never accepted unchecked', async () => {
    assert.ok(a);
    await stopRedis(redis);
    redis = undefined;
    const res = await fetch(a.url, { headers: { Authorization: await header(m) } });
    await res.arrayBuffer();
    assert.equal(res.status, 503);
  });
});
