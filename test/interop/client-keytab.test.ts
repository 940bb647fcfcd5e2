// A long-running client with KRB5_CLIENT_KTNAME and no ccache, against Apache mod_auth_gssapi
// and an MIT KDC whose tickets live 24 s: negotiateFetch() with no options keeps authenticating
// across TGT expiry, getting a new TGT from the keytab on its own (as MIT's GSSAPI does), with
// one AS exchange per refresh even when requests arrive together — counted in the KDC's log.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { negotiateFetch } from '../../src/index.js';
import { type Apache, skipUnlessApache, startApache } from './helpers/apache.js';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const REALM = 'CLIENTKT.TEST';
const LIFE = 24;
const skip = skipUnlessMit() || skipUnlessApache();

describe('client keytab renewal → Apache across TGT expiry', { skip }, () => {
  let realm: MitRealm;
  let apache: Apache;
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal'],
      principals: [{ name: 'svc-batch' }, { name: 'HTTP/localhost' }],
      // Not renewable: a refresh must be a new AS exchange from the keytab, not a RENEW.
      kdcRealmConf: { max_life: `0:00:${LIFE}`, max_renewable_life: '0' },
      libdefaults: { clockskew: '5' },
    });
    apache = await startApache({ realm, keytab: await realm.keytab('HTTP/localhost') });
    const clientKt = await realm.keytab('svc-batch', join(realm.dir, 'client.keytab'));
    for (const k of ['KRB5_CONFIG', 'KRB5CCNAME', 'KRB5_CLIENT_KTNAME']) saved[k] = process.env[k];
    process.env['KRB5_CONFIG'] = realm.krb5ConfPath;
    process.env['KRB5CCNAME'] = `FILE:${join(realm.dir, 'no-ccache')}`;
    process.env['KRB5_CLIENT_KTNAME'] = `FILE:${clientKt}`;
  });
  after(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await apache?.stop();
    await realm?.stop();
  });

  /** AS exchanges the KDC answered with a ticket for svc-batch, from its log. */
  const asIssued = (): number =>
    readFileSync(join(realm.dir, 'kdc.log'), 'utf8')
      .split('\n')
      .filter((l) => /AS_REQ .*ISSUE: .*svc-batch@CLIENTKT\.TEST for krbtgt\//.test(l)).length;

  it('keeps authenticating across TGT expiry with one AS exchange per refresh', async () => {
    const kfetch = negotiateFetch();
    const url = `${apache.url}/private/`;
    const started = Date.now();
    let requests = 0;
    // Past the first TGT's end (24 s) and into the second one's life; every 4 s a burst of 4.
    while (Date.now() - started < (LIFE + 8) * 1000) {
      const burst = await Promise.all(Array.from({ length: 4 }, () => kfetch(url)));
      for (const r of burst) assert.equal(r.status, 200, `request at ${Date.now() - started} ms`);
      requests += burst.length;
      await new Promise((r) => setTimeout(r, 4000));
    }
    const issued = asIssued();
    process.stderr.write(
      `client keytab: ${requests} requests over ${Date.now() - started} ms, ${issued} AS exchanges\n`,
    );
    // The first TGT, then one refresh: the TGT is refreshed past half-life when the next service
    // ticket is needed, i.e. once the first (which ends with the TGT) is within clockskew of its end.
    assert.equal(issued, 2);
    assert.equal(existsSync(join(realm.dir, 'no-ccache')), false, 'nothing written to the ccache path');
  });
});
