// `spnego/got`: got hooks that answer 401 Negotiate, mutual authentication required.
//   npm run build && node --import tsx examples/got.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import got from 'got';
import { REQUIRED } from 'spnego';
import { negotiateGot } from 'spnego/got';
import { Credentials } from 'spnego/krb5';
import { negotiateMiddleware } from 'spnego/server';
import { MiniKdc } from 'spnego/testing';

const kdc = await MiniKdc.start({ principals: [{ name: 'alice', password: 'alice pw' }, 'HTTP/localhost'] });
const protect = negotiateMiddleware({ keytab: kdc.keytabFor('HTTP/localhost') });
const server = createServer((req, res) =>
  protect(req, res, () => res.end(`hello ${(req as { remoteUser?: string }).remoteUser}`)),
);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://localhost:${(server.address() as AddressInfo).port}/`;

const credentials = await Credentials.fromPassword('alice', 'alice pw', { config: kdc.clientConfig() });
const api = got.extend(negotiateGot({ credentials, mutualAuthentication: REQUIRED }));
console.log('got:', await api.get(url).text());

server.close();
await kdc.stop();
console.log('ok');
