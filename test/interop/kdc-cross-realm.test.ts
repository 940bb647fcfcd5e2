// Cross-realm against two real MIT KDCs sharing krbtgt/B.TEST@A.TEST (same password on both
// sides): a client of A reaches HTTP/svc.b.test@B.TEST (1) through the client's own
// [domain_realm] + [capaths], and (2) through a KDC referral, where only A's KDC maps the host
// to B (RFC 6806 §8). Both relays record who was asked what; the ticket is opened with B's
// service key to prove it is real; the cross-realm TGT is cached and reused.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeEncTicketPart, decodeTgsReq } from '../../src/asn1/index.js';
import { isConfigEntry, readCcache } from '../../src/ccache/ccache.js';
import { readKeytab } from '../../src/ccache/keytab.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { decrypt, makeKey } from '../../src/crypto/index.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { findBinary, freePort, type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';
import { messageName, type Relay, startRelay } from './helpers/relay.js';

const A = 'A.TEST';
const B = 'B.TEST';
const CROSS_PW = 'shared-cross-realm-password';
const ENCTYPES = ['aes256-cts-hmac-sha1-96:normal'];

/** The service names each realm's KDC was asked for in TGS-REQs since the last clear. */
function asked(r: MitRealm | Relay | undefined): string[] {
  const relay = r === undefined ? undefined : 'messages' in r ? r : r.relay;
  return (relay?.messages ?? [])
    .filter((m) => m.direction === 'request' && messageName(m.bytes) === 'TGS-REQ')
    .map((m) => {
      const body = decodeTgsReq(m.bytes).reqBody;
      return `${body.sname?.nameString.join('/')}@${body.realm}`;
    });
}

async function waitForListen(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the referral KDC did not listen on ${port}`);
}

describe('cross-realm A.TEST → B.TEST against two MIT KDCs', { skip: skipUnlessMit() }, () => {
  let a: MitRealm;
  let b: MitRealm;
  let serviceKeytab: string;
  let referralKdc: ChildProcess | undefined;
  let referralRelay: Relay | undefined;
  const conf = (name: string, extra: string, aPort = a.port): string => {
    const path = join(a.dir, name);
    writeFileSync(
      path,
      `[libdefaults]
  default_realm = ${A}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
[realms]
  ${A} = {
    kdc = 127.0.0.1:${aPort}
  }
  ${B} = {
    kdc = 127.0.0.1:${b.port}
  }
${extra}`,
    );
    return path;
  };

  before(async () => {
    [a, b] = await Promise.all([
      startMitRealm({
        realm: A,
        enctypes: ENCTYPES,
        principals: [{ name: 'alice', password: 'alice-pw' }],
        relay: true,
      }),
      startMitRealm({
        realm: B,
        enctypes: ENCTYPES,
        principals: [{ name: 'HTTP/svc.b.test' }, { name: 'HTTP/svc2.b.test' }],
        relay: true,
      }),
    ]);
    // The same password and the same (principal-derived) salt give both KDCs the same key.
    await a.addPrincipal(`krbtgt/${B}@${A}`, CROSS_PW);
    await b.addPrincipal(`krbtgt/${B}@${A}`, CROSS_PW);
    serviceKeytab = await b.keytab(`HTTP/svc.b.test@${B}`);
    // A second KDC for A over the same database whose profile maps the hosts to B: with
    // canonicalize it answers a request for them with a referral TGT. (MIT reads [domain_realm]
    // from its profile, kdc.conf included, at start; the first KDC of A keeps no mapping.)
    const kdcConf = join(a.dir, 'kdc-referral.conf');
    const port = await freePort();
    const base = readFileSync(a.kdcConfPath, 'utf8').replace(
      /kdc_tcp_listen = \S+/,
      `kdc_tcp_listen = 127.0.0.1:${port}`,
    );
    writeFileSync(kdcConf, `${base}[domain_realm]\n  svc.b.test = ${B}\n  svc2.b.test = ${B}\n`);
    const bin = findBinary('krb5kdc');
    assert.ok(bin);
    referralKdc = spawn(bin, ['-n', '-r', A, '-P', join(a.dir, 'referral.pid')], {
      env: { ...process.env, ...a.env, KRB5_KDC_PROFILE: kdcConf },
      stdio: 'ignore',
    });
    await waitForListen(port);
    referralRelay = await startRelay({ port });
  });
  after(async () => {
    await referralRelay?.close();
    if (referralKdc && referralKdc.exitCode === null) {
      const k = referralKdc;
      const exited = new Promise((r) => k.once('exit', r));
      k.kill('SIGTERM');
      await exited;
    }
    await Promise.all([a?.stop(), b?.stop()]);
  });

  async function checkTicket(t: Awaited<ReturnType<Credentials['getServiceTicket']>>): Promise<void> {
    assert.equal(unparsePrincipal(t.server), `HTTP/svc.b.test@${B}`);
    assert.equal(unparsePrincipal(t.client), `alice@${A}`);
    const kt = await readKeytab(serviceKeytab);
    const e = kt.entries.find((x) => x.key.keytype === t.ticket.encPart.etype);
    assert.ok(e);
    const part = decodeEncTicketPart(
      decrypt(makeKey(e.key.keytype, e.key.keyvalue), 2, t.ticket.encPart.cipher),
    );
    assert.equal(`${part.cname.nameString.join('/')}@${part.crealm}`, `alice@${A}`);
  }

  it('through the client [domain_realm] and [capaths]: A issues krbtgt/B@A, B the service ticket', async () => {
    const path = conf(
      'capaths.conf',
      `[domain_realm]\n  .b.test = ${B}\n[capaths]\n  ${A} = {\n    ${B} = .\n  }\n`,
    );
    const config = await loadConfig({ files: [path] });
    const creds = await Credentials.fromPassword(`alice@${A}`, 'alice-pw', { config });
    a.relay?.clear();
    b.relay?.clear();
    await checkTicket(await creds.getServiceTicket('HTTP/svc.b.test'));
    assert.deepEqual(asked(a), [`krbtgt/${B}@${A}`]);
    assert.deepEqual(asked(b), [`HTTP/svc.b.test@${B}`]);
    // The cross-realm TGT is cached: a second service of B costs B one request and A none.
    await creds.getServiceTicket('HTTP@svc2.b.test');
    assert.deepEqual(asked(a), [`krbtgt/${B}@${A}`]);
    assert.deepEqual(asked(b), [`HTTP/svc.b.test@${B}`, `HTTP/svc2.b.test@${B}`]);
    const servers = creds.toCcache().credentials.map((c) => unparsePrincipal(c.server));
    assert.ok(servers.includes(`krbtgt/${B}@${A}`));
  });

  it('through a KDC referral: the client maps nothing, A answers krbtgt/B@A for the host', async () => {
    const path = conf('referral.conf', '', referralRelay?.port);
    const config = await loadConfig({ files: [path] });
    const ccPath = join(a.dir, 'referral.ccache');
    await a.kinit('alice', 'alice-pw', `FILE:${ccPath}`);
    const creds = await Credentials.fromCcache(`FILE:${ccPath}`, { config });
    referralRelay?.clear();
    b.relay?.clear();
    await checkTicket(await creds.getServiceTicket('HTTP/svc.b.test'));
    // A was asked for the service in its own realm and referred us; B issued the ticket.
    assert.deepEqual(asked(referralRelay), [`HTTP/svc.b.test@${A}`]);
    assert.deepEqual(asked(b), [`HTTP/svc.b.test@${B}`]);
    // Written back as MIT does: the referral TGT and the service ticket, readable by MIT klist.
    const servers = (await readCcache(ccPath)).credentials
      .filter((c) => !isConfigEntry(c))
      .map((c) => unparsePrincipal(c.server));
    assert.ok(servers.includes(`krbtgt/${B}@${A}`), servers.join(', '));
    assert.ok(servers.includes(`HTTP/svc.b.test@${B}`), servers.join(', '));
    const list = await a.run('klist', ['-c', `FILE:${ccPath}`]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /HTTP\/svc\.b\.test@B\.TEST/);
    // As MIT's client, nothing maps the host locally, so a second host of B is referred by A again.
    await creds.getServiceTicket('HTTP/svc2.b.test');
    assert.deepEqual(asked(referralRelay), [`HTTP/svc.b.test@${A}`, `HTTP/svc2.b.test@${A}`]);
    assert.deepEqual(asked(b), [`HTTP/svc.b.test@${B}`, `HTTP/svc2.b.test@${B}`]);
  });
});
