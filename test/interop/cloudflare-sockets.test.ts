// A Cloudflare Worker (workerd through miniflare) talking to a real MIT KDC directly over TCP
// (cloudflare:sockets `connect()`), no KDC proxy: krb5.conf names `kdc = 127.0.0.1:PORT`, a
// recording relay in front of the KDC shows the messages went over TCP, MIT's log shows the
// keytab's AS-REQ issued on the first try and the TGS-REQ, and Apache mod_auth_gssapi serves the
// page to the Worker with mutual authentication required.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeAsReq, decodeTgsReq } from '../../src/asn1/index.js';
import { type Apache, skipUnlessApache, startApache } from './helpers/apache.js';
import { type MitRealm, run, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const REALM = 'SOCKETS.TEST';
const EDGE_RUN = join(import.meta.dirname, 'helpers', 'edge-run.ts');
const skip = skipUnlessMit() || skipUnlessApache();

describe('Cloudflare Worker → MIT KDC over cloudflare:sockets (TCP, no proxy)', { skip }, () => {
  let realm: MitRealm;
  let apache: Apache;
  let robotKeytab: string;

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal'],
      principals: [{ name: 'robot' }, { name: 'HTTP/localhost' }],
      relay: true,
    });
    robotKeytab = await realm.keytab('robot');
    apache = await startApache({ realm, keytab: await realm.keytab('HTTP/localhost') });
  });
  after(async () => {
    await apache?.stop();
    await realm?.stop();
  });

  it('logs in from a keytab secret and fetches the page with mutual REQUIRED', async () => {
    const conf = `[libdefaults]
  default_realm = ${REALM}
  dns_lookup_kdc = false
[realms]
  ${REALM} = {
    kdc = 127.0.0.1:${realm.port}
  }
[domain_realm]
  localhost = ${REALM}
`;
    realm.relay?.clear();
    const r = await run(process.execPath, ['--import', 'tsx', EDGE_RUN, 'worker'], {
      env: {
        KRB5_CONF: conf,
        KEYTAB_B64: readFileSync(robotKeytab).toString('base64'),
        PRINCIPAL: `robot@${REALM}`,
        URL: `${apache.url}/private/`,
      },
    });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as {
      answer: { status?: number; user?: string; body?: string };
    };
    assert.deepEqual(
      { status: out.answer.status, user: out.answer.user, body: out.answer.body },
      { status: 200, user: `robot@${REALM}`, body: 'private' },
      JSON.stringify(out.answer),
    );
    // Over TCP through the relay: the AS-REQ (pre-authenticated) and the TGS-REQ, nothing else.
    const requests = (realm.relay?.messages ?? []).filter((m) => m.direction === 'request');
    assert.equal(requests.length, 2);
    assert.equal(decodeAsReq(requests[0]?.bytes ?? new Uint8Array()).reqBody.cname?.nameString[0], 'robot');
    assert.deepEqual(decodeTgsReq(requests[1]?.bytes ?? new Uint8Array()).reqBody.sname?.nameString, [
      'HTTP',
      'localhost',
    ]);
    const log = readFileSync(join(realm.dir, 'kdc.log'), 'utf8');
    assert.equal(
      log.split('\n').filter((l) => /AS_REQ .*ISSUE: .*robot@SOCKETS\.TEST for krbtgt\//.test(l)).length,
      1,
    );
    assert.equal(log.split('\n').filter((l) => /AS_REQ .*robot@SOCKETS\.TEST/.test(l)).length, 1);
    assert.equal(
      log.split('\n').filter((l) => /TGS_REQ .*ISSUE: .*HTTP\/localhost@SOCKETS\.TEST/.test(l)).length,
      1,
    );
  });
});
