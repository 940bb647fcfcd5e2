// Issue 7 acceptance, hermetic: our client against our server on MiniKdc, with nothing installed.
// A password TGT from MiniKdc, negotiateFetch and ky + negotiate() (mutual REQUIRED) against
// negotiateMiddleware on node:http, and delegation end to end: the front server uses the TGT the
// client forwarded to call a second Negotiate-protected service, which must see the ORIGINAL user.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import ky from 'ky';
import { TicketFlag } from '../../src/ccache/flags.js';
import { KdcUnreachableError, SpnegoError } from '../../src/errors.js';
import { negotiate, negotiateFetch, REQUIRED } from '../../src/http/index.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { type MiddlewareOptions, negotiateMiddleware, type RequestLike } from '../../src/server/index.js';
import { MiniKdc } from '../../src/testing/index.js';

const REALM = 'E2E.TEST';
const ALICE = `alice@${REALM}`;
const PASSWORD = 'alice e2e password';
// The back-end has its own service principal; `.localhost` maps to the realm in MiniKdc's
// krb5.conf, so `HTTP@backend.localhost` resolves to HTTP/backend.localhost@E2E.TEST.
const BACKEND_SPN = 'HTTP/backend.localhost';

type Handler = (req: RequestLike, res: ServerResponse) => Promise<void> | void;

