// Issue 7 acceptance (MIT clients → our server): `curl --negotiate` and Debian's
// python3-requests-kerberos (mutual authentication REQUIRED) against negotiateMiddleware on
// node:http, with tickets from a real MIT KDC: 200, the client's principal exposed, and the
// AP-REP we return accepted by MIT's initiator.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { negotiateMiddleware, type RequestLike } from '../../src/server/index.js';
import { type MitRealm, run, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const REALM = 'SRV.TEST';
const PASSWORD = 'server-test-pw';

describe('MIT clients against our negotiateMiddleware', { skip: skipUnlessMit() }, () => {
  let realm: MitRealm;
  let server: Server;
  let url: string;
  const rejections: string[] = [];
  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal', 'aes128-cts-hmac-sha256-128:normal'],
      principals: [{ name: 'alice', password: PASSWORD }, { name: 'HTTP/localhost' }],
    });
    const keytab = await realm.keytab('HTTP/localhost');
    await realm.kinit(`alice@${REALM}`, PASSWORD);
    const mw = negotiateMiddleware({
      keytab,
      logger: { debug: (m: string) => rejections.push(m) },
    });
    server = createServer((req, res) => {
      mw(req as unknown as RequestLike, res, (err?: unknown) => {
        if (err) {
          res.statusCode = 500;
          res.end(String(err));
          return;
        }
        res.setHeader('Content-Type', 'text/plain');
        res.end(`hello ${(req as unknown as RequestLike).remoteUser}\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://localhost:${(server.address() as { port: number }).port}/`;
  });
  after(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await realm?.stop();
  });

  it('without credentials: 401 with WWW-Authenticate: Negotiate', async () => {
    const res = await fetch(url);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Negotiate');
  });

  it('curl --negotiate: 200 with the user exposed, and a mutual-auth token in the reply', async () => {
    const r = await run('curl', ['-sS', '-D', '-', '--negotiate', '-u', ':', url], { env: realm.env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200/m);
    assert.match(r.stdout, /^WWW-Authenticate: Negotiate [A-Za-z0-9+/=]+\r?$/im);
    assert.match(r.stdout, new RegExp(`hello alice@${REALM}`));
  });

  it('python requests-kerberos with mutual authentication REQUIRED: 200 and the AP-REP verified', async () => {
    const script = [
      'import sys, requests',
      'from requests_kerberos import HTTPKerberosAuth, REQUIRED',
      'r = requests.get(sys.argv[1], auth=HTTPKerberosAuth(mutual_authentication=REQUIRED))',
      'print(r.status_code)',
      'print(r.text.strip())',
    ].join('\n');
    const r = await run('/usr/bin/python3', ['-c', script, url], { env: realm.env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['200', `hello alice@${REALM}`]);
  });

  it('a garbage token is refused with 401 and one clear log line', async () => {
    const before = rejections.length;
    const res = await fetch(url, { headers: { Authorization: 'Negotiate YIIBAAAA' } });
    assert.equal(res.status, 401);
    const lines = rejections.slice(before).filter((l) => l.includes('rejected'));
    assert.equal(lines.length, 1);
    assert.doesNotMatch(lines[0] ?? '', /YIIBAAAA/);
  });
});
