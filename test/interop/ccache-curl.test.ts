// Issue 3 acceptance: a ccache WE write — MIT's read and written back, and one built from scratch
// holding only a TGT — is usable by MIT's own HTTP client, `curl --negotiate`, against Apache
// mod_auth_gssapi.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newCcache, readCcache, writeCcache } from '../../src/ccache/ccache.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { type Apache, skipUnlessApache, startApache } from './helpers/apache.js';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const REALM = 'CCCURL.TEST';
const PASSWORD = 'curl-user-pw';

describe('ccaches we write work for curl --negotiate', {
  skip: skipUnlessMit() || skipUnlessApache(),
}, () => {
  let realm: MitRealm;
  let apache: Apache;
  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal'],
      principals: [{ name: 'user', password: PASSWORD }, { name: 'HTTP/localhost' }],
    });
    apache = await startApache({ realm, keytab: await realm.keytab('HTTP/localhost') });
  });
  after(async () => {
    await apache?.stop();
    await realm?.stop();
  });

  async function curl(ccachePath: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return realm.run('curl', ['-sS', '--negotiate', '-u', ':', '-D', '-', `${apache.url}/echo`], {
      env: { KRB5CCNAME: `FILE:${ccachePath}` },
    });
  }

  it('MIT kinit cache, read and written back by us: curl authenticates', async () => {
    const mitPath = join(realm.dir, 'mit-cc');
    await realm.kinit(`user@${REALM}`, PASSWORD, `FILE:${mitPath}`);
    const ours = join(realm.dir, 'rewritten-cc');
    await writeCcache(ours, await readCcache(mitPath));
    const r = await curl(ours);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200/m);
    assert.match(r.stdout, new RegExp(`user@${REALM}`));
  });

  it('a TGT-only cache built from scratch: curl gets a service ticket with it and authenticates', async () => {
    const mit = await readCcache(join(realm.dir, 'mit-cc'));
    const tgt = mit.credentials.find((x) => unparsePrincipal(x.server) === `krbtgt/${REALM}@${REALM}`);
    assert.ok(tgt, 'MIT cache holds the TGT');
    const scratch = newCcache(mit.defaultPrincipal);
    scratch.credentials.push(tgt);
    const path = join(realm.dir, 'scratch-cc');
    await writeCcache(path, scratch);
    const r = await curl(path);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200/m);
    // curl (libkrb5) stored the HTTP/localhost ticket in OUR file, which we can read back.
    const after = await readCcache(path);
    assert.ok(after.credentials.some((c) => unparsePrincipal(c.server) === `HTTP/localhost@${REALM}`));
  });
});
