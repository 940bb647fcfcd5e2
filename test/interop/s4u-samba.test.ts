// Constrained delegation as an AD shop sets it up, against a Samba AD DC (Heimdal KDC), with
// MIT's client (`kvno -U -P`) as the reference and our middleware as the back end:
// - svc-front has protocol transition and msDS-AllowedToDelegateTo = HTTP/back: S4U2Self then
//   S4U2Proxy gets a ticket to HTTP/back for alice, and the back end sees alice;
// - a user who authenticated to the front end with Negotiate: the front end calls the back end
//   as the user from the ticket it received (req.negotiate.impersonate), with alice's krb5.conf
//   not saying `forwardable` (her service ticket is forwardable because her TGT is);
// - svc-rbcd (no protocol transition) and svc-rbcdpt (with it) are in HTTP/back2's
//   msDS-AllowedToActOnBehalfOfOtherIdentity (resource-based): the KDC answers our S4U2Proxy as it
//   answers MIT's `kvno -U -P`, for the reason it logs. Debian 12's Samba 4.17 runs the Heimdal
//   KDC, which has no RBCD (4.19 brings it): it refuses both, each for its reason (MiniKdc, which
//   has RBCD, is the positive case: s4u-rbcd.test.ts);
// - AD parity on the way: the front end's keytab holds the account name (svc-front), the
//   tickets name its SPN; PA-FOR-USER's HMAC-MD5 is keyed with the AES session key; RENEWABLE_OK.
// One provisioning per suite (the slow part), accounts made in one samba-tool process.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isConfigEntry, readCcache } from '../../src/ccache/ccache.js';
import { TicketFlag } from '../../src/ccache/flags.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { KerberosError } from '../../src/errors.js';
import { negotiateFetch } from '../../src/http/index.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { createAcceptor, negotiateMiddleware, type RequestLike } from '../../src/server/index.js';
import { createInitiatorContext } from '../../src/spnego/index.js';
import { startGssPeer, toB64 } from './helpers/gss-peer.js';
import { findBinary, run } from './helpers/mit-realm.js';
import { type SambaAd, skipUnlessSamba, startSambaAd } from './helpers/samba-ad.js';

const REALM = 'SAMDOM.TEST';

/** Which KDC this Samba runs (smbd -b lists SAMBA4_USES_HEIMDAL for the Heimdal build), and its version. */
function sambaKdc(): { version: string; flavour: 'Heimdal' | 'MIT'; below419: boolean } {
  const version =
    /Version (\S+)/.exec(execFileSync(findBinary('samba') ?? 'samba', ['-V'], { encoding: 'utf8' }))?.[1] ??
    '?';
  const build = execFileSync(findBinary('smbd') ?? 'smbd', ['-b'], { encoding: 'utf8' });
  const [major = 0, minor = 0] = version.split('.').map((x) => Number.parseInt(x, 10));
  return {
    version,
    flavour: build.includes('SAMBA4_USES_HEIMDAL') ? 'Heimdal' : 'MIT',
    below419: major < 4 || (major === 4 && minor < 19),
  };
}
const ALICE_PW = 'Al1ce-Passw0rd!';
const FRONT = 'HTTP/front.samdom.test';
const BACK = 'HTTP/back.samdom.test';
const BACK2 = 'HTTP/back2.samdom.test';
/** More SPNs of svc-back's account: tickets for them are under the same account key. */
const ALIASES = ['HTTP/alias.samdom.test', 'HTTP/back.samdom.test:8443'];

