// `spnego/testing`: MiniKdc, a real KDC in your test process. MIT's kinit, kvno and
// curl --negotiate work against it through the krb5.conf it writes.
//   npm run build && node --import tsx examples/testing.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Credentials } from 'spnego/krb5';
import { MiniKdc } from 'spnego/testing';

const kdc = await MiniKdc.start({ realm: 'TEST.EXAMPLE', principals: [{ name: 'alice', password: 'pw' }] });
kdc.addPrincipal('HTTP/app.test.example');
kdc.addPrincipal('bob', 'bob pw');
const dir = mkdtempSync(join(tmpdir(), 'spnego-minikdc-'));
await kdc.writeKrb5Conf(join(dir, 'krb5.conf')); // KRB5_CONFIG for MIT tools and child processes
console.log('krb5.conf written; keytab for the service:', kdc.keytabFor('HTTP/app.test.example').length, 'bytes');

const bob = await Credentials.fromPassword('bob', 'bob pw', { config: kdc.clientConfig() });
await bob.getServiceTicket('HTTP/app.test.example');
console.log('bob got a ticket from', kdc.realm);

rmSync(dir, { recursive: true, force: true });
await kdc.stop();
console.log('ok');
