// What the HTTP client loads with its first token (fetch.ts imports this module with import()):
// the credentials and the SPNEGO initiator, and with them the whole Kerberos engine.
export { Credentials } from '../krb5/credentials.js';
export { createInitiatorContext } from '../spnego/initiator.js';
