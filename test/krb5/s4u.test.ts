// Constrained delegation (MS-SFU) against MiniKdc, which enforces it as AD does: S4U2Self for a
// user who logged in another way (forwardable only for an account trusted for protocol
// transition), S4U2Proxy with that evidence or with the ticket the middleware received, to a
// back end the account may delegate to (msDS-AllowedToDelegateTo) or that lets it act for users
// (resource-based, msDS-AllowedToActOnBehalfOfOtherIdentity). The back end sees the user.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  decodeKrbError,
  decodePaForUser,
  decodePaPacOptions,
  decodeTgsReq,
  encodePaForUser,
  encodeTgsReq,
  PacOption,
  PaDataType,
} from '../../src/asn1/index.js';
import { TicketFlag } from '../../src/ccache/flags.js';
import { parseKeytab } from '../../src/ccache/keytab.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { initializeClient } from '../../src/compat/kerberos.js';
import { CredentialsError, KerberosError } from '../../src/errors.js';
import { negotiateFetch } from '../../src/http/index.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { forUserChecksumInput } from '../../src/krb5/s4u.js';
import { createAcceptor, negotiateMiddleware, type RequestLike } from '../../src/server/index.js';
import { createInitiatorContext } from '../../src/spnego/index.js';
import { MiniKdc } from '../../src/testing/index.js';

const REALM = 'S4U.TEST';
const FRONT = 'HTTP/front.s4u.test';
const BACK = 'HTTP/back.s4u.test';
const RBCD_BACK = 'HTTP/rbcd-back.s4u.test';
const OTHER = 'HTTP/other.s4u.test';

const badOption = (e: unknown) => e instanceof KerberosError && e.errorName === 'KDC_ERR_BADOPTION';