/** node:http with negotiateMiddleware in front of `handler`; errors from either become a 500. */
async function protectedServer(
  opts: MiddlewareOptions,
  handler: Handler,
): Promise<{ url: string; server: Server; rejections: string[] }> {
  const rejections: string[] = [];
  const mw = negotiateMiddleware({
    ...opts,
    logger: { debug: (m: string) => m.includes('rejected') && rejections.push(m) },
  });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const r = req as unknown as RequestLike;
    mw(r, res, (err?: unknown) => {
      const fail = (e: unknown) => {
        res.statusCode = 500;
        res.end(`${e instanceof SpnegoError ? e.code : 'ERROR'}: ${e instanceof Error ? e.message : e}`);
      };
      if (err) return fail(err);
      Promise.resolve(handler(r, res)).catch(fail);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, server, rejections };
}

function close(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('our client against our server on MiniKdc', () => {
  let kdc: MiniKdc;
  let creds: Credentials;
  let front: Awaited<ReturnType<typeof protectedServer>>;
  let backend: Awaited<ReturnType<typeof protectedServer>>;
  let restricted: Awaited<ReturnType<typeof protectedServer>>;
  // What each server saw, for the delegation assertions.
  const backendSaw: { user: string | undefined; delegated: boolean }[] = [];

  before(async () => {
    kdc = await MiniKdc.start({
      realm: REALM,
      principals: [{ name: 'alice', password: PASSWORD }, 'HTTP/localhost', BACKEND_SPN],
    });
    const config = kdc.clientConfig();
    creds = await Credentials.fromPassword(ALICE, PASSWORD, { config });

    backend = await protectedServer({ keytab: kdc.keytabFor(BACKEND_SPN), config }, (req, res) => {
      backendSaw.push({ user: req.remoteUser, delegated: req.negotiate?.delegated !== undefined });
      res.end(`backend sees ${req.remoteUser}`);
    });

    // The front end holds only HTTP/localhost's keys; with the delegated TGT it asks the KDC for
    // a ticket to the back-end as alice, and proves it by calling the back-end with mutual auth.
    front = await protectedServer({ keytab: kdc.keytabFor('HTTP/localhost'), config }, async (req, res) => {
      const delegated = req.negotiate?.delegated;
      if (!delegated) {
        res.end(`front sees ${req.remoteUser} (no delegation)`);
        return;
      }
      const call = negotiateFetch({
        credentials: delegated,
        mutualAuthentication: REQUIRED,
        targetName: 'HTTP@backend.localhost',
      });
      const r = await call(backend.url);
      res.end(
        `front sees ${req.remoteUser} as ${delegated.principal.name.nameString.join('/')}; ${r.status} ${await r.text()}`,
      );
    });

    restricted = await protectedServer(
      { keytab: kdc.keytabFor('HTTP/localhost'), config, principals: [`bob@${REALM}`], realms: [REALM] },
      (req, res) => {
        res.end(`restricted sees ${req.remoteUser}`);
      },
    );
  });

  after(async () => {
    await close(front?.server);
    await close(backend?.server);
    await close(restricted?.server);
    await kdc?.stop();
  });

  it('Credentials.fromPassword gets a forwardable TGT from MiniKdc', () => {
    const tgt = creds
      .toCcache()
      .credentials.find((c) => c.server.name.nameString.join('/') === `krbtgt/${REALM}`);
    assert.ok(tgt, 'a TGT in the credentials');
    // Delegation needs it: a forwarded TGT can only be made from a forwardable one.
    assert.ok(tgt.flags & TicketFlag.FORWARDABLE, 'the TGT is forwardable');
    assert.ok(kdc.count('AS-REQ', { succeeded: true }) >= 1);
  });

  it('without credentials the server answers 401 Negotiate', async () => {
    const res = await fetch(front.url);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Negotiate');
  });

  it('negotiateFetch with mutual REQUIRED: 200 and the user exposed', async () => {
    const f = negotiateFetch({
      credentials: creds,
      mutualAuthentication: REQUIRED,
      targetName: 'HTTP@localhost',
    });
    const res = await f(front.url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `front sees ${ALICE} (no delegation)`);
    // The reply authenticated the server: an AP-REP came back in WWW-Authenticate.
    assert.match(res.headers.get('www-authenticate') ?? '', /^Negotiate [A-Za-z0-9+/]+=*$/);
    // The service ticket came from MiniKdc's TGS and is now cached in the Credentials.
    assert.ok(
      creds.toCcache().credentials.some((c) => c.server.name.nameString.join('/') === 'HTTP/localhost'),
    );
  });

  it('ky + negotiate() with mutual REQUIRED: 200 and the user exposed', async () => {
    const api = ky.extend(
      negotiate({ credentials: creds, mutualAuthentication: REQUIRED, targetName: 'HTTP@localhost' }),
    );
    const text = await api.get(front.url).text();
    assert.equal(text, `front sees ${ALICE} (no delegation)`);
  });

  it('delegation end to end: the front end calls the back-end as the original user', async () => {
    backendSaw.length = 0;
    const f = negotiateFetch({
      credentials: creds,
      mutualAuthentication: REQUIRED,
      targetName: 'HTTP@localhost',
      delegate: true,
    });
    const res = await f(front.url);
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.equal(body, `front sees ${ALICE} as alice; 200 backend sees ${ALICE}`);
    // The back-end authenticated alice herself (not the front end's service principal), and the
    // front end did not pass the TGT on a second time.
    assert.deepEqual(backendSaw, [{ user: ALICE, delegated: false }]);
    // The back-end ticket came from MiniKdc's TGS, asked with the forwarded TGT: the front end
    // holds no back-end keys and no password, so it had no other way to get one.
    const tgs = kdc.requests.filter((r) => r.type === 'TGS-REQ' && r.server?.startsWith(BACKEND_SPN));
    assert.ok(tgs.length >= 1, 'a TGS request for the back-end');
    assert.ok(tgs.every((r) => r.errorCode === undefined));
  });

  it('ky with delegate: true reaches the back-end through the front end too', async () => {
    backendSaw.length = 0;
    const api = ky.extend(
      negotiate({
        credentials: creds,
        mutualAuthentication: REQUIRED,
        targetName: 'HTTP@localhost',
        delegate: true,
      }),
    );
    assert.equal(await api.get(front.url).text(), `front sees ${ALICE} as alice; 200 backend sees ${ALICE}`);
    assert.deepEqual(backendSaw, [{ user: ALICE, delegated: false }]);
  });

  it('a client outside `principals` is refused with 401 and one log line naming it', async () => {
    const before = restricted.rejections.length;
    const f = negotiateFetch({ credentials: creds, targetName: 'HTTP@localhost' });
    const res = await f(restricted.url);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Negotiate');
    const lines = restricted.rejections.slice(before);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0] ?? '', /REJECTED_CLIENT.*alice@E2E\.TEST/);
  });

  it('under mutual REQUIRED the refusal is still a 401 response, not an exception', async () => {
    // As requests-gssapi: a 401 after our token means authentication failed, and is returned.
    const f = negotiateFetch({
      credentials: creds,
      mutualAuthentication: REQUIRED,
      targetName: 'HTTP@localhost',
    });
    const res = await f(restricted.url);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Negotiate');
  });

  it('a client of a realm outside `realms` is refused with 401', async () => {
    const other = await MiniKdc.start({
      realm: 'OTHER.TEST',
      principals: [{ name: 'mallory', password: 'pw' }, 'HTTP/localhost'],
    });
    try {
      const mallory = await Credentials.fromPassword('mallory@OTHER.TEST', 'pw', {
        config: other.clientConfig(),
      });
      const server = await protectedServer(
        { keytab: other.keytabFor('HTTP/localhost'), realms: [REALM] },
        (req, res) => {
          res.end(`sees ${req.remoteUser}`);
        },
      );
      try {
        const res = await negotiateFetch({ credentials: mallory, targetName: 'HTTP@localhost' })(server.url);
        assert.equal(res.status, 401);
        assert.match(server.rejections.join('\n'), /REJECTED_CLIENT.*mallory@OTHER\.TEST.*realm/);
      } finally {
        await close(server.server);
      }
    } finally {
      await other.stop();
    }
  });
});

