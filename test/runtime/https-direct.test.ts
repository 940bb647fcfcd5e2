// src/runtime/https-direct.ts, the adapters' own https connections, on their own: what a leg does
// with a request body that fails as it is sent, against an https double.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { openDirect } from '../../src/runtime/https-direct.js';

const VECTORS = join(import.meta.dirname, '..', 'vectors');
const pem = (name: string) => readFileSync(join(VECTORS, name), 'utf8');
const CA = pem('kkdcp/ca.pem');

const servers: Server[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

describe('https-direct: a leg on our own connection', () => {
  it('a streamed body that errors fails the leg (a TypeError with the cause), not the process', async () => {
    const server = createServer(
      { cert: pem('kkdcp/server.pem'), key: pem('kkdcp/server-key.pem') },
      (req, res) => {
        req.resume();
        req.on('end', () => res.end('ok'));
      },
    );
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = new URL(`https://localhost:${(server.address() as AddressInfo).port}/up`);
    const c = openDirect(url, { ca: CA });
    let chunks = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (chunks++ < 2) ctl.enqueue(new Uint8Array(16));
        else ctl.error(new Error('the upload source broke'));
      },
    });
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      await assert.rejects(
        c.send(url, { method: 'POST', headers: new Headers(), body, signal: undefined }),
        (e: unknown) =>
          e instanceof TypeError && (e.cause as Error | undefined)?.message === 'the upload source broke',
      );
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off('uncaughtException', onUncaught);
      c.close();
    }
    assert.deepEqual(uncaught, []);
  });

  it('a gzip body the reader cancels closes its socket, as a plain body does (not left busy in the pool)', async () => {
    const gz = gzipSync(randomBytes(4 * 1024 * 1024));
    const server = createServer(
      { cert: pem('kkdcp/server.pem'), key: pem('kkdcp/server-key.pem') },
      (req, res) => {
        req.resume();
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(gz.length) });
        res.end(gz);
      },
    );
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = new URL(`https://localhost:${(server.address() as AddressInfo).port}/z`);
    const c = openDirect(url, { ca: CA });
    try {
      const res = await c.send(url, { method: 'GET', headers: new Headers(), body: null, signal: undefined });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      await reader.cancel();
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(c.dead() || c.idle(), 'the connection is not left busy under the cancelled body');
    } finally {
      c.close();
    }
  });
});
