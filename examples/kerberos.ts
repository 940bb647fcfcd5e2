// `spnego/kerberos`: the API of the native `kerberos` npm package (initializeClient,
// initializeServer, step) on spnego's engine: existing code changes only its import. Like the
// addon, it reads KRB5CCNAME (the client's tickets) and KRB5_KTNAME (the server's keytab).
//   npm run build && node --import tsx examples/kerberos.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Credentials } from 'spnego/krb5';
import { GSS_MECH_OID_SPNEGO, initializeClient, initializeServer } from 'spnego/kerberos';
import { MiniKdc } from 'spnego/testing';

const kdc = await MiniKdc.start({ principals: [{ name: 'alice', password: 'alice pw' }, 'HTTP/localhost'] });
const dir = mkdtempSync(join(tmpdir(), 'spnego-kerberos-example-'));
await kdc.writeKrb5Conf(join(dir, 'krb5.conf'));
writeFileSync(join(dir, 'http.keytab'), kdc.keytabFor('HTTP/localhost'));
process.env.KRB5_CONFIG = join(dir, 'krb5.conf');
process.env.KRB5_KTNAME = `FILE:${join(dir, 'http.keytab')}`;
process.env.KRB5CCNAME = `FILE:${join(dir, 'cc')}`;
// kinit, done in code here:
await (await Credentials.fromPassword('alice', 'alice pw', { config: kdc.clientConfig() })).save(process.env.KRB5CCNAME);

const client = await initializeClient('HTTP@localhost', { mechOID: GSS_MECH_OID_SPNEGO });
const server = await initializeServer('HTTP@localhost');
const token = await client.step(''); // base64, as the addon gives it
const reply = await server.step(token);
await client.step(reply); // the server's answer: mutual authentication
console.log('server sees', server.username);

rmSync(dir, { recursive: true, force: true });
await kdc.stop();
console.log('ok');
