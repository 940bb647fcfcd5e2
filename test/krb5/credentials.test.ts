// Credentials (src/krb5/credentials.ts) under a changing ccache, each pinned by a hermetic test against MiniKdc.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CredentialsError } from '../../src/errors.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { MiniKdc } from '../../src/testing/index.js';

const PASSWORD = 'correct horse battery staple';
const SPN = 'HTTP/localhost';

describe('a ccache destroyed under running credentials (kdestroy)', () => {
  let kdc: MiniKdc;
  let dir: string;
  before(async () => {
    kdc = await MiniKdc.start({ principals: [{ name: 'alice', password: PASSWORD }, SPN, 'HTTP/other'] });
    dir = mkdtempSync(join(tmpdir(), 'spnego-kdestroy-'));
  });
  after(async () => {
    await kdc.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not recreate a ccache the user destroyed (it would restore the TGT)', async () => {
    const path = join(dir, 'cc');
    const kinit = await Credentials.fromPassword('alice', PASSWORD, { config: kdc.clientConfig() });
    await kinit.save(`FILE:${path}`);
    // A long check interval: the removal happens between two looks at the file, so the
    // write-back itself must notice that the cache is gone.
    const creds = await Credentials.fromCcache(`FILE:${path}`, {
      config: kdc.clientConfig(),
      ccacheCheckIntervalMs: 60_000,
    });
    await creds.getServiceTicket('HTTP/other');
    unlinkSync(path); // kdestroy
    await creds.getServiceTicket(SPN);
    assert.equal(existsSync(path), false, 'the destroyed ccache was written again');
  });

  it('stops using its tickets after kdestroy, as MIT does, and picks up a new kinit', async () => {
    const path = join(dir, 'cc2');
    await (await Credentials.fromPassword('alice', PASSWORD, { config: kdc.clientConfig() })).save(
      `FILE:${path}`,
    );
    const creds = await Credentials.fromCcache(`FILE:${path}`, {
      config: kdc.clientConfig(),
      ccacheCheckIntervalMs: 0,
      writeBack: false,
    });
    await creds.getServiceTicket(SPN); // warm: a ticket in memory
    unlinkSync(path); // kdestroy
    const tgsBefore = kdc.count('TGS-REQ');
    await assert.rejects(creds.getServiceTicket(SPN), (e: unknown) => {
      assert.ok(e instanceof CredentialsError);
      assert.equal(e.code, 'CCACHE_DESTROYED');
      assert.match(e.hint ?? '', /kinit/);
      return true;
    });
    // Later calls do not fall back to the tickets held in memory either.
    await assert.rejects(creds.getServiceTicket(SPN), CredentialsError);
    await assert.rejects(creds.getServiceTicket('HTTP/other'), CredentialsError);
    assert.equal(kdc.count('TGS-REQ'), tgsBefore, 'no TGS-REQ with the destroyed TGT');
    // kinit again: the same Credentials work with the new cache.
    await (await Credentials.fromPassword('alice', PASSWORD, { config: kdc.clientConfig() })).save(
      `FILE:${path}`,
    );
    const st = await creds.getServiceTicket(SPN);
    assert.equal(st.server.name.nameString.join('/'), 'HTTP/localhost');
  });

  it('credentials backed by a password keep working when their ccache copy is removed', async () => {
    const path = join(dir, 'cc-pw');
    const creds = await Credentials.fromPassword('alice', PASSWORD, { config: kdc.clientConfig() });
    await creds.save(`FILE:${path}`);
    unlinkSync(path);
    const st = await creds.getServiceTicket(SPN);
    assert.equal(st.server.name.nameString.join('/'), 'HTTP/localhost');
  });
});
