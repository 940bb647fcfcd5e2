// Which UDP datagrams the client believes (issue: replies were taken from any sender, and one
// garbage datagram ended the exchange). The client's socket is connected to the KDC, as MIT's
// sendto_kdc does; datagrams from anyone else, and undecodable ones, are ignored until the deadline.
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { after, test } from 'node:test';
import { decodeKerberosMessage, encodeKrbError, type KrbError } from '../../src/asn1/index.js';
import { NameType } from '../../src/asn1/types.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { sendToKdcs } from '../../src/krb5/transport.js';
import { MiniKdc } from '../../src/testing/index.js';

const REALM = 'EXAMPLE.TEST';
const sockets: Socket[] = [];
after(() => {
  for (const s of sockets) s.close();
});

function krbError(errorCode: number): Uint8Array {
  const e: KrbError = {
    pvno: 5,
    msgType: 30,
    stime: new Date(Math.floor(Date.now() / 1000) * 1000),
    susec: 0,
    errorCode,
    realm: REALM,
    sname: { nameType: NameType.SRV_INST, nameString: ['krbtgt', REALM] },
  };
  return encodeKrbError(e);
}

/** A UDP "KDC" on loopback that hands each request's sender to `onRequest`. */
async function udpKdc(onRequest: (from: RemoteInfo, kdc: Socket) => void): Promise<number> {
  const kdc = createSocket('udp4');
  sockets.push(kdc);
  kdc.on('message', (_msg, from) => onRequest(from, kdc));
  await new Promise<void>((r) => kdc.bind(0, '127.0.0.1', r));
  return kdc.address().port;
}

async function otherSocket(): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return s;
}

// An AS-REQ needs only to look like one for the reply check: APPLICATION 10 is the first byte.
const AS_REQ = Uint8Array.of(0x6a, 0x00);

test('a forged KRB-ERROR from another local socket is ignored; the KDC reply is taken', async () => {
  const forger = await otherSocket();
  const genuine = krbError(25); // KDC_ERR_PREAUTH_REQUIRED
  const port = await udpKdc((from, kdc) => {
    // The forger learns the client's port and answers first, with C_PRINCIPAL_UNKNOWN.
    forger.send(krbError(6), from.port, from.address);
    setTimeout(() => kdc.send(genuine, from.port, from.address), 50);
  });
  const reply = await sendToKdcs(REALM, [{ host: '127.0.0.1', port, transport: 'udp' }], AS_REQ, {
    timeoutMs: 2000,
  });
  const msg = decodeKerberosMessage(reply);
  assert.equal(msg.type, 'krb-error');
  assert.equal(msg.type === 'krb-error' && msg.value.errorCode, 25);
});

test('a garbage datagram from the KDC address followed by the real reply succeeds', async () => {
  const genuine = krbError(25);
  const port = await udpKdc((from, kdc) => {
    kdc.send(Uint8Array.of(0xde, 0xad, 0xbe, 0xef), from.port, from.address);
    kdc.send(krbError(6).subarray(0, 20), from.port, from.address); // truncated: undecodable
    setTimeout(() => kdc.send(genuine, from.port, from.address), 30);
  });
  const reply = await sendToKdcs(REALM, [{ host: '127.0.0.1', port, transport: 'udp' }], AS_REQ, {
    timeoutMs: 2000,
  });
  assert.deepEqual(reply, genuine);
});

test('a reply of the wrong kind (a TGS-REP shape to an AS-REQ) is not taken as the answer', async () => {
  // APPLICATION 13 with nothing valid inside: never decodes as the AS-REP we wait for.
  const port = await udpKdc((from, kdc) => {
    kdc.send(Uint8Array.of(0x6d, 0x00), from.port, from.address);
  });
  await assert.rejects(
    sendToKdcs(REALM, [{ host: '127.0.0.1', port, transport: 'udp' }], AS_REQ, {
      timeoutMs: 200,
      totalTimeoutMs: 400,
    }),
    (e: Error) => /udp 127\.0\.0\.1:\d+: timed out after \d+ ms \(1 datagram ignored/.test(e.message),
  );
});

test('a password login over UDP through the connected socket (MiniKdc answering on UDP)', async () => {
  const kdc = await MiniKdc.start({ realm: REALM, principals: [{ name: 'alice', password: 'pw' }] });
  try {
    const creds = await Credentials.fromPassword(`alice@${REALM}`, 'pw', {
      config: kdc.clientConfig({ udp: true }),
    });
    assert.equal(creds.principal.realm, REALM);
    assert.ok(
      kdc.requests.some((r) => r.transport === 'udp' && r.type === 'AS-REQ'),
      'the KDC was asked over UDP',
    );
  } finally {
    await kdc.stop();
  }
});