describe('a stopped KDC', () => {
  it('fromPassword fails with KdcUnreachableError naming the realm', async () => {
    const kdc = await MiniKdc.start({ realm: 'DOWN.TEST', principals: [{ name: 'alice', password: 'pw' }] });
    const config = kdc.clientConfig();
    await kdc.stop();
    await assert.rejects(Credentials.fromPassword('alice@DOWN.TEST', 'pw', { config }), (e: unknown) => {
      assert.ok(e instanceof KdcUnreachableError, String(e));
      assert.equal(typeof e.code, 'string');
      assert.match(e.message, /DOWN\.TEST/);
      return true;
    });
  });

  it('a request needing a new service ticket: the 401 is returned and the log names KdcUnreachableError', async () => {
    const kdc = await MiniKdc.start({
      realm: 'DOWN.TEST',
      principals: [{ name: 'alice', password: 'pw' }, 'HTTP/localhost'],
    });
    const config = kdc.clientConfig();
    const server = await protectedServer({ keytab: kdc.keytabFor('HTTP/localhost'), config }, (req, res) => {
      res.end(`sees ${req.remoteUser}`);
    });
    try {
      const alice = await Credentials.fromPassword('alice@DOWN.TEST', 'pw', { config });
      await kdc.stop();
      // The TGT is held, but the service ticket must come from the (now gone) KDC: the typed
      // error is what getServiceTicket throws ...
      await assert.rejects(alice.getServiceTicket('HTTP/localhost'), KdcUnreachableError);
      // ... and the HTTP flow, like requests-gssapi, answers with the server's 401 and logs why.
      const log: string[] = [];
      const f = negotiateFetch({
        credentials: alice,
        mutualAuthentication: REQUIRED,
        targetName: 'HTTP@localhost',
        logger: { debug: (m: string) => log.push(m) },
      });
      const res = await f(server.url);
      assert.equal(res.status, 401);
      assert.equal(server.rejections.length, 0, 'no token reached the server');
      assert.ok(
        log.some((l) => /cannot authenticate/.test(l) && /KdcUnreachableError/.test(l)),
        log.join('\n'),
      );
    } finally {
      await close(server.server);
      await kdc.stop();
    }
  });
});
