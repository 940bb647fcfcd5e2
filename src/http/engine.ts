// What the HTTP client loads with its first token (fetch.ts imports this module with import()):
// the credentials, and with them the whole Kerberos engine. The initiator loads the same way,
// through src/spnego/initiator-lazy.ts.
export { Credentials } from '../krb5/credentials.js';
