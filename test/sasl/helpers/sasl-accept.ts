// One SASL GSSAPI server step in a process of its own, with the DEFAULT replay cache: reads the
// keytab path and the client's first message (base64) from argv, prints `accepted` or the code
// of the error that refused it.
import { createSaslServer } from '../../../src/sasl/index.js';

const [keytab, first] = process.argv.slice(2);
if (!keytab || !first) throw new Error('usage: sasl-accept.ts KEYTAB BASE64');
const server = createSaslServer({ keytab, service: 'HTTP@localhost' });
try {
  await server.step(new Uint8Array(Buffer.from(first, 'base64')));
  process.stdout.write('accepted\n');
} catch (e) {
  process.stdout.write(`${(e as { code?: string }).code ?? String(e)}\n`);
}
