// The acceptor's `principal` option without a realm (`HTTP/localhost`): the realm is the one the
// keytab holds those keys in, so a service need not repeat it (MIT would use default_realm).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, KerberosError } from '../../src/errors.js';
import { ReplayCache } from '../../src/krb5/gss/index.js';
import { createAcceptorContext, createInitiatorContext } from '../../src/spnego/index.js';
import { client, mint } from '../gss/helpers.js';

async function firstToken(m: Awaited<ReturnType<typeof mint>>): Promise<Uint8Array> {
  const ini = await createInitiatorContext({ credentials: m.credentials, target: 'HTTP/localhost@GSS.TEST' });
  const t = await ini.step();
  assert.ok(t.token);
  return t.token;
}

describe('acceptor principal option', () => {
  it('without a realm takes the keytab realm and accepts', async () => {
    const m = await mint();
    const acc = createAcceptorContext({
      keytab: m.keytab,
      principal: 'HTTP/localhost',
      replayCache: new ReplayCache(),
    });
    assert.equal((await acc.step(await firstToken(m))).complete, true);
    assert.deepEqual(acc.result().client, client);
  });

  it('without a realm and without keys for it is a ConfigError naming the fix', async () => {
    const m = await mint();
    const acc = createAcceptorContext({
      keytab: m.keytab,
      principal: 'HTTP/elsewhere',
      replayCache: new ReplayCache(),
    });
    await assert.rejects(acc.step(await firstToken(m)), (e: unknown) => {
      assert.ok(e instanceof ConfigError && e.code === 'BAD_OPTION');
      assert.match(e.hint ?? '', /HTTP\/elsewhere@REALM/);
      return true;
    });
  });

  it('with a realm is still exact: a ticket of that name in another realm is refused', async () => {
    const m = await mint();
    const acc = createAcceptorContext({
      keytab: m.keytab,
      principal: 'HTTP/localhost@OTHER.TEST',
      replayCache: new ReplayCache(),
    });
    await assert.rejects(acc.step(await firstToken(m)), (e: unknown) => e instanceof KerberosError);
  });
});
