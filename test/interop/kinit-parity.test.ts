// `spnego kinit` against MIT's kinit on the same krb5.conf and KDC: for each option set (-l, -r,
// -f/-F, -p/-P, -S, -k -t, -i, -R, -c) both write a cache, and the tickets must match as MIT's
// klist -f shows them: the same server, the same flags (FRI where MIT gets FRI), and the same
// lifetime and renewable lifetime (to the second or two the runs are apart).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isConfigEntry, readCcache } from '../../src/ccache/ccache.js';
import { flagLetters } from '../../src/ccache/flags.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { kinitCommand } from '../../src/cli/kinit.js';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const REALM = 'KP.TEST';
const PASSWORD = 'kinit-parity-pw';

interface Seen {
  server: string;
  flags: string;
  life: number;
  renew: number;
  /** MIT klist -f's flags for the ticket. */
  mitFlags: string;
}

describe('spnego kinit vs MIT kinit, same krb5.conf', { skip: skipUnlessMit() }, () => {
  let realm: MitRealm;
  let keytab: string;
  let n = 0;

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal'],
      principals: [{ name: 'alice', password: PASSWORD }, { name: 'HTTP/web.kp.test' }],
      // MIT's default forwardable = false; renew_lifetime unset: RENEWABLE_OK decides R.
      libdefaults: { forwardable: 'false' },
    });
    keytab = await realm.keytab(`alice@${REALM}`);
  });
  after(async () => {
    await realm?.stop();
  });

  async function ours(argv: string[], env: Record<string, string> = {}): Promise<void> {
    let err = '';
    const all = { ...realm.env, ...env };
    const code = await kinitCommand(argv, {
      stdout: () => undefined,
      stderr: (t) => {
        err += t;
      },
      env: (name) => (name in all ? all[name] : name.startsWith('KRB5') ? undefined : process.env[name]),
      readPassword: async () => PASSWORD,
    });
    assert.equal(code, 0, `spnego kinit ${argv.join(' ')}: ${err}`);
  }

  async function mit(argv: string[], env: Record<string, string> = {}): Promise<void> {
    const r = await realm.run('kinit', argv, { input: `${PASSWORD}\n`, env });
    assert.equal(r.code, 0, `kinit ${argv.join(' ')}: ${r.stderr}`);
  }

  async function seen(cc: string): Promise<Seen> {
    const creds = (await readCcache(cc)).credentials.filter((c) => !isConfigEntry(c));
    assert.equal(creds.length, 1, creds.map((c) => unparsePrincipal(c.server)).join());
    const c = creds[0] as (typeof creds)[number];
    const list = await realm.run('klist', ['-f', '-c', `FILE:${cc}`]);
    return {
      server: unparsePrincipal(c.server),
      flags: flagLetters(c.flags),
      life: c.endTime - c.startTime,
      renew: c.renewTill === 0 ? 0 : c.renewTill - c.startTime,
      mitFlags: /Flags: (\S+)/.exec(list.stdout)?.[1] ?? '',
    };
  }

  /** Runs MIT's kinit and ours with `args` (each into its own cache) and compares the tickets. */
  async function compare(args: string[], principal: string[] = ['alice'], env: Record<string, string> = {}) {
    const a = join(realm.dir, `mit-${++n}.cc`);
    const b = join(realm.dir, `ours-${n}.cc`);
    await mit(['-c', `FILE:${a}`, ...args, ...principal], env);
    await ours(['-c', `FILE:${b}`, ...args, ...principal], env);
    const m = await seen(a);
    const o = await seen(b);
    const label = `kinit ${args.join(' ')}`;
    assert.equal(o.server, m.server, label);
    assert.equal(o.flags, m.flags, label);
    assert.equal(o.mitFlags, m.mitFlags, label);
    assert.ok(Math.abs(o.life - m.life) <= 2, `${label}: life ${o.life} vs MIT ${m.life}`);
    assert.ok(Math.abs(o.renew - m.renew) <= 2, `${label}: renew ${o.renew} vs MIT ${m.renew}`);
    return { mit: m, ours: o, a, b };
  }

  it('defaults: 24h asked of a 10h realm, RENEWABLE_OK gives R (MIT: RIA, with -f FRIA)', async () => {
    const { mit: m } = await compare([]);
    assert.match(m.flags, /R/);
    const f = await compare(['-f']);
    assert.equal(f.mit.mitFlags, 'FRIA');
  });

  it('-l 1h (no R: within the realm limit), -l 2h -r 3d (R for 3 days)', async () => {
    const l = await compare(['-l', '1h']);
    assert.equal(l.mit.life, 3600);
    assert.doesNotMatch(l.mit.flags, /R/);
    const r = await compare(['-l', '2h', '-r', '3d']);
    assert.equal(r.mit.renew, 3 * 86_400);
  });

  it('-f, -F, -p, -P', async () => {
    assert.match((await compare(['-f'])).mit.flags, /F/);
    assert.doesNotMatch((await compare(['-F'])).mit.flags, /F/);
    assert.match((await compare(['-p'])).mit.flags, /P/);
    assert.doesNotMatch((await compare(['-P'])).mit.flags, /P/);
  });

  it('-S SERVICE: an initial ticket for the service', async () => {
    const s = await compare(['-S', `HTTP/web.kp.test@${REALM}`]);
    assert.equal(s.mit.server, `HTTP/web.kp.test@${REALM}`);
  });

  it('-k -t KEYTAB and -i (KRB5_CLIENT_KTNAME)', async () => {
    await compare(['-k', '-t', keytab]);
    await compare(['-i'], ['alice'], { KRB5_CLIENT_KTNAME: `FILE:${keytab}` });
  });

  it('-R renews the TGT in the cache, both keep only the renewed TGT', async () => {
    const { a, b } = await compare(['-f', '-l', '1h', '-r', '2d']);
    // Each renews its own cache with its own tool.
    await mit(['-R', '-c', `FILE:${a}`]);
    await ours(['-R', '-c', `FILE:${b}`]);
    const m = await seen(a);
    const o = await seen(b);
    assert.equal(o.flags, m.flags);
    assert.equal(o.mitFlags, m.mitFlags);
    assert.ok(Math.abs(o.life - m.life) <= 2, `life ${o.life} vs ${m.life}`);
    assert.ok(Math.abs(o.renew - m.renew) <= 2, `renew ${o.renew} vs ${m.renew}`);
  });
});