describe('S4U against a Samba AD DC', { skip: skipUnlessSamba(), timeout: 600_000 }, () => {
  let ad: SambaAd;
  const kt = (name: string): string => join(ad.dir, `${name}.keytab`);
  let backServer: Server;
  let backUrl: string;
  let back2Server: Server;
  let back2Url: string;

  const serve = async (
    keytab: string,
    handler: (req: RequestLike, res: ServerResponse) => Promise<void>,
  ): Promise<{ server: Server; url: string }> => {
    const mw = negotiateMiddleware({ keytab, config: await loadConfig({ files: [ad.krb5ConfPath] }) });
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const r = req as unknown as RequestLike;
      mw(r, res, () => {
        handler(r, res).catch((e: unknown) => {
          res.statusCode = 500;
          res.end(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` };
  };

  before(async () => {
    ad = await startSambaAd({
      realm: REALM,
      // The KDC's own reasons (Heimdal's kdc_log) reach the log at class kerberos, level 3.
      options: ['log level=1 kerberos:3'],
      setup: [
        ['user', 'create', 'alice', ALICE_PW],
        ['user', 'create', 'svc-front', 'Fr0nt-Passw0rd!x'],
        ['spn', 'add', FRONT, 'svc-front'],
        ['delegation', 'for-any-protocol', 'svc-front', 'on'],
        ['delegation', 'add-service', 'svc-front', BACK],
        ['user', 'create', 'svc-back', 'B4ck-Passw0rd!x'],
        ['spn', 'add', BACK, 'svc-back'],
        ...ALIASES.map((a) => ['spn', 'add', a, 'svc-back']),
        ['user', 'create', 'svc-rbcd', 'Rbcd-Passw0rd!x'],
        ['spn', 'add', 'HTTP/rbcd.samdom.test', 'svc-rbcd'],
        ['user', 'create', 'svc-back2', 'B4ck2-Passw0rd!x'],
        ['spn', 'add', BACK2, 'svc-back2'],
        // The same with protocol transition: its S4U2Self evidence is forwardable.
        ['user', 'create', 'svc-rbcdpt', 'Rbcd-Passw0rd!y'],
        ['spn', 'add', 'HTTP/rbcdpt.samdom.test', 'svc-rbcdpt'],
        ['delegation', 'for-any-protocol', 'svc-rbcdpt', 'on'],
        ['delegation', 'add-principal', 'svc-back2', 'svc-rbcd'],
        ['delegation', 'add-principal', 'svc-back2', 'svc-rbcdpt'],
        // Keytabs as an admin exports them: the front end's under its account name.
        ...[
          ['svc-front', 'svc-front'],
          ['svc-rbcd', 'svc-rbcd'],
          ['svc-rbcdpt', 'svc-rbcdpt'],
          ['back', BACK],
          ['back2', BACK2],
        ].map(([file, p]) => ['domain', 'exportkeytab', `{dir}/${file}.keytab`, `--principal=${p}`]),
      ],
    });
    ({ server: backServer, url: backUrl } = await serve(kt('back'), async (req, res) => {
      res.end(`back sees ${req.remoteUser}`);
    }));
    ({ server: back2Server, url: back2Url } = await serve(kt('back2'), async (req, res) => {
      res.end(`back2 sees ${req.remoteUser}`);
    }));
  });
  after(async () => {
    for (const s of [backServer, back2Server]) {
      s?.closeAllConnections();
      await new Promise((r) => (s ? s.close(r) : r(undefined)));
    }
    await ad?.stop();
  });

  const config = () => loadConfig({ files: [ad.krb5ConfPath] });
  const service = async (account: string) =>
    Credentials.fromKeytab(`${account}@${REALM}`, kt(account), { config: await config() });

  const kdcLog = (): string => readFileSync(ad.logPath, 'utf8');
  /**
   * The KDC's verdict on the next S4U2Proxy request by `account` for HTTP/back2 logged after
   * `mark`: "SUCCESS", or the error and its audit reason ("ERR_BADOPTION: <reason>").
   */
  async function proxyAnswer(mark: number, account: string): Promise<string> {
    const esc = (x: string): string => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(
      `TGS-REQ (\\S+) \\S+ ${esc(`${account}@${REALM}`)} ${esc(`${BACK2}@${REALM}`)} (.*)$`,
      'm',
    );
    for (let i = 0; i < 40; i++) {
      const m = re.exec(kdcLog().slice(mark));
      if (m) {
        const reason = /reason=(.*?)(?= [a-z_-]+=|$)/.exec(m[2] as string)?.[1];
        return reason === undefined ? (m[1] as string) : `${m[1]}: ${reason}`;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return 'no S4U2Proxy request logged';
  }

  /** MIT's reference: kinit -k as the account, then `kvno -U alice -P SPN`; returns kvno's exit code. */
  async function mitS4U(account: string, spn: string): Promise<number | null> {
    const env = { KRB5_CONFIG: ad.krb5ConfPath, KRB5CCNAME: `FILE:${join(ad.dir, `${account}.mit.cc`)}` };
    const k = await run('kinit', ['-f', '-k', '-t', kt(account), `${account}@${REALM}`], { env });
    assert.equal(k.code, 0, k.stderr);
    return (await run('kvno', ['-U', 'alice', '-P', spn], { env })).code;
  }

  it('protocol transition + constrained delegation: S4U2Self, S4U2Proxy, the back end sees alice', async () => {
    const front = await service('svc-front');
    const evidence = await front.getTicketForUser('alice');
    assert.equal(unparsePrincipal(evidence.client), `alice@${REALM}`);
    assert.ok(
      (evidence.flags & TicketFlag.FORWARDABLE) !== 0,
      'protocol transition gives a forwardable ticket',
    );
    const asAlice = await front.impersonate(evidence);
    const r = await negotiateFetch({ credentials: asAlice, targetName: BACK })(backUrl);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), `back sees alice@${REALM}`);
    assert.equal(await mitS4U('svc-front', BACK), 0);
    // Not in msDS-AllowedToDelegateTo: refused, as for MIT's client.
    await assert.rejects(
      asAlice.getServiceTicket(BACK2),
      (e: unknown) => e instanceof KerberosError && e.errorName === 'KDC_ERR_BADOPTION',
    );
    assert.notEqual(await mitS4U('svc-front', BACK2), 0);
  });

  it("from the user's own Negotiate ticket: the front end calls the back end as alice (req.negotiate.impersonate)", async () => {
    const front = await service('svc-front');
    const { server, url } = await serve(kt('svc-front'), async (req, res) => {
      const asUser = await req.negotiate?.impersonate(front);
      assert.ok(asUser);
      const r = await negotiateFetch({ credentials: asUser, targetName: BACK })(backUrl);
      res.end(`front sees ${req.remoteUser}; ${r.status} ${await r.text()}`);
    });
    try {
      // alice's krb5.conf says nothing of forwardable; her TGT is forwardable, so is her ticket.
      const cfg = await config();
      const alice = await Credentials.fromPassword(`alice@${REALM}`, ALICE_PW, {
        config: { ...cfg, libdefaults: { ...cfg.libdefaults, forwardable: false } } as typeof cfg,
        forwardable: true,
      });
      const r = await negotiateFetch({ credentials: alice, targetName: FRONT })(url);
      assert.equal(await r.text(), `front sees alice@${REALM}; 200 back sees alice@${REALM}`);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it("resource-based delegation (HTTP/back2 lists svc-rbcd and svc-rbcdpt): MIT's kvno -U -P and ours get the same answer, for the same logged reason", async (t) => {
    // The directory holds the setting: the trustees of back2's msDS-AllowedToActOnBehalfOfOtherIdentity.
    const show = await ad.tool([['delegation', 'show', 'svc-back2']]);
    assert.match(show, /CN=svc-rbcd,CN=Users/);
    assert.match(show, /CN=svc-rbcdpt,CN=Users/);
    const kdc = sambaKdc();
    t.diagnostic(`Samba ${kdc.version} with the ${kdc.flavour} KDC`);
    for (const account of ['svc-rbcd', 'svc-rbcdpt']) {
      const mark = kdcLog().length;
      const mitCode = await mitS4U(account, BACK2);
      const mitAnswer = await proxyAnswer(mark, account);
      const mark2 = kdcLog().length;
      let ours: unknown;
      const asAlice = await (await service(account)).impersonate('alice');
      try {
        await asAlice.getServiceTicket(BACK2);
        ours = await (await negotiateFetch({ credentials: asAlice, targetName: BACK2 })(back2Url)).text();
      } catch (e) {
        ours = e;
      }
      const ourAnswer = await proxyAnswer(mark2, account);
      t.diagnostic(`${account}: MIT kvno -U -P exit ${mitCode}, KDC: ${mitAnswer}; ours, KDC: ${ourAnswer}`);
      // The KDC answered both requests alike (outcome and the reason it logs).
      assert.equal(ourAnswer, mitAnswer, account);
      if (mitCode === 0) {
        assert.equal(ours, `back2 sees alice@${REALM}`);
        continue;
      }
      assert.ok(
        ours instanceof KerberosError && ours.errorName === 'KDC_ERR_BADOPTION',
        `${account}: ${String(ours)}`,
      );
      assert.match(ours.hint ?? '', /msDS-AllowedToActOnBehalfOfOtherIdentity/);
      assert.match(ours.hint ?? '', /Heimdal KDC before 4\.19/);
      if (kdc.flavour === 'Heimdal' && kdc.below419) {
        // Samba 4.17's Heimdal KDC has no RBCD (its WHATSNEW: "the default (Heimdal-based) KDC does not
        // support RBCD yet"; 4.19 brings it): S4U2Proxy asks for a forwardable evidence ticket, then
        // consults msDS-AllowedToDelegateTo only. PA-PAC-OPTIONS is not read.
        assert.equal(
          mitAnswer,
          account === 'svc-rbcd'
            ? 'ERR_BADOPTION: Missing forwardable flag on ticket for constrained delegation'
            : 'ERR_BADOPTION: Constrained delegation not allowed',
        );
      }
    }
  });

  it("an account's other SPNs (alias, port, another case): MIT's acceptor and ours take them with its keytab", async () => {
    const alice = await Credentials.fromPassword(`alice@${REALM}`, ALICE_PW, { config: await config() });
    const ours = createAcceptor({ keytab: kt('back'), config: await config() });
    for (const spn of [...ALIASES, 'HTTP/BACK.samdom.test']) {
      const token = async (): Promise<Uint8Array> => {
        const ctx = await createInitiatorContext({
          credentials: alice,
          target: `${spn}@${REALM}`,
          mutual: true,
        });
        const out = await ctx.step();
        assert.ok(out.token);
        return out.token;
      };
      assert.equal((await ours.accept(await token())).user, `alice@${REALM}`, spn);
      const peer = startGssPeer(['accept', 'spnego'], {
        KRB5_CONFIG: ad.krb5ConfPath,
        KRB5_KTNAME: `FILE:${kt('back')}`,
      });
      try {
        const mit = await peer.call({ op: 'step', token: toB64(await token()) });
        assert.equal(mit.error, undefined, `MIT refused ${spn}: ${mit.error}`);
        assert.equal(mit.client, `alice@${REALM}`);
      } finally {
        peer.stop();
      }
    }
  });

  it('kinit parity against AD: MIT kinit and spnego kinit get the same flags (RENEWABLE_OK)', async () => {
    const mitCc = join(ad.dir, 'alice.mit.cc');
    const env = { KRB5_CONFIG: ad.krb5ConfPath };
    const m = await run('kinit', ['-c', `FILE:${mitCc}`, `alice@${REALM}`], { env, input: `${ALICE_PW}\n` });
    assert.equal(m.code, 0, m.stderr);
    const ours = await Credentials.fromPassword(`alice@${REALM}`, ALICE_PW, { config: await config() });
    const tgtOf = (creds: { credentials: readonly { server: unknown; flags: number }[] }) =>
      creds.credentials.find((c) => !isConfigEntry(c as never)) as { flags: number };
    const mitTgt = tgtOf(await readCcache(mitCc));
    const ourTgt = tgtOf(ours.toCcache());
    assert.equal(ourTgt.flags & ~TicketFlag.PRE_AUTHENT, mitTgt.flags & ~TicketFlag.PRE_AUTHENT);
    assert.ok((ourTgt.flags & TicketFlag.RENEWABLE) !== 0);
  });
});
