// createAcceptor and a keytab file: read once, looked at again at most every
// keytabCheckIntervalMs, and at once when a ticket needs a key the cached keytab lacks (the
// service was re-keyed with ktadd a moment ago).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KerberosError } from '../../src/errors.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { createAcceptor } from '../../src/server/index.js';
import { createInitiatorContext } from '../../src/spnego/index.js';
import { MiniKdc } from '../../src/testing/index.js';

const dir = mkdtempSync(join(tmpdir(), 'spnego-keytab-reload-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function token(kdc: MiniKdc): Promise<Uint8Array> {
  // Fresh credentials each time, so the service ticket carries the service's current kvno.
  const credentials = await Credentials.fromPassword('alice', 'pw', { config: kdc.clientConfig() });
  const ctx = await createInitiatorContext({ credentials, target: 'HTTP/localhost', mutual: true });
  const first = await ctx.step();
  assert.ok(first.token);
  return first.token;
}

describe('createAcceptor keytab file', () => {
  it('is checked at most once per interval, and at once for a ticket of a new key version', async () => {
    await using kdc = await MiniKdc.start({
      realm: 'RELOAD.TEST',
      principals: [{ name: 'alice', password: 'pw' }, 'HTTP/localhost'],
    });
    const path = await kdc.writeKeytab(join(dir, 'http.keytab'), 'HTTP/localhost');
    const loads: string[] = [];
    const acceptor = createAcceptor({
      keytab: path,
      keytabCheckIntervalMs: 60_000,
      logger: { debug: (m: string) => m.includes('loaded') && loads.push(m) },
    });
    assert.equal((await acceptor.accept(await token(kdc))).user, 'alice@RELOAD.TEST');
    assert.equal(loads.length, 1);

    // ktadd: new keys (kvno + 1) written to the same file. The interval has not passed, but the
    // ticket for the new kvno makes the acceptor look at the file and accept.
    kdc.addPrincipal('HTTP/localhost');
    await kdc.writeKeytab(path, 'HTTP/localhost');
    const rotated = await token(kdc);
    assert.equal((await acceptor.accept(rotated)).user, 'alice@RELOAD.TEST');
    assert.equal(loads.length, 2);

    // A good ticket within the interval does not touch the file: rewriting it is not noticed.
    await kdc.writeKeytab(path, 'HTTP/localhost');
    await acceptor.accept(await token(kdc));
    assert.equal(loads.length, 2);
  });

  it('a ticket no key opens is still refused after the forced check', async () => {
    await using kdc = await MiniKdc.start({
      realm: 'RELOAD.TEST',
      principals: [{ name: 'alice', password: 'pw' }, 'HTTP/localhost'],
    });
    const path = await kdc.writeKeytab(join(dir, 'old.keytab'), 'HTTP/localhost');
    const acceptor = createAcceptor({ keytab: path, keytabCheckIntervalMs: 60_000 });
    await acceptor.accept(await token(kdc));
    kdc.addPrincipal('HTTP/localhost'); // the KDC re-keys, the file keeps the old keys
    await assert.rejects(
      acceptor.accept(await token(kdc)),
      (e: unknown) => e instanceof KerberosError && e.errorName === 'KRB_AP_ERR_BADKEYVER',
    );
  });
});
