// Prints the service principal our Credentials get for argv[2] (`HTTP@alias.canon.test`), using
// the SYSTEM resolver (no dns option): run inside the mount namespace whose /etc/resolv.conf
// names the test's DNS server, beside MIT's kvno. KRB5_CONFIG and KRB5CCNAME come from the env.
import { unparsePrincipal } from '../../../src/ccache/principal-text.js';
import { KerberosError } from '../../../src/errors.js';
import { loadConfig } from '../../../src/krb5/config-load.js';
import { Credentials } from '../../../src/krb5/credentials.js';

const creds = await Credentials.fromCcache(undefined, { config: await loadConfig(), writeBack: false });
try {
  process.stdout.write(`${unparsePrincipal((await creds.getServiceTicket(process.argv[2] ?? '')).server)}\n`);
} catch (e) {
  if (!(e instanceof KerberosError)) throw e;
  process.stdout.write(`error: ${e.errorName}\n`);
}
