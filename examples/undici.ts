// `spnego/undici`: Negotiate as an undici Dispatcher, for undici's request() and for fetch; the
// dispatcher keeps its connections, so servers that authenticate the connection (IIS, WinRM) work.
//   npm run build && node --import tsx examples/undici.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REQUIRED } from 'spnego';
import { Credentials } from 'spnego/krb5';
import { negotiateMiddleware } from 'spnego/server';
import { MiniKdc } from 'spnego/testing';
import { NegotiateDispatcher } from 'spnego/undici';
import { request } from 'undici';

const kdc = await MiniKdc.start({ principals: [{ name: 'alice', password: 'alice pw' }, 'HTTP/localhost'] });
const protect = negotiateMiddleware({ keytab: kdc.keytabFor('HTTP/localhost') });
const server = createServer((req, res) =>
  protect(req, res, () => res.end(`hello ${(req as { remoteUser?: string }).remoteUser}`)),
);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://localhost:${(server.address() as AddressInfo).port}/`;

const credentials = await Credentials.fromPassword('alice', 'alice pw', { config: kdc.clientConfig() });
const dispatcher = new NegotiateDispatcher({ credentials, mutualAuthentication: REQUIRED });
const { statusCode, body } = await request(url, { dispatcher });
console.log('undici request:', statusCode, await body.text());

await dispatcher.close();
server.close();
await kdc.stop();
console.log('ok');
