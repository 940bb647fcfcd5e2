// `spnego/server`: accept Kerberos on your own server. Connect/Express-style middleware for
// node:http, and a fetch-style handler (Hono, Bun.serve, Deno.serve) answering a Request.
//   npm run build && node --import tsx examples/server.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { negotiateFetch, REQUIRED } from 'spnego';
import { Credentials } from 'spnego/krb5';
import { negotiateHandler, negotiateMiddleware } from 'spnego/server';
import { MiniKdc } from 'spnego/testing';

const kdc = await MiniKdc.start({ principals: [{ name: 'alice', password: 'alice pw' }, 'HTTP/localhost'] });
// In production: negotiateMiddleware({ keytab: '/etc/http.keytab' }).
const keytab = kdc.keytabFor('HTTP/localhost');

const mw = negotiateMiddleware({ keytab });
const server = createServer((req, res) =>
  mw(req, res, () => res.end(`node:http says hello to ${(req as { remoteUser?: string }).remoteUser}`)),
);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://localhost:${(server.address() as AddressInfo).port}/`;

const credentials = await Credentials.fromPassword('alice', 'alice pw', { config: kdc.clientConfig() });
const client = negotiateFetch({ credentials, mutualAuthentication: REQUIRED });
console.log(await (await client(url)).text());

// The same behind a fetch-style handler, called with a Request as Bun.serve or Deno.serve would.
const handler = negotiateHandler((_req, { negotiate }) => new Response(`handler says hello to ${negotiate.user}`), {
  keytab,
});
const viaHandler = await negotiateFetch({ credentials, mutualAuthentication: REQUIRED }, (input, init) =>
  handler(new Request(input, init)),
)('http://localhost/');
console.log(await viaHandler.text());

server.close();
await kdc.stop();
console.log('ok');
