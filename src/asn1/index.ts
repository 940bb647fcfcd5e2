// Public surface of the ASN.1 layer: strict DER primitives and every Kerberos / GSS / SPNEGO codec.
export * from './ap.js';
export * from './basic.js';
export * from './der.js';
export * from './gss.js';
export * from './kdc.js';
export * from './kkdcp.js';
export * from './krb-cred.js';
export * from './krb-error.js';
export * from './message.js';
export * from './preauth.js';
export * from './spnego.js';
export * from './ticket.js';
export * from './types.js';
