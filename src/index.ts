// spnego — HTTP Negotiate (RFC 4559) over pure-TypeScript Kerberos 5 and SPNEGO.

export type { SpnegoErrorOptions } from './errors.js';
export {
  Asn1Error,
  ConfigError,
  CredentialsError,
  CryptoError,
  KdcUnreachableError,
  KerberosError,
  MutualAuthenticationError,
  SPNEGOExchangeError,
  SpnegoError,
} from './errors.js';

/** Mutual-authentication modes, with requests-gssapi's values. */
export const REQUIRED = 1;
export const OPTIONAL = 2;
export const DISABLED = 3;
export const MutualAuth = { REQUIRED, OPTIONAL, DISABLED } as const;
export type MutualAuthMode = (typeof MutualAuth)[keyof typeof MutualAuth];
