// spnego/server — accepting Kerberos (Negotiate) in Node, Bun and Deno servers.
export { KerberosError, SpnegoError } from '../errors.js';
