// Optimistic pre-authentication against a real MIT KDC (principals +requires_preauth): with a
// keytab our first AS-REQ already carries PA-ENC-TIMESTAMP and MIT issues the TGT on it (one
// AS_REQ in the KDC's log, no NEEDED_PREAUTH); `optimisticPreauth: false` shows the ordinary
// two; a key the KDC does not hold in that enctype falls back to the one MIT names; a stale key
// is refused once and never sent again (one PREAUTH_FAILED in the log, as a lockout count sees).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseKeytab, serializeKeytab } from '../../src/ccache/keytab.js';
import { generateRandomKey } from '../../src/crypto/index.js';
import { KerberosError } from '../../src/errors.js';
import { Credentials, parseConfig } from '../../src/krb5/index.js';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const REALM = 'OPTIMISTIC.TEST';
const skip = skipUnlessMit();

describe('optimistic pre-authentication → MIT krb5kdc', { skip }, () => {
  let realm: MitRealm;
  let config: ReturnType<typeof parseConfig>;

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal', 'aes128-cts-hmac-sha1-96:normal'],
      principals: [{ name: 'HTTP/localhost' }],
    });
    for (const name of ['robot', 'plain', 'stale']) {
      await realm.kadmin(`addprinc -randkey +requires_preauth ${name}@${REALM}`);
    }
    await realm.kadmin(`addprinc -randkey +requires_preauth -e aes128-cts-hmac-sha1-96:normal lean@${REALM}`);
    config = parseConfig(readFileSync(realm.krb5ConfPath, 'utf8'));
  });
  after(async () => {
    await realm?.stop();
  });

  /** The KDC's verdict on each AS_REQ for `name`, in order (ISSUE, NEEDED_PREAUTH, PREAUTH_FAILED…). */
  const asLog = (name: string): string[] =>
    readFileSync(join(realm.dir, 'kdc.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('AS_REQ') && l.includes(` ${name}@${REALM} for krbtgt/`))
      .map((l) => /: ([A-Z_]+): /.exec(l)?.[1] ?? l);

  it('a keytab login is one AS_REQ: MIT issues the TGT on the first request', async () => {
    const kt = await realm.keytab('robot');
    const creds = await Credentials.fromKeytab(`robot@${REALM}`, kt, { config });
    const st = await creds.getServiceTicket('HTTP/localhost');
    assert.equal(st.server.name.nameString.join('/'), 'HTTP/localhost');
    assert.deepEqual(asLog('robot'), ['ISSUE']);
  });

  it('optimisticPreauth: false is the ordinary exchange (NEEDED_PREAUTH, then ISSUE)', async () => {
    const kt = await realm.keytab('plain');
    await Credentials.fromKeytab(`plain@${REALM}`, kt, { config, optimisticPreauth: false });
    assert.deepEqual(asLog('plain'), ['NEEDED_PREAUTH', 'ISSUE']);
  });

  it('a keytab key in an enctype MIT does not hold: one refusal, then the enctype MIT names', async () => {
    // MIT holds only aes128 for `lean`; the keytab adds an aes256 key, which we prefer.
    const exported = parseKeytab(readFileSync(await realm.keytab('lean')));
    const aes128 = exported.entries[0];
    assert.ok(aes128);
    const path = join(realm.dir, 'lean-plus.keytab');
    writeFileSync(
      path,
      serializeKeytab([
        { ...aes128, key: { keytype: 18, keyvalue: generateRandomKey(18).bytes } },
        ...exported.entries,
      ]),
    );
    const creds = await Credentials.fromKeytab(`lean@${REALM}`, path, { config });
    assert.equal(creds.principal.name.nameString.join('/'), 'lean');
    assert.deepEqual(asLog('lean'), ['PREAUTH_FAILED', 'ISSUE']);
  });

  it('a stale keytab key: one PREAUTH_FAILED in the log, no second attempt', async () => {
    const kt = await realm.keytab('stale');
    await realm.kadmin(`cpw -randkey stale@${REALM}`);
    await assert.rejects(
      Credentials.fromKeytab(`stale@${REALM}`, kt, { config }),
      (e: unknown) =>
        e instanceof KerberosError &&
        e.errorName === 'KDC_ERR_PREAUTH_FAILED' &&
        /export it again/.test(e.hint ?? ''),
    );
    assert.deepEqual(asLog('stale'), ['PREAUTH_FAILED']);
  });
});
