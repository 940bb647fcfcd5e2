// `spnego`: call a Negotiate-protected server with fetch and with ky, mutual authentication
// required, and find out why a request stayed unauthenticated. A MiniKdc and a small server
// stand in for your realm and your intranet service; with a real realm, drop them and `kinit`.
//   npm run build && node --import tsx examples/fetch-and-ky.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import ky from 'ky';
import { negotiate, negotiateFailure, negotiateFetch, REQUIRED } from 'spnego';
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

// Where kinit has run, `credentials` can be left out: the ccache of KRB5CCNAME is used.
const credentials = await Credentials.fromPassword('alice', 'alice pw', { config: kdc.clientConfig() });

const viaFetch = await negotiateFetch({ credentials, mutualAuthentication: REQUIRED })(url);
console.log('fetch:', viaFetch.status, await viaFetch.text());

const api = ky.extend(negotiate({ credentials, mutualAuthentication: REQUIRED }));
console.log('ky:', await api.get(url).text());

// A service the KDC does not know: the 401 comes back, negotiateFailure says why.
const wrong = await negotiateFetch({ credentials, targetName: 'HTTP@nowhere.invalid' })(url);
const why = negotiateFailure(wrong);
console.log('unauthenticated:', wrong.status, why?.code, why?.hint ?? '');

server.close();
await kdc.stop();
console.log('ok');
