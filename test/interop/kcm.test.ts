// KCM: caches against both real daemons — sssd-kcm (the default on Fedora and RHEL) and
// Heimdal's kcm — with a real MIT KDC, MIT's own client tools and Apache mod_auth_gssapi:
// MIT kinit into KCM, then our klist and negotiateFetch (whose new service ticket MIT klist
// then finds in the cache, stored as MIT's client stores it); our kinit of a second principal
// into the collection, read by MIT klist -l and klist; our kdestroy -A, seen by MIT klist -l.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CliIo } from '../../src/cli/ccache-name.js';
import { kdestroyCommand } from '../../src/cli/kdestroy.js';
import { kinitCommand } from '../../src/cli/kinit.js';
import { klistCommand } from '../../src/cli/klist.js';
import { negotiateFetch } from '../../src/index.js';
import { type Apache, skipUnlessApache, startApache } from './helpers/apache.js';
import { type KcmDaemonHandle, type KcmKind, skipUnlessKcm, startKcm } from './helpers/kcm.js';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

for (const kind of ['sssd', 'heimdal'] as KcmKind[]) {
  const REALM = `KCM${kind.toUpperCase()}.TEST`;
  const skip = skipUnlessMit() || skipUnlessApache() || skipUnlessKcm(kind);

  describe(`KCM caches on ${kind === 'sssd' ? 'sssd-kcm' : "Heimdal's kcm"} with MIT's tools and Apache`, {
    skip,
  }, () => {
    let realm: MitRealm;
    let apache: Apache;
    let kcm: KcmDaemonHandle;
    let conf: string;
    const saved: Record<string, string | undefined> = {};
    // MIT's tools, pointed at the KCM collection.
    const mit = (cmd: string, args: string[], input?: string) =>
      realm.run(cmd, args, { env: { KRB5_CONFIG: conf, KRB5CCNAME: 'KCM:' }, ...(input ? { input } : {}) });
    const io = (): CliIo & { out: () => string; err: () => string } => {
      const out: string[] = [];
      const err: string[] = [];
      const env: Record<string, string> = { KRB5_CONFIG: conf, KRB5CCNAME: 'KCM:' };
      return {
        stdout: (t) => out.push(t),
        stderr: (t) => err.push(t),
        env: (n) => env[n],
        out: () => out.join(''),
        err: () => err.join(''),
      };
    };

    before(async () => {
      kcm = await startKcm(kind);
      realm = await startMitRealm({
        realm: REALM,
        enctypes: ['aes256-cts-hmac-sha1-96:normal'],
        principals: [
          { name: 'alice', password: 'alice-pw' },
          { name: 'bob', password: 'bob-pw' },
          { name: 'HTTP/localhost' },
        ],
      });
      conf = join(realm.dir, 'krb5-kcm.conf');
      realm.writeKrb5Conf(conf, realm.port, { default_ccache_name: 'KCM:', kcm_socket: kcm.socketPath });
      apache = await startApache({ realm, keytab: await realm.keytab('HTTP/localhost') });
      for (const k of ['KRB5_CONFIG', 'KRB5CCNAME', 'KRB5_CLIENT_KTNAME']) saved[k] = process.env[k];
      process.env['KRB5_CONFIG'] = conf;
      delete process.env['KRB5CCNAME'];
      delete process.env['KRB5_CLIENT_KTNAME'];
    });
    after(async () => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await apache?.stop();
      await realm?.stop();
      await kcm?.stop();
    });

    it('MIT kinit into KCM: our klist reads the cache', async () => {
      const k = await mit('kinit', [`alice@${REALM}`], 'alice-pw\n');
      assert.equal(k.code, 0, `${k.stderr}\n${kcm.output()}`);
      const out = io();
      assert.equal(await klistCommand([], out), 0, out.err());
      assert.match(out.out(), /^Ticket cache: KCM:\S+\nDefault principal: alice@/);
      assert.match(out.out(), new RegExp(`krbtgt/${REALM}@${REALM}`));
    });

    it('negotiateFetch with the default credentials authenticates from KCM; MIT klist sees the stored ticket', async () => {
      const res = await negotiateFetch()(`${apache.url}/private/`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'private\n');
      const l = await mit('klist', []);
      assert.equal(l.code, 0, l.stderr);
      assert.match(l.stdout, new RegExp(`HTTP/localhost@${REALM}`), 'our write-back, read by MIT');
      // MIT's own client then uses the ticket we stored without asking the KDC.
      const v = await mit('kvno', [`HTTP/localhost@${REALM}`]);
      assert.equal(v.code, 0, v.stderr);
    });

    it('our kinit of a second principal joins the collection; MIT klist -l and klist read it', async () => {
      const out = io();
      const code = await kinitCommand([`bob@${REALM}`], { ...out, readPassword: async () => 'bob-pw' });
      assert.equal(code, 0, out.err());
      const l = await mit('klist', ['-l']);
      assert.equal(l.code, 0, l.stderr);
      assert.match(l.stdout, new RegExp(`bob@${REALM} +KCM:`));
      assert.match(l.stdout, new RegExp(`alice@${REALM} +KCM:`));
      const primary = await mit('klist', []);
      assert.match(
        primary.stdout,
        new RegExp(`Default principal: bob@${REALM}`),
        'kinit switched the primary',
      );
      assert.match(primary.stdout, new RegExp(`krbtgt/${REALM}@${REALM}`));
      const ours = io();
      assert.equal(await klistCommand(['-l'], ours), 0);
      assert.equal(ours.out().trim().split('\n').length, 4, ours.out());
    });

    it('our kdestroy -A empties the collection, as MIT klist -l sees it', async () => {
      const out = io();
      assert.equal(await kdestroyCommand(['-A'], out), 0, out.err());
      const l = await mit('klist', ['-l']);
      assert.doesNotMatch(l.stdout, /@/);
    });
  });
}
