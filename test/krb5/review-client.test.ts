// Review findings on the client side of src/krb5, each pinned by a hermetic test against MiniKdc.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Credentials } from '../../src/krb5/credentials.js';
import { MiniKdc } from '../../src/testing/index.js';

const PASSWORD = 'correct horse battery staple';
const SPN = 'HTTP/localhost';

describe('service-ticket write-back after kdestroy', () => {
  let kdc: MiniKdc;
  let dir: string;
  before(async () => {
    kdc = await MiniKdc.start({ principals: [{ name: 'alice', password: PASSWORD }, SPN] });
    dir = mkdtempSync(join(tmpdir(), 'review-kdestroy-'));
  });
  after(async () => {
    await kdc.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not recreate a ccache the user destroyed (it would restore the TGT)', async () => {
    const path = join(dir, 'cc');
    const kinit = await Credentials.fromPassword('alice', PASSWORD, { config: kdc.clientConfig() });
    await kinit.save(`FILE:${path}`);
    const creds = await Credentials.fromCcache(`FILE:${path}`, {
      config: kdc.clientConfig(),
      ccacheCheckIntervalMs: 0,
    });
    unlinkSync(path); // kdestroy
    await creds.getServiceTicket(SPN);
    assert.equal(existsSync(path), false, 'the destroyed ccache was written again');
  });
});
