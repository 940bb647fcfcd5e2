// Issue 7 acceptance, MIT side of our own KDC and server: MIT `kinit` gets a TGT from MiniKdc
// (password on stdin), then MIT-based clients — `curl --negotiate` and Debian's
// python3-requests-kerberos with mutual authentication REQUIRED — call negotiateMiddleware on
// node:http holding MiniKdc's keytab. Nothing but MiniKdc plays the KDC: if MIT's initiator
// accepts our AP-REP for a ticket MiniKdc issued, the three pieces interoperate on the wire.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { negotiateFetch, REQUIRED } from '../../src/http/index.js';
import { negotiateMiddleware, type RequestLike } from '../../src/server/index.js';
import { MiniKdc } from '../../src/testing/index.js';
import { run, skipUnlessMit } from './helpers/mit-realm.js';

const REALM = 'MKS.TEST';
const PASSWORD = 'minikdc-server-pw';

describe('MIT clients, tickets from MiniKdc, our negotiateMiddleware', { skip: skipUnlessMit() }, () => {
  let kdc: MiniKdc;
  let dir: string;
  let env: Record<string, string>;
  let front: Server;
  let backend: Server;
  let url: string;
  let backendUrl: string;

  const listen = async (s: Server): Promise<number> => {
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return (s.address() as { port: number }).port;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'minikdc-server-'));
    kdc = await MiniKdc.start({
      realm: REALM,
      principals: [{ name: 'alice', password: PASSWORD }, 'HTTP/localhost', 'HTTP/backend.localhost'],
    });
    const config = kdc.clientConfig();
    env = {
      KRB5_CONFIG: await kdc.writeKrb5Conf(join(dir, 'krb5.conf')),
      KRB5CCNAME: `FILE:${join(dir, 'ccache')}`,
    };

    const backMw = negotiateMiddleware({ keytab: kdc.keytabFor('HTTP/backend.localhost') });
    backend = createServer((req, res) => {
      backMw(req as unknown as RequestLike, res, () =>
        res.end(`backend ${(req as unknown as RequestLike).remoteUser}`),
      );
    });
    backendUrl = `http://127.0.0.1:${await listen(backend)}/`;

    // `config` lets delegated credentials reach MiniKdc when the front end calls the back-end.
    const mw = negotiateMiddleware({ keytab: kdc.keytabFor('HTTP/localhost'), config });
    front = createServer((req, res) => {
      const r = req as unknown as RequestLike;
      mw(r, res, (err?: unknown) => {
        if (err) {
          res.statusCode = 500;
          res.end(String(err));
          return;
        }
        const delegated = r.negotiate?.delegated;
        if (!delegated) {
          res.end(`hello ${r.remoteUser}\n`);
          return;
        }
        negotiateFetch({
          credentials: delegated,
          mutualAuthentication: REQUIRED,
          targetName: 'HTTP@backend.localhost',
        })(backendUrl)
          .then(async (b) => res.end(`hello ${r.remoteUser}, ${b.status} ${await b.text()}\n`))
          .catch((e: unknown) => {
            res.statusCode = 502;
            res.end(String(e));
          });
      });
    });
    // The host name matters: curl and requests-kerberos ask for HTTP/<url host>.
    url = `http://localhost:${await listen(front)}/`;
  });

  after(async () => {
    for (const s of [front, backend]) {
      s?.closeAllConnections();
      await new Promise((resolve) => (s ? s.close(resolve) : resolve(undefined)));
    }
    await kdc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('MIT kinit with the password on stdin gets a TGT from MiniKdc', async () => {
    const k = await run('kinit', [`alice@${REALM}`], { env, input: `${PASSWORD}\n` });
    assert.equal(k.code, 0, k.stderr);
    const l = await run('klist', ['-f'], { env });
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, new RegExp(`Default principal: alice@${REALM}`));
    assert.match(l.stdout, new RegExp(`krbtgt/${REALM}@${REALM}`));
    assert.ok(kdc.count('AS-REQ', { succeeded: true }) >= 1);
  });

  it('curl --negotiate: 200, the principal exposed, and an AP-REP in the reply', async () => {
    const r = await run('curl', ['-sS', '-D', '-', '--negotiate', '-u', ':', url], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200/m);
    assert.match(r.stdout, /^WWW-Authenticate: Negotiate [A-Za-z0-9+/=]+\r?$/im);
    assert.match(r.stdout, new RegExp(`^hello alice@${REALM}$`, 'm'));
    // The service ticket curl presented was issued by MiniKdc's TGS.
    assert.ok(
      kdc.requests.some(
        (q) => q.type === 'TGS-REQ' && q.server?.startsWith('HTTP/localhost') && !q.errorCode,
      ),
    );
  });

  it('python3-requests-kerberos, mutual authentication REQUIRED: 200 and the AP-REP verified', async () => {
    const script = [
      'import sys, requests',
      'from requests_kerberos import HTTPKerberosAuth, REQUIRED',
      'r = requests.get(sys.argv[1], auth=HTTPKerberosAuth(mutual_authentication=REQUIRED))',
      'print(r.status_code)',
      'print(r.text.strip())',
    ].join('\n');
    const r = await run('/usr/bin/python3', ['-c', script, url], { env });
    // requests-kerberos raises MutualAuthenticationError (non-zero exit) if our AP-REP fails.
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['200', `hello alice@${REALM}`]);
  });

  it('curl --delegation always: the server uses the TGT to reach a second service as alice', async () => {
    const r = await run('curl', ['-sS', '--negotiate', '-u', ':', '--delegation', 'always', url], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `hello alice@${REALM}, 200 backend alice@${REALM}`);
  });
});
