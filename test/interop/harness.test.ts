// Proves the interop harness on its own, with MIT tools only (no asn1/crypto of ours): a realm
// starts, MIT kinit/kvno work through the recording relay, MIT klist lists the result, and the
// relay saw whole, well-framed Kerberos messages in the expected order.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';
import { messageName, startRelay } from './helpers/relay.js';

describe('interop harness (MIT KDC + relay)', { skip: skipUnlessMit() }, () => {
  let realm: MitRealm;
  const password = 'harness pw ünïcode';

  before(async () => {
    realm = await startMitRealm({
      realm: 'HARNESS.TEST',
      enctypes: ['aes256-cts-hmac-sha1-96:normal', 'aes128-cts-hmac-sha1-96:normal'],
      principals: [{ name: 'alice', password }, { name: 'HTTP/localhost' }],
      relay: true,
    });
  });
  after(async () => {
    await realm?.stop();
  });

  it('kinit through the relay yields a ccache MIT klist lists, and the relay saw the AS exchange', async () => {
    realm.relay?.clear();
    await realm.kinit('alice', password);
    const list = await realm.klist();
    assert.match(list.stdout, /Default principal: alice@HARNESS\.TEST/);
    assert.match(list.stdout, /krbtgt\/HARNESS\.TEST@HARNESS\.TEST/);
    const msgs = realm.relay?.messages ?? [];
    assert.ok(msgs.length >= 4, `relay saw ${msgs.length} messages`);
    assert.deepEqual(
      msgs.map((m) => `${m.direction}:${messageName(m.bytes)}`),
      ['request:AS-REQ', 'reply:KRB-ERROR', 'request:AS-REQ', 'reply:AS-REP'],
    );
    assert.deepEqual(realm.relay?.truncated, []);
    // Each recorded message is exactly one DER value: its outer length covers the rest.
    for (const m of msgs) assert.equal(derTotalLength(m.bytes), m.bytes.length);
  });

  it('kvno through the relay adds the service ticket and the relay saw the TGS exchange', async () => {
    realm.relay?.clear();
    await realm.kvno('HTTP/localhost');
    const list = await realm.klist();
    assert.match(list.stdout, /HTTP\/localhost@HARNESS\.TEST/);
    assert.match(list.stdout, /aes256-cts-hmac-sha1-96/);
    assert.deepEqual(
      (realm.relay?.messages ?? []).map((m) => `${m.direction}:${messageName(m.bytes)}`),
      ['request:TGS-REQ', 'reply:TGS-REP'],
    );
  });

  it('a wrong password is refused by the real KDC', async () => {
    await assert.rejects(realm.kinit('alice', 'not the password', `FILE:${realm.dir}/other`), /kinit/);
    assert.equal(existsSync(`${realm.dir}/other`), false);
  });

  it('keytab exports the current keys without changing them', async () => {
    const path = await realm.keytab('HTTP/localhost');
    const keys = await realm.keytabKeys(path);
    assert.deepEqual(
      keys.map((k) => [k.principal, k.enctypeName, k.key.length, k.kvno]),
      [
        ['HTTP/localhost@HARNESS.TEST', 'aes256-cts-hmac-sha1-96', 32, 1],
        ['HTTP/localhost@HARNESS.TEST', 'aes128-cts-hmac-sha1-96', 16, 1],
      ],
    );
    // kvno still works after the export: the ticket's kvno matches the keytab's.
    const r = await realm.kvno('HTTP/localhost');
    assert.match(r.stdout, /kvno = 1/);
  });

  it('the relay reassembles frames split across TCP chunks', async () => {
    const echoRealmPort = realm.kdcPort;
    const relay = await startRelay({ port: echoRealmPort });
    try {
      // Send a KDC a garbage-but-well-framed message one byte at a time; the KDC answers with
      // a KRB-ERROR (or closes); either way the relay must record our request as one message.
      const body = Uint8Array.from([0x6a, 0x03, 0x30, 0x01, 0x00]);
      const frame = new Uint8Array(4 + body.length);
      new DataView(frame.buffer).setUint32(0, body.length);
      frame.set(body, 4);
      await new Promise<void>((resolve, reject) => {
        const s = createConnection({ host: '127.0.0.1', port: relay.port }, async () => {
          for (const byte of frame) {
            s.write(Uint8Array.of(byte));
            await new Promise((r) => setTimeout(r, 5));
          }
        });
        s.on('data', () => s.end());
        s.on('close', () => resolve());
        s.on('error', reject);
        setTimeout(() => s.destroy(), 3000);
      });
      const requests = relay.messages.filter((m) => m.direction === 'request');
      assert.equal(requests.length, 1);
      assert.deepEqual(requests[0]?.bytes, body);
    } finally {
      await relay.close();
    }
  });
});

/** Total length of the DER value at the start of `b` (tag + length + contents). */
function derTotalLength(b: Uint8Array): number {
  const first = b[1];
  assert.ok(first !== undefined);
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + (b[2 + i] ?? 0);
  return 2 + n + len;
}
