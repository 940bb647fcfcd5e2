// One process of the compat replay test: initializeServer('HTTP@localhost') from KRB5_KTNAME,
// then step() with the base64 token given on the command line. Prints `accepted <user>` or
// `refused <message>`, as a separate server process (a worker) would see that header.
import * as kerberos from '../../../src/compat/index.js';

const token = process.argv[2];
if (!token) throw new Error('usage: accept-once.ts BASE64_TOKEN');
const server = await kerberos.initializeServer('HTTP@localhost');
try {
  await server.step(token);
  process.stdout.write(`accepted ${server.username}\n`);
} catch (e) {
  process.stdout.write(`refused ${e instanceof Error ? e.message : String(e)}\n`);
}
