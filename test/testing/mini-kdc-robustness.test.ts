// A KDC faces the network: garbage, truncated frames, absurd length prefixes and mutated
// requests must each get a KRB-ERROR or a dropped connection — never a crash, a hang or a large
// allocation — and the KDC must go on serving real clients afterwards.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeKerberosMessage, decodeKrbError } from '../../src/asn1/index.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { MiniKdc } from '../../src/testing/index.js';

const PASSWORD = 'robust-pw';

function frame(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + b.length);
  new DataView(out.buffer).setUint32(0, b.length);
  out.set(b, 4);
  return out;
}

/** Writes `bytes`, optionally half-closes, and collects everything until the KDC closes or one reply frame is complete. */
function rawTcp(
  port: number,
  bytes: Uint8Array,
  opts: { endAfterWrite?: boolean } = {},
): Promise<{ data: Uint8Array; closedByPeer: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closedByPeer: boolean): void => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve({ data: new Uint8Array(Buffer.concat(chunks)), closedByPeer });
    };
    sock.on('connect', () => {
      sock.write(bytes);
      if (opts.endAfterWrite) sock.end();
    });
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      const all = Buffer.concat(chunks);
      if (all.length >= 4 && all.length >= 4 + all.readUInt32BE(0)) {
        // Give the KDC a moment to close after its reply, so we can tell whether it did.
        sock.once('close', () => finish(true));
        setTimeout(() => finish(false), 200).unref();
      }
    });
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', (e) => (done ? undefined : reject(e)));
  });
}

function udp(port: number, bytes: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.on('message', (m) => {
      s.close();
      resolve(new Uint8Array(m));
    });
    s.on('error', reject);
    s.send(bytes, port, '127.0.0.1');
  });
}

function replyBody(data: Uint8Array): Uint8Array {
  assert.ok(data.length >= 4, 'a framed reply');
  const len = new DataView(data.buffer, data.byteOffset).getUint32(0);
  assert.equal(data.length, 4 + len);
  return data.subarray(4);
}

