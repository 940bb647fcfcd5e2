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

export {
  DISABLED,
  MutualAuth,
  type MutualAuthMode,
  type NegotiateOptions,
  negotiate,
  negotiateFetch,
  OPTIONAL,
  REQUIRED,
} from './http/index.js';
