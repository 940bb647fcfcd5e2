// The server half of bench/soak: node:http + negotiateMiddleware with the default (per-host
// file) replay cache, forked with an IPC channel: it sends its port once listening and answers
// each 'mem' message with its rss and heapUsed after a forced GC.
import { createServer } from 'node:http';
import { negotiateMiddleware, type RequestLike } from '../../src/server/index.js';

const keytab = process.argv[2];
if (!keytab) throw new Error('usage: server.ts KEYTAB');
const mw = negotiateMiddleware({ keytab });
const server = createServer((req, res) =>
  mw(req as unknown as RequestLike, res, () => {
    res.setHeader('Content-Type', 'text/plain');
    res.end('private\n');
  }),
);
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as { port: number }).port });
});
process.on('message', (m) => {
  if (m !== 'mem') return;
  globalThis.gc?.();
  const u = process.memoryUsage();
  process.send?.({ rss: u.rss, heapUsed: u.heapUsed });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));
