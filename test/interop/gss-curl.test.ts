// MIT's initiator (curl --negotiate, built on MIT GSS-API) → our SPNEGO acceptor in a small
// node:http server: 200 with our AP-REP (curl ignores the token on a 200, so
// gss-python.test.ts proves MIT verifies it), and with
// `--delegation always` the delegated TGT obtains a service ticket from the KDC.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { readKeytab } from '../../src/ccache/keytab.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import type { Krb5Config } from '../../src/krb5/config.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { createAcceptorContext } from '../../src/spnego/index.js';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const REALM = 'CURL.TEST';

interface Seen {
  user?: string;
  delegatedTicket?: string;
  error?: string;
}

describe('curl --negotiate (MIT initiator) → our acceptor', { skip: skipUnlessMit() }, () => {
  let realm: MitRealm;
  let server: Server;
  let port: number;
  let config: Krb5Config;
  let seen: Seen = {};

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha384-192:normal', 'aes256-cts-hmac-sha1-96:normal'],
      principals: [
        { name: 'alice', password: 'alice-pw' },
        { name: 'HTTP/localhost' },
        { name: 'HTTP/backend' },
      ],
    });
    const keytab = await readKeytab(await realm.keytab('HTTP/localhost'));
    config = await loadConfig({ files: [realm.krb5ConfPath] });
    server = createServer((req, res) => {
      const auth = req.headers.authorization;
      const m = auth ? /^Negotiate\s+(\S+)$/i.exec(auth) : null;
      if (!m?.[1]) {
        res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end();
        return;
      }
      const ctx = createAcceptorContext({ keytab, principal: `HTTP/localhost@${REALM}`, config });
      ctx
        .step(new Uint8Array(Buffer.from(m[1], 'base64')))
        .then(async (out) => {
          const r = ctx.result();
          seen.user = unparsePrincipal(r.client);
          if (r.delegated) {
            const t = await r.delegated.getServiceTicket(`HTTP/backend@${REALM}`);
            seen.delegatedTicket = unparsePrincipal(t.server);
          }
          const token = out.token ? Buffer.from(out.token) : undefined;
          res
            .writeHead(200, token ? { 'WWW-Authenticate': `Negotiate ${token.toString('base64')}` } : {})
            .end(`hello ${seen.user}\n`);
        })
        .catch((e: unknown) => {
          seen.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
          res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const a = server.address();
    port = a !== null && typeof a === 'object' ? a.port : 0;
    await realm.kinit('alice', 'alice-pw', realm.ccache, ['-f']);
  });
  after(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await realm?.stop();
  });

  const curl = (args: string[]) =>
    realm.run('curl', ['-sS', '--fail', '--negotiate', '-u', ':', ...args, `http://localhost:${port}/`]);

  it('authenticates alice and answers with our AP-REP', async () => {
    seen = {};
    const r = await curl([]);
    assert.equal(r.code, 0, `${r.stderr} ${seen.error ?? ''}`);
    assert.equal(r.stdout, `hello alice@${REALM}\n`);
    assert.equal(seen.delegatedTicket, undefined);
  });

  it('with --delegation always, the delegated TGT gets a service ticket from the KDC', async () => {
    seen = {};
    const r = await curl(['--delegation', 'always']);
    assert.equal(r.code, 0, `${r.stderr} ${seen.error ?? ''}`);
    assert.equal(seen.delegatedTicket, `HTTP/backend@${REALM}`);
  });
});
