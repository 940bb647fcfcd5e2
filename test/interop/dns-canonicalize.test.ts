// Host-name canonicalization as MIT does it (krb5.conf dns_canonicalize_hostname true | false |
// fallback, rdns), against MIT's own client on the same krb5.conf and the same DNS: dnsmasq on a
// loopback address serves alias.canon.test CNAME web.canon.test (A 127.0.53.77) and the PTR
// 127.0.53.77 → rev.canon.test. MIT uses the system resolver, so kvno runs in a mount namespace
// (unshare -m) whose /etc/resolv.conf names that server; we ask it through createDnsResolver, and
// through the system resolver in the same kind of namespace (helpers/canon-probe.ts).
// For each setting, `HTTP@alias.canon.test` must become the same service principal on both
// sides (or fail the same way).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { KerberosError } from '../../src/errors.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { createDnsResolver } from '../../src/runtime/dns.js';
import { type MitRealm, run, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const DNSMASQ = '/usr/sbin/dnsmasq';
const isCi = process.env['CI'] === 'true';
function skipUnlessDnsmasq(): string | false {
  if (isCi) return false;
  if (!existsSync(DNSMASQ)) return 'no dnsmasq (apt-get install dnsmasq)';
  if (process.getuid?.() !== 0) return 'needs root (port 53 on loopback, unshare -m for MIT)';
  return false;
}

// A loopback address of our own for the DNS server (port 53: resolv.conf cannot name a port).
const DNS_ADDR = `127.0.53.${10 + (process.pid % 200)}`;
const WEB_ADDR = '127.0.53.77';

describe('dns_canonicalize_hostname and rdns: ours and MIT kvno on the same krb5.conf and DNS', {
  skip: skipUnlessMit() || skipUnlessDnsmasq(),
}, () => {
  let realm: MitRealm;
  let dnsmasq: ChildProcess;
  let resolvConf: string;

  before(async () => {
    realm = await startMitRealm({
      realm: 'CANON.TEST',
      enctypes: ['aes256-cts-hmac-sha1-96:normal'],
      principals: [
        { name: 'alice', password: 'alice-pw' },
        { name: 'HTTP/web.canon.test' },
        { name: 'HTTP/rev.canon.test' },
      ],
    });
    dnsmasq = spawn(
      DNSMASQ,
      [
        '--keep-in-foreground',
        '--no-resolv',
        '--no-hosts',
        '--no-poll',
        '--conf-file=/dev/null',
        '--bind-interfaces',
        `--listen-address=${DNS_ADDR}`,
        '--port=53',
        `--pid-file=${join(realm.dir, 'dnsmasq.pid')}`,
        '--user=root',
        '--cname=alias.canon.test,web.canon.test',
        `--host-record=web.canon.test,${WEB_ADDR}`,
        `--ptr-record=${WEB_ADDR.split('.').reverse().join('.')}.in-addr.arpa,rev.canon.test`,
      ],
      { stdio: 'ignore' },
    );
    resolvConf = join(realm.dir, 'resolv.conf');
    writeFileSync(resolvConf, `nameserver ${DNS_ADDR}\noptions timeout:1 attempts:1\n`);
    // Wait for dnsmasq to answer.
    const dns = createDnsResolver({ servers: [DNS_ADDR] });
    for (let i = 0; i < 50; i++) {
      if ((await dns.canonicalHost?.('alias.canon.test', false)) === 'web.canon.test') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await realm.kinit('alice', 'alice-pw', realm.ccache);
  });
  after(async () => {
    if (dnsmasq && dnsmasq.exitCode === null) dnsmasq.kill('SIGTERM');
    await realm?.stop();
  });

  /** MIT: kvno -S HTTP alias.canon.test inside a namespace whose resolv.conf is ours. */
  async function mit(conf: string, ccache: string): Promise<string> {
    const script = `mount --bind "$RESOLV" /etc/resolv.conf && exec kvno -S HTTP alias.canon.test`;
    const r = await run('unshare', ['-m', 'sh', '-c', script], {
      env: { ...realm.env, KRB5_CONFIG: conf, KRB5CCNAME: ccache, RESOLV: resolvConf },
    });
    if (r.code !== 0) return `error: ${r.stderr.trim()}`;
    // The service ticket MIT stored: its server name is the one the KDC issued it for.
    const k = await run('klist', ['-c', ccache], { env: realm.env });
    // (MIT also keeps the entry under the referral name, realm empty: not the issued name.)
    const names = [...k.stdout.matchAll(/\s(HTTP\/\S+@[A-Z.]+)\s*$/gm)].map((x) => x[1]);
    return names.join(',') || `unparsed: ${r.stdout} ${k.stdout}`;
  }

  async function ours(conf: string, ccache: string): Promise<string> {
    const creds = await Credentials.fromCcache(ccache, {
      config: await loadConfig({ files: [conf] }),
      dns: createDnsResolver({ servers: [DNS_ADDR] }),
      writeBack: false,
    });
    try {
      return unparsePrincipal((await creds.getServiceTicket('HTTP@alias.canon.test')).server);
    } catch (e) {
      if (e instanceof KerberosError) return `error: ${e.errorName}`;
      throw e;
    }
  }

  /** Ours with the system resolver, in the same kind of namespace as MIT. */
  async function oursSystem(conf: string, ccache: string): Promise<string> {
    const probe = join(import.meta.dirname, 'helpers', 'canon-probe.ts');
    const script = `mount --bind "$RESOLV" /etc/resolv.conf && exec "$NODE" --import tsx "$PROBE" HTTP@alias.canon.test`;
    const r = await run('unshare', ['-m', 'sh', '-c', script], {
      env: {
        ...realm.env,
        KRB5_CONFIG: conf,
        KRB5CCNAME: ccache,
        RESOLV: resolvConf,
        NODE: process.execPath,
        PROBE: probe,
      },
      cwd: join(import.meta.dirname, '..', '..'),
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  }

  for (const [canon, rdns, want] of [
    ['true', 'false', 'HTTP/web.canon.test@CANON.TEST'],
    ['true', 'true', 'HTTP/rev.canon.test@CANON.TEST'],
    ['fallback', 'false', 'HTTP/web.canon.test@CANON.TEST'],
    ['false', 'false', 'error'],
  ] as const) {
    it(`dns_canonicalize_hostname = ${canon}, rdns = ${rdns}: ${want}`, async () => {
      const conf = join(realm.dir, `krb5-${canon}-${rdns}.conf`);
      realm.writeKrb5Conf(conf, realm.port, { dns_canonicalize_hostname: canon, rdns });
      // Each side from a fresh copy of alice's TGT: no service ticket cached from another case.
      const mitCache = join(realm.dir, `mit-${canon}-${rdns}.cc`);
      const ourCache = join(realm.dir, `ours-${canon}-${rdns}.cc`);
      await realm.kinit('alice', 'alice-pw', `FILE:${mitCache}`);
      await realm.kinit('alice', 'alice-pw', `FILE:${ourCache}`);
      const sysCache = join(realm.dir, `sys-${canon}-${rdns}.cc`);
      await realm.kinit('alice', 'alice-pw', `FILE:${sysCache}`);
      const theirs = await mit(conf, `FILE:${mitCache}`);
      const mine = await ours(conf, `FILE:${ourCache}`);
      const system = await oursSystem(conf, `FILE:${sysCache}`);
      if (want === 'error') {
        assert.match(theirs, /^error: .*not found in Kerberos database/i, theirs);
        assert.equal(mine, 'error: KDC_ERR_S_PRINCIPAL_UNKNOWN');
        assert.equal(system, 'error: KDC_ERR_S_PRINCIPAL_UNKNOWN');
      } else {
        assert.equal(theirs, want);
        assert.equal(mine, want);
        assert.equal(system, want, 'ours through the system resolver');
      }
    });
  }
});
