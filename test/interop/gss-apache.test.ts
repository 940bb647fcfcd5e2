// Our SPNEGO initiator against Apache + mod_auth_gssapi (MIT's acceptor), in each AES realm:
// 200 with the AP-REP in the 200's WWW-Authenticate verified; with delegation, Apache's
// GssapiDelegCcacheDir receives a ccache whose forwarded TGT MIT kvno can use.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeNegotiationToken } from '../../src/asn1/index.js';
import { MutualAuthenticationError } from '../../src/errors.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { createInitiatorContext } from '../../src/spnego/index.js';
import { type Apache, skipUnlessApache, startApache } from './helpers/apache.js';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const REALMS = [
  { enctype: 17, name: 'aes128-cts-hmac-sha1-96' },
  { enctype: 18, name: 'aes256-cts-hmac-sha1-96' },
  { enctype: 19, name: 'aes128-cts-hmac-sha256-128' },
  { enctype: 20, name: 'aes256-cts-hmac-sha384-192' },
];

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

function serverToken(res: Response): Uint8Array | undefined {
  const h = res.headers.get('www-authenticate') ?? '';
  const m = /Negotiate\s+([A-Za-z0-9+/=]+)/i.exec(h);
  return m?.[1] ? new Uint8Array(Buffer.from(m[1], 'base64')) : undefined;
}

const skip = skipUnlessMit() || skipUnlessApache();

for (const r of REALMS) {
  describe(`our initiator → Apache mod_auth_gssapi, ${r.name} (${r.enctype})`, { skip }, () => {
    let realm: MitRealm;
    let apache: Apache;
    let creds: Credentials;
    const realmName = `APACHE${r.enctype}.TEST`;
    before(async () => {
      realm = await startMitRealm({
        realm: realmName,
        enctypes: [`${r.name}:normal`],
        principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'HTTP/localhost' }],
      });
      const kt = await realm.keytab('HTTP/localhost');
      apache = await startApache({ realm, keytab: kt, delegCcacheDir: true });
      await realm.kinit('alice', 'alice-pw');
      creds = await Credentials.fromCcache(realm.ccache, {
        config: await loadConfig({ files: [realm.krb5ConfPath] }),
      });
    });
    after(async () => {
      await apache?.stop();
      await realm?.stop();
    });

    it('gets 200 and verifies the AP-REP in the 200 WWW-Authenticate', async () => {
      const ctx = await createInitiatorContext({
        credentials: creds,
        target: 'HTTP@localhost',
        mutual: true,
      });
      const first = await ctx.step();
      assert.equal(first.complete, false);
      assert.ok(first.token);
      const res = await fetch(`${apache.url}/private/`, {
        headers: { Authorization: `Negotiate ${b64(first.token)}` },
      });
      assert.equal(res.status, 200, apache.errorLog().slice(-1500));
      assert.equal(res.headers.get('x-remote-user'), `alice@${realmName}`);
      assert.equal(await res.text(), 'private\n');
      const reply = serverToken(res);
      assert.ok(reply, 'Apache sent no token on the 200');
      const decoded = decodeNegotiationToken(reply);
      assert.equal(decoded.kind, 'resp');
      const done = await ctx.step(reply);
      assert.equal(done.complete, true);
      assert.equal(ctx.complete, true);
      assert.equal(ctx.mech, '1.2.840.113554.1.2.2');
    });

    it('refuses a modified AP-REP from the server with MutualAuthenticationError', async () => {
      const ctx = await createInitiatorContext({
        credentials: creds,
        target: 'HTTP/localhost',
        mutual: true,
      });
      const first = await ctx.step();
      const res = await fetch(`${apache.url}/echo`, {
        method: 'POST',
        body: 'x',
        headers: { Authorization: `Negotiate ${b64(first.token!)}` },
      });
      assert.equal(res.status, 200);
      assert.match(await res.text(), /^method=POST\nuser=alice@/);
      const reply = serverToken(res)!;
      const bad = reply.slice();
      bad[bad.length - 3] = (bad[bad.length - 3] ?? 0) ^ 0x40;
      await assert.rejects(ctx.step(bad), MutualAuthenticationError);
      assert.equal(ctx.complete, false);
    });

    it('delegates: Apache stores a forwarded TGT that MIT kvno can use', async () => {
      const ctx = await createInitiatorContext({
        credentials: creds,
        target: 'HTTP@localhost',
        mutual: true,
        delegate: true,
      });
      const first = await ctx.step();
      const res = await fetch(`${apache.url}/private/`, {
        headers: { Authorization: `Negotiate ${b64(first.token!)}` },
      });
      assert.equal(res.status, 200, apache.errorLog().slice(-1500));
      assert.equal((await ctx.step(serverToken(res))).complete, true);
      const dir = apache.delegCcacheDir;
      assert.ok(dir);
      const file = join(dir, `alice@${realmName}`);
      assert.ok(existsSync(file), `no delegated ccache in ${dir}: ${readdirSync(dir).join(', ')}`);
      const kvno = await realm.kvno('HTTP/localhost', `FILE:${file}`);
      assert.match(kvno.stdout, /HTTP\/localhost@.*kvno = \d+/);
      const list = await realm.klist(`FILE:${file}`, ['-f']);
      assert.match(list.stdout, new RegExp(`krbtgt/${realmName}@${realmName}`));
      assert.match(list.stdout, /Flags: [A-Za-z]*f/);
    });
  });
}
