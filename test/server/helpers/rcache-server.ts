// A server process for the multi-process replay tests: node:http + negotiateMiddleware with the
// DEFAULT replay cache (the per-host file cache in KRB5RCACHEDIR), serving the keytab named on
// the command line. Prints its port, answers 200 `user=<principal>` or the middleware's 401.
// `--redis PORT` uses a RedisReplayCache on a node-redis client instead.
import { createServer } from 'node:http';
import { negotiateMiddleware, type ReplayCache, type RequestLike } from '../../../src/server/index.js';

const [keytab, ...rest] = process.argv.slice(2);
if (!keytab) throw new Error('usage: rcache-server.ts KEYTAB [--redis PORT [ioredis]]');
let replayCache: ReplayCache | undefined;
let close = async (): Promise<void> => {};
const redisAt = rest.indexOf('--redis');
if (redisAt >= 0) {
  const port = Number(rest[redisAt + 1]);
  const { RedisReplayCache } = await import('../../../src/server/index.js');
  if (rest[redisAt + 2] === 'ioredis') {
    const { Redis } = await import('ioredis');
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: false });
    client.on('error', () => undefined);
    replayCache = new RedisReplayCache(client);
    close = async () => void (await client.quit().catch(() => undefined));
  } else {
    const { createClient } = await import('redis');
    const client = createClient({ socket: { host: '127.0.0.1', port } });
    // node-redis emits connection errors as events: unheard, they would end the process.
    client.on('error', () => undefined);
    await client.connect();
    replayCache = new RedisReplayCache(client);
    close = async () => void (await client.quit().catch(() => undefined));
  }
}
const mw = negotiateMiddleware({ keytab, ...(replayCache ? { replayCache } : {}) });
const server = createServer((req, res) =>
  mw(req as unknown as RequestLike, res, () => res.end(`user=${(req as unknown as RequestLike).remoteUser}`)),
);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void close().finally(() => process.exit(0));
});
