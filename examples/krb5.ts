// `spnego/krb5`: tickets without kinit. Log in with a password or a keytab, write the ccache MIT's
// klist reads, read it back, ask for a service ticket.
//   npm run build && node --import tsx examples/krb5.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Credentials, readCcache } from 'spnego/krb5';
import { MiniKdc } from 'spnego/testing';

const kdc = await MiniKdc.start({ principals: [{ name: 'alice', password: 'alice pw' }, 'svc-batch', 'HTTP/web.example.test'] });
const config = kdc.clientConfig();
const dir = mkdtempSync(join(tmpdir(), 'spnego-example-'));

const alice = await Credentials.fromPassword('alice', 'alice pw', { config });
const ticket = await alice.getServiceTicket('HTTP/web.example.test');
console.log('service ticket until', new Date(ticket.endTime).toISOString());
await alice.save(`FILE:${join(dir, 'cc')}`); // what `klist -c` shows
const cc = await readCcache(join(dir, 'cc')); // a path, or the bytes
console.log('ccache holds', cc.credentials.length, 'credentials for', cc.defaultPrincipal.name.nameString.join('/'));

// A service account from a keytab: no password, no kinit.
writeFileSync(join(dir, 'batch.keytab'), kdc.keytabFor('svc-batch'));
const batch = await Credentials.fromKeytab('svc-batch', join(dir, 'batch.keytab'), { config });
await batch.getServiceTicket('HTTP/web.example.test');
console.log('keytab login as', batch.principal.name.nameString.join('/'));

rmSync(dir, { recursive: true, force: true });
await kdc.stop();
console.log('ok');
