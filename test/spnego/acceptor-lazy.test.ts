// The main entry's createAcceptorContext loads the acceptor on its first step(): before that it
// behaves as an unestablished context (NO_CONTEXT), after it exactly as spnego/acceptor's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAcceptorContext, createInitiatorContext, SpnegoError } from '../../src/index.js';
import { GssError, ReplayCache } from '../../src/krb5/gss/index.js';
import { client, config, mint } from '../gss/helpers.js';

const target = 'HTTP/localhost@GSS.TEST';
const noContext = (e: unknown) => e instanceof GssError && e.code === 'NO_CONTEXT';

describe("the main entry's acceptor context (loaded on first step)", () => {
  it('is an unestablished context before its first step', () => {
    const acc = createAcceptorContext({ keytab: new Uint8Array([5, 2]) });
    assert.equal(acc.complete, false);
    assert.equal(acc.mech, undefined);
    assert.equal(acc.accepted, undefined);
    assert.throws(() => acc.result(), noContext);
    assert.throws(() => acc.getMIC(new Uint8Array(1)), noContext);
    assert.throws(() => acc.verifyMIC(new Uint8Array(1), new Uint8Array(1)), noContext);
    assert.throws(() => acc.wrap(new Uint8Array(1)), noContext);
    assert.throws(() => acc.unwrap(new Uint8Array(1)), noContext);
  });

  it('completes a mutual exchange and protects messages both ways', async () => {
    const m = await mint();
    const ini = await createInitiatorContext({ credentials: m.credentials, target });
    const acc = createAcceptorContext({ keytab: m.keytab, replayCache: new ReplayCache(), config });
    const t2 = await acc.step((await ini.step()).token);
    assert.equal(t2.complete, true);
    assert.equal(acc.complete, true);
    assert.equal(acc.mech, '1.2.840.113554.1.2.2');
    assert.ok(acc.accepted);
    assert.deepEqual(await ini.step(t2.token), { complete: true });
    assert.deepEqual(acc.result().client, client);
    const ping = new TextEncoder().encode('ping');
    assert.equal(new TextDecoder().decode(acc.unwrap(ini.wrap(ping)).message), 'ping');
    assert.equal(
      new TextDecoder().decode(ini.unwrap(acc.wrap(ping, { confidential: false })).message),
      'ping',
    );
    acc.verifyMIC(ping, ini.getMIC(ping));
    ini.verifyMIC(ping, acc.getMIC(ping));
  });

  it("rejects a bad token with the implementation's typed error", async () => {
    const m = await mint();
    const acc = createAcceptorContext({ keytab: m.keytab, replayCache: new ReplayCache() });
    await assert.rejects(acc.step(new Uint8Array([0x60, 0x03, 0x06, 0x01, 0x00])), (e: unknown) => {
      assert.ok(e instanceof SpnegoError, String(e));
      return true;
    });
    assert.equal(acc.complete, false);
  });
});
