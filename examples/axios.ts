// `spnego/axios`: an axios instance that answers 401 Negotiate, mutual authentication required.
//   npm run build && node --import tsx examples/axios.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { REQUIRED } from 'spnego';
import { negotiateAxios } from 'spnego/axios';
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
const api = negotiateAxios(axios.create(), { credentials, mutualAuthentication: REQUIRED });
const { status, data } = await api.get(url);
console.log('axios:', status, data);

server.close();
await kdc.stop();
console.log('ok');
