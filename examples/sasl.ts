// `spnego/sasl`: SASL GSSAPI (RFC 4752) as LDAP, MongoDB, Kafka, SMTP and IMAP use it. Both sides
// are transport-agnostic step() machines; here they talk in-process.
//   npm run build && node --import tsx examples/sasl.ts
import { Credentials } from 'spnego/krb5';
import { createSaslClient, createSaslServer } from 'spnego/sasl';
import { MiniKdc } from 'spnego/testing';

const kdc = await MiniKdc.start({ principals: [{ name: 'alice', password: 'alice pw' }, 'ldap/db.example.test'] });
const credentials = await Credentials.fromPassword('alice', 'alice pw', { config: kdc.clientConfig() });

const client = createSaslClient({ credentials, service: 'ldap@db.example.test' });
const server = createSaslServer({ keytab: kdc.keytabFor('ldap/db.example.test'), service: 'ldap@db.example.test' });
let response = await client.step();
for (;;) {
  const challenge = await server.step(response);
  if (server.complete) break;
  response = await client.step(challenge.token);
}
console.log('SASL GSSAPI done: server sees', server.user, 'with layer', server.layer);

await kdc.stop();
console.log('ok');