describe('MiniKdc under hostile input', () => {
  let kdc: MiniKdc;
  before(async () => {
    kdc = await MiniKdc.start({
      idleTimeoutMs: 300,
      principals: [{ name: 'alice', password: PASSWORD }, 'HTTP/localhost'],
    });
  });
  after(() => kdc.stop());

  it('framed garbage → KRB_AP_ERR_MSG_TYPE', async () => {
    const r = await rawTcp(kdc.port, frame(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n')));
    assert.equal(decodeKrbError(replyBody(r.data)).errorCode, 40);
  });

  it('an AS-REQ tag around junk → KRB_ERR_GENERIC', async () => {
    const r = await rawTcp(kdc.port, frame(Uint8Array.of(0x6a, 0x05, 0x30, 0x03, 0xa1, 0x01, 0xff)));
    const err = decodeKrbError(replyBody(r.data));
    assert.equal(err.errorCode, 60);
    assert.match(err.eText ?? '', /malformed AS-REQ/);
  });

  for (const prefix of [0xffffffff, 0x7fffffff, 0x80000010, 65_537]) {
    it(`length prefix 0x${prefix.toString(16)} → KRB_ERR_FIELD_TOOLONG and the connection closed, nothing allocated`, async () => {
      const before = process.memoryUsage().arrayBuffers;
      const head = new Uint8Array(4);
      new DataView(head.buffer).setUint32(0, prefix);
      const r = await rawTcp(kdc.port, head);
      assert.equal(decodeKrbError(replyBody(r.data)).errorCode, 61);
      assert.equal(r.closedByPeer, true);
      assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 1024 * 1024, 'no large buffer');
    });
  }

  it('a truncated frame then EOF: the connection is dropped, nothing answered', async () => {
    const head = frame(new Uint8Array(100)).subarray(0, 14);
    const r = await rawTcp(kdc.port, head, { endAfterWrite: true });
    assert.equal(r.data.length, 0);
    assert.equal(r.closedByPeer, true);
  });

  it('a half-sent request is dropped after the idle timeout', async () => {
    const r = await rawTcp(kdc.port, frame(new Uint8Array(50)).subarray(0, 20));
    assert.equal(r.data.length, 0);
    assert.equal(r.closedByPeer, true);
  });

  it('two requests in one TCP stream, split at odd places, get two replies in order', async () => {
    const a = frame(Uint8Array.of(1, 2, 3));
    const b = frame(Uint8Array.of(0x6c, 0x00));
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    const replies = await new Promise<Uint8Array[]>((resolve, reject) => {
      const sock = connect({ host: '127.0.0.1', port: kdc.port });
      let buf = Buffer.alloc(0);
      const out: Uint8Array[] = [];
      sock.on('connect', () => {
        for (let i = 0; i < both.length; i += 3) sock.write(both.subarray(i, i + 3));
      });
      sock.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
          const len = buf.readUInt32BE(0);
          out.push(new Uint8Array(buf.subarray(4, 4 + len)));
          buf = buf.subarray(4 + len);
        }
        if (out.length === 2) {
          sock.destroy();
          resolve(out);
        }
      });
      sock.on('error', reject);
    });
    assert.deepEqual(
      replies.map((r) => decodeKrbError(r).errorCode),
      [40, 60],
    );
  });

  it('UDP garbage → a KRB-ERROR datagram', async () => {
    const reply = await udp(kdc.port, Uint8Array.of(0x00, 0x01, 0x02));
    assert.equal(decodeKrbError(reply).errorCode, 40);
  });

  it('every mutation of real AS-REQs and TGS-REQs gets a KRB-ERROR or a reply, never an exception', async () => {
    // Real requests from our client, captured on their way to the KDC.
    const captured: Uint8Array[] = [];
    const { sendToKdcs } = await import('../../src/krb5/transport.js');
    const creds = await Credentials.fromPassword('alice', PASSWORD, {
      config: kdc.clientConfig(),
      transport: {
        send: (_realm, req) => {
          captured.push(req);
          return sendToKdcs('EXAMPLE.TEST', [{ host: '127.0.0.1', port: kdc.port, transport: 'tcp' }], req);
        },
      },
    });
    await creds.getServiceTicket('HTTP/localhost');
    assert.equal(captured.length, 3);
    kdc.clearRequests();
    fc.assert(
      fc.property(
        fc.constantFrom(...captured),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        (req, edits, cut) => {
          const m = req.slice(0, cut === undefined ? req.length : cut % (req.length + 1));
          for (const [at, v] of edits) if (m.length > 0) m[at % m.length] = v;
          const msg = decodeKerberosMessage(kdc.handleRequest(m));
          assert.ok(['krb-error', 'as-rep', 'tgs-rep'].includes(msg.type));
        },
      ),
      { numRuns: 400, seed: 7 },
    );
    assert.equal(kdc.requests.length, 400);
    assert.ok(kdc.requests.every((r) => r.transport === 'direct'));
  });

  it('still serves a real client after all that', async () => {
    const creds = await Credentials.fromPassword('alice', PASSWORD, { config: kdc.clientConfig() });
    const st = await creds.getServiceTicket('HTTP/localhost');
    assert.equal(st.server.name.nameString.join('/'), 'HTTP/localhost');
  });
});

describe('MiniKdc request log', () => {
  it('stays bounded by maxRecords for a long-running KDC, keeping the newest', async () => {
    const kdc = await MiniKdc.start({ principals: ['alice'], maxRecords: 20 });
    try {
      for (let i = 0; i < 95; i++) kdc.handleRequest(Uint8Array.of(0x30, 0x00));
      assert.ok(kdc.requests.length <= 20, `${kdc.requests.length} records kept`);
      assert.ok(kdc.requests.length >= 18);
      await Credentials.fromPassword('alice', 'alice', { config: kdc.clientConfig() }).catch(() => undefined);
      const last = kdc.requests.at(-1);
      assert.equal(last?.type, 'AS-REQ', 'the newest request is the one kept last');
      assert.ok(kdc.requests.length <= 20);
    } finally {
      await kdc.stop();
    }
  });
});
