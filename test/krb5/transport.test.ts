import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';
import { KdcUnreachableError } from '../../src/errors.js';
import {
  frameTcp,
  isResponseTooBig,
  type NetIo,
  readTcpReply,
  sendToKdcs,
} from '../../src/krb5/transport.js';
import type { ByteStream } from '../../src/runtime/net.js';

function streamOf(chunks: Uint8Array[]): ByteStream {
  const q = [...chunks];
  return { write: async () => undefined, read: async () => q.shift() ?? null, close: () => undefined };
}

test('readTcpReply reads exactly the announced length across one-byte chunks', async () => {
  const msg = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  const framed = frameTcp(msg);
  const chunks = Array.from(framed, (b) => Uint8Array.of(b));
  assert.deepEqual(await readTcpReply(streamOf(chunks)), msg);
});

test('readTcpReply rejects the reserved high bit, oversize replies, short and long streams', async () => {
  await assert.rejects(readTcpReply(streamOf([Uint8Array.of(0x80, 0, 0, 1, 0)])), /reserved high bit/);
  await assert.rejects(readTcpReply(streamOf([Uint8Array.of(0x7f, 0xff, 0xff, 0xff)])), /exceeds/);
  await assert.rejects(readTcpReply(streamOf([Uint8Array.of(0, 0, 0, 5, 1, 2)])), /closed before/);
  await assert.rejects(readTcpReply(streamOf([Uint8Array.of(0, 0, 0, 1, 1, 2)])), /more bytes/);
  await assert.rejects(readTcpReply(streamOf([Uint8Array.of(0, 0, 0, 64)]), 32), /exceeds the 32-byte limit/);
});

// KRB-ERROR skeleton carrying error-code 52 (KRB_ERR_RESPONSE_TOO_BIG), RFC 4120 §5.9.1 field [6].
const tooBig = Uint8Array.of(
  0x7e,
  0x0d,
  0x30,
  0x0b,
  0xa0,
  0x03,
  0x02,
  0x01,
  0x05,
  0xa6,
  0x03,
  0x02,
  0x01,
  0x34,
);

test('isResponseTooBig recognises error 52 only', () => {
  assert.equal(isResponseTooBig(tooBig), true);
  const other = tooBig.slice();
  other[13] = 25;
  assert.equal(isResponseTooBig(other), false);
  assert.equal(isResponseTooBig(Uint8Array.of(0x6b, 0x00)), false);
});

test('sendToKdcs falls back from UDP to TCP on RESPONSE_TOO_BIG and across KDCs', async () => {
  const calls: string[] = [];
  const io: NetIo = {
    udpExchange: async (host) => {
      calls.push(`udp ${host}`);
      if (host === 'a') throw new Error('ECONNREFUSED');
      return tooBig;
    },
    connectTcp: async (host) => {
      calls.push(`tcp ${host}`);
      if (host === 'a') throw new Error('ECONNREFUSED');
      return streamOf([frameTcp(Uint8Array.of(0x6b, 1, 2))]);
    },
  };
  const reply = await sendToKdcs(
    'R',
    [
      { host: 'a', port: 88, transport: 'any' },
      { host: 'b', port: 88, transport: 'any' },
    ],
    Uint8Array.of(1),
    { io },
  );
  assert.deepEqual(reply, Uint8Array.of(0x6b, 1, 2));
  assert.deepEqual(calls, ['udp a', 'tcp a', 'udp b', 'tcp b']);
});

test('sendToKdcs: udp_preference_limit=1 means TCP only; all failing lists every attempt', async () => {
  const io: NetIo = {
    udpExchange: async () => assert.fail('UDP must not be used'),
    connectTcp: async (host) => {
      throw new Error(`refused by ${host}`);
    },
  };
  await assert.rejects(
    sendToKdcs(
      'EXAMPLE.TEST',
      [
        { host: 'k1', port: 88, transport: 'any' },
        { host: '::1', port: 750, transport: 'tcp' },
      ],
      Uint8Array.of(1, 2),
      { io, udpPreferenceLimit: 1 },
    ),
    (e: unknown) =>
      e instanceof KdcUnreachableError &&
      e.code === 'KDC_UNREACHABLE' &&
      /tcp k1:88: refused by k1/.test(e.message) &&
      /tcp \[::1\]:750: refused by ::1/.test(e.message) &&
      e.hint !== undefined,
  );
});

test('sendToKdcs: a request of exactly udp_preference_limit bytes goes over UDP first (MIT: TCP only above it)', async () => {
  const calls: string[] = [];
  const io: NetIo = {
    udpExchange: async (_host, _port, req) => {
      calls.push(`udp ${req.length}`);
      return Uint8Array.of(0x6b, 0);
    },
    connectTcp: async () => assert.fail('TCP must not be used first'),
  };
  const ep = [{ host: 'k', port: 88, transport: 'any' as const }];
  await sendToKdcs('EXAMPLE.TEST', ep, new Uint8Array(100), { io, udpPreferenceLimit: 100 });
  assert.deepEqual(calls, ['udp 100']);
});

test('sendToKdcs over a real loopback TCP socket, and a silent KDC times out', async () => {
  const servers: Server[] = [];
  const listen = (handler: (s: import('node:net').Socket) => void) =>
    new Promise<number>((resolve) => {
      const srv = createServer(handler);
      servers.push(srv);
      srv.listen(0, '127.0.0.1', () => resolve((srv.address() as { port: number }).port));
    });
  try {
    const silent = await listen(() => undefined);
    const echo = await listen((s) => {
      let got = Buffer.alloc(0);
      s.on('data', (d) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 4 && got.length === 4 + got.readUInt32BE(0)) {
          // Reply in two writes to exercise reassembly.
          const framed = frameTcp(Uint8Array.from(got.subarray(4)).reverse());
          s.write(framed.subarray(0, 3));
          setTimeout(() => s.end(framed.subarray(3)), 5);
        }
      });
    });
    const started = Date.now();
    const reply = await sendToKdcs(
      'R',
      [
        { host: '127.0.0.1', port: silent, transport: 'tcp' },
        { host: '127.0.0.1', port: echo, transport: 'tcp' },
      ],
      Uint8Array.of(1, 2, 3),
      { timeoutMs: 200 },
    );
    assert.deepEqual(reply, Uint8Array.of(3, 2, 1));
    assert.ok(Date.now() - started >= 150, 'the silent KDC was given its timeout');
  } finally {
    for (const s of servers) s.close();
  }
});