describe('S4U2Self and S4U2Proxy (MS-SFU) against MiniKdc', () => {
  let kdc: MiniKdc;
  let front: Credentials;
  let plain: Credentials;
  let rbcdOnly: Credentials;

  async function tokenTo(creds: Credentials, spn: string): Promise<Uint8Array> {
    const ctx = await createInitiatorContext({ credentials: creds, target: spn, mutual: true });
    const out = await ctx.step();
    assert.ok(out.token);
    return out.token;
  }

  before(async () => {
    kdc = await MiniKdc.start({
      realm: REALM,
      principals: [
        { name: 'alice', password: 'alice-pw' },
        { name: FRONT, trustedToAuthForDelegation: true, allowedToDelegateTo: [BACK] },
        // Constrained delegation allowed, but no protocol transition: its S4U2Self tickets are not forwardable.
        { name: 'HTTP/plain.s4u.test', allowedToDelegateTo: [BACK] },
        { name: 'HTTP/rbcd.s4u.test' },
        BACK,
        OTHER,
        { name: RBCD_BACK, allowedToActOnBehalfOf: ['HTTP/rbcd.s4u.test'] },
      ],
    });
    const config = kdc.clientConfig();
    const service = (name: string) =>
      Credentials.fromKeytab(name, parseKeytab(kdc.keytabFor(name)), { config });
    front = await service(FRONT);
    plain = await service('HTTP/plain.s4u.test');
    rbcdOnly = await service('HTTP/rbcd.s4u.test');
  });
  after(async () => {
    await kdc?.stop();
  });

  it('PA-FOR-USER round-trips, and its checksum input is MS-SFU §2.2.1 (name-type LE, names, realm, package)', () => {
    const v = {
      userName: { nameType: 1, nameString: ['alice'] },
      userRealm: REALM,
      cksum: { cksumtype: -138, checksum: new Uint8Array(16).fill(7) },
      authPackage: 'Kerberos',
    };
    assert.deepEqual(decodePaForUser(encodePaForUser(v)), v);
    const input = forUserChecksumInput({ realm: REALM, name: { nameType: 1, nameString: ['alice'] } });
    assert.equal(Buffer.from(input).toString('latin1'), `\x01\x00\x00\x00alice${REALM}Kerberos`);
  });

  it('S4U2Self: a forwardable ticket to the service for alice, opened by its own key', async () => {
    const evidence = await front.getTicketForUser('alice');
    assert.equal(unparsePrincipal(evidence.client), `alice@${REALM}`);
    assert.equal(unparsePrincipal(evidence.server), `${FRONT}@${REALM}`);
    assert.ok((evidence.flags & TicketFlag.FORWARDABLE) !== 0);
  });

  it('impersonate(user): S4U2Self then S4U2Proxy; the back end authenticates alice', async () => {
    const asAlice = await front.impersonate('alice');
    assert.equal(unparsePrincipal(asAlice.principal), `alice@${REALM}`);
    const backend = createAcceptor({ keytab: kdc.keytabFor(BACK) });
    const r = await backend.accept(await tokenTo(asAlice, BACK));
    assert.equal(r.user, `alice@${REALM}`);
    // A back end the account may not delegate to: the KDC refuses, with the AD settings in the hint.
    await assert.rejects(asAlice.getServiceTicket(OTHER), (e: unknown) => {
      assert.ok(badOption(e), String(e));
      assert.match((e as KerberosError).hint ?? '', /msDS-AllowedToDelegateTo/);
      return true;
    });
    // No TGT of alice's to forward.
    await assert.rejects(asAlice.getForwardedTgt(), (e: unknown) => e instanceof CredentialsError);
  });

  it('spnego/kerberos: initializeClient takes the impersonated credentials (the addon API, one extra option)', async () => {
    const asAlice = await front.impersonate('alice');
    const client = await initializeClient('HTTP@back.s4u.test', { credentials: asAlice });
    const token = await client.step('');
    const r = await createAcceptor({ keytab: kdc.keytabFor(BACK) }).accept(Buffer.from(token, 'base64'));
    assert.equal(r.user, `alice@${REALM}`);
  });

  it('without protocol transition the S4U2Self ticket is not forwardable, and S4U2Proxy is refused', async () => {
    const evidence = await plain.getTicketForUser('alice');
    assert.equal(evidence.flags & TicketFlag.FORWARDABLE, 0);
    const asAlice = await plain.impersonate(evidence);
    await assert.rejects(asAlice.getServiceTicket(BACK), badOption);
  });

  it('resource-based: the back end lets the service act for users, a non-forwardable evidence is enough', async () => {
    const asAlice = await rbcdOnly.impersonate('alice');
    const r = await createAcceptor({ keytab: kdc.keytabFor(RBCD_BACK) }).accept(
      await tokenTo(asAlice, RBCD_BACK),
    );
    assert.equal(r.user, `alice@${REALM}`);
    await assert.rejects(asAlice.getServiceTicket(BACK), badOption);
  });

  it('resource-based delegation is asked for with PA-PAC-OPTIONS; without it the KDC refuses, as MIT and Heimdal do', async () => {
    // Our S4U2Proxy request as it goes to the KDC, captured through the transport.
    const sent: Uint8Array[] = [];
    const asAlice = await (
      await Credentials.fromKeytab('HTTP/rbcd.s4u.test', parseKeytab(kdc.keytabFor('HTTP/rbcd.s4u.test')), {
        config: kdc.clientConfig(),
        transport: {
          send: async (_realm, bytes) => {
            sent.push(bytes);
            return kdc.handleRequest(bytes);
          },
        },
      })
    ).impersonate('alice');
    await asAlice.getServiceTicket(RBCD_BACK);
    const proxy = sent
      .map((b) => (b[0] === 0x6c ? decodeTgsReq(b) : undefined))
      .find((r) => r?.reqBody.additionalTickets);
    assert.ok(proxy, 'an S4U2Proxy TGS-REQ was sent');
    const pac = proxy.padata?.find((p) => p.padataType === PaDataType.PAC_OPTIONS);
    assert.ok(pac, 'PA-PAC-OPTIONS present');
    assert.equal(
      decodePaPacOptions(pac.padataValue) & PacOption.RESOURCE_BASED_CONSTRAINED_DELEGATION,
      PacOption.RESOURCE_BASED_CONSTRAINED_DELEGATION,
    );
    // The same request without it (the req-body checksum does not cover padata): refused.
    const stripped = encodeTgsReq({
      ...proxy,
      padata: proxy.padata?.filter((p) => p.padataType !== PaDataType.PAC_OPTIONS),
    });
    const err = decodeKrbError(kdc.handleRequest(stripped));
    assert.equal(err.errorCode, 13);
    assert.match(kdc.requests.at(-1)?.reason ?? '', /PA-PAC-OPTIONS/);
  });

  it('S4U2Self for a user the KDC does not know is KDC_ERR_C_PRINCIPAL_UNKNOWN', async () => {
    await assert.rejects(
      front.getTicketForUser('nobody'),
      (e: unknown) => e instanceof KerberosError && e.errorName === 'KDC_ERR_C_PRINCIPAL_UNKNOWN',
    );
  });

  describe('through the middleware: req.negotiate.impersonate(service) and negotiateFetch', () => {
    let backServer: Server;
    let frontServer: Server;
    let backUrl: string;
    let frontUrl: string;

    const listen = async (s: Server): Promise<string> => {
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(s.address() as { port: number }).port}/`;
    };
    const serve = (keytab: Uint8Array, handler: (req: RequestLike, res: ServerResponse) => Promise<void>) => {
      const mw = negotiateMiddleware({ keytab });
      return createServer((req: IncomingMessage, res: ServerResponse) => {
        const r = req as unknown as RequestLike;
        mw(r, res, () => {
          handler(r, res).catch((e: unknown) => {
            res.statusCode = 500;
            res.end(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
          });
        });
      });
    };

    before(async () => {
      backServer = serve(kdc.keytabFor(BACK), async (req, res) => {
        res.end(`back sees ${req.remoteUser}`);
      });
      backUrl = await listen(backServer);
      frontServer = serve(kdc.keytabFor(FRONT), async (req, res) => {
        const asUser = await req.negotiate?.impersonate(front);
        assert.ok(asUser);
        const r = await negotiateFetch({ credentials: asUser, targetName: BACK })(backUrl);
        res.end(`front sees ${req.remoteUser}; ${r.status} ${await r.text()}`);
      });
      frontUrl = await listen(frontServer);
    });
    after(async () => {
      for (const s of [frontServer, backServer]) {
        s?.closeAllConnections();
        await new Promise((r) => s?.close(r));
      }
    });

    it("the front end calls the back end as the user from the user's own ticket (S4U2Proxy)", async () => {
      const alice = await Credentials.fromPassword('alice', 'alice-pw', { config: kdc.clientConfig() });
      const r = await negotiateFetch({ credentials: alice, targetName: FRONT })(frontUrl);
      assert.equal(await r.text(), `front sees alice@${REALM}; 200 back sees alice@${REALM}`);
      assert.equal(r.status, 200);
    });
  });
});
