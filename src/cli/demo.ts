// `spnego demo` / `npm run demo`: the whole product in one process, with nothing installed —
// an in-process KDC (MiniKdc), a Negotiate-protected server (spnego/server), and a client
// (ky + negotiate(), mutual authentication REQUIRED) that gets a TGT, a service ticket and the
// page, verifying the server's AP-REP.
import { unparsePrincipal } from '../ccache/principal-text.js';
import { enctypeName } from '../crypto/index.js';
import { SpnegoError } from '../errors.js';
import { negotiate, negotiateFetch, REQUIRED } from '../http/index.js';
import { Credentials } from '../krb5/credentials.js';
import { startLoopbackServer } from '../runtime/http-server.js';
import { negotiateMiddleware, type RequestLike } from '../server/index.js';
import { MiniKdc } from '../testing/index.js';
import type { CliIo } from './ccache-name.js';

const REALM = 'DEMO.TEST';
const USER = `alice@${REALM}`;
const PASSWORD = 'correct horse battery staple';

type KyLike = { extend(o: object): KyLike; get(url: string): { text(): Promise<string> } };

export async function demoCommand(_argv: string[], io: CliIo): Promise<number> {
  const step = (n: number, text: string) => io.stdout(`\n[${n}] ${text}\n`);
  const detail = (text: string) => io.stdout(`    ${text}\n`);
  // The library's own debug lines (DEBUG=spnego*), shown under the step that caused them.
  const trace: string[] = [];
  const logger = { debug: (m: string) => trace.push(m) };
  const flush = () => {
    for (const line of trace.splice(0)) detail(`· ${line}`);
  };

  step(1, `starting MiniKdc, an in-process KDC for realm ${REALM}`);
  const kdc = await MiniKdc.start({
    realm: REALM,
    principals: [{ name: 'alice', password: PASSWORD }, 'HTTP/localhost'],
  });
  const server = await startLoopbackServer((req, res) => {
    mw(req as unknown as RequestLike, res, (err?: unknown) => {
      if (err) {
        res.statusCode = 500;
        res.end();
        return;
      }
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(`Hello, ${(req as unknown as RequestLike).remoteUser}! This page is protected by Kerberos.\n`);
    });
  });
  const mw = negotiateMiddleware({ keytab: kdc.keytabFor('HTTP/localhost') });
  try {
    detail(`KDC listening on ${kdc.address}; principals alice (password) and HTTP/localhost (random keys)`);

    step(2, `a Negotiate-protected server at ${server.url}/ (keytab for HTTP/localhost@${REALM})`);
    const anon = await fetch(`${server.url}/`);
    detail(
      `without credentials: ${anon.status} ${anon.statusText}, WWW-Authenticate: ${anon.headers.get('www-authenticate')}`,
    );

    step(3, `${USER} gets a TGT with a password (our own AS exchange, PA-ENC-TIMESTAMP)`);
    const creds = await Credentials.fromPassword(USER, PASSWORD, { config: kdc.clientConfig(), logger });
    flush();
    for (const c of creds.toCcache().credentials) {
      detail(
        `${unparsePrincipal(c.server)}  enctype ${enctypeName(c.key.keytype)}  until ${new Date(c.endTime * 1000).toISOString()}`,
      );
    }

    step(4, 'a service ticket for HTTP/localhost (TGS exchange)');
    const ticket = await creds.getServiceTicket('HTTP/localhost');
    flush();
    detail(
      `${unparsePrincipal(ticket.server)}  enctype ${enctypeName(ticket.ticket.encPart.etype)}  until ${ticket.endTime.toISOString()}`,
    );

    step(5, 'GET the page with ky + negotiate({ mutualAuthentication: REQUIRED })');
    const options = { mutualAuthentication: REQUIRED, credentials: creds, logger } as const;
    let body: string;
    const ky = await import('ky').then(
      (m) => m.default as unknown as KyLike,
      () => undefined,
    );
    if (ky) {
      body = await ky.extend(negotiate(options)).get(`${server.url}/`).text();
    } else {
      detail('(ky is not installed: using negotiateFetch, the same flow over plain fetch)');
      body = await (await negotiateFetch(options)(`${server.url}/`)).text();
    }
    flush();
    detail(`server replied: ${body.trim()}`);
    detail("the server's AP-REP was verified: mutual authentication succeeded");

    step(6, 'done: stopping the server and the KDC');
    return 0;
  } catch (e) {
    io.stderr(`spnego demo: ${e instanceof Error ? e.message : String(e)}\n`);
    if (e instanceof SpnegoError && e.hint) io.stderr(`  hint: ${e.hint}\n`);
    return 1;
  } finally {
    await server.close();
    await kdc.stop();
  }
}
