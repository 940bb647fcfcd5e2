// spnego — HTTP Negotiate (RFC 4559) over pure-TypeScript Kerberos 5 and SPNEGO.

export type { SpnegoErrorOptions } from './errors.js';
export {
  Asn1Error,
  ChannelBindingError,
  ConfigError,
  CredentialsError,
  CryptoError,
  KdcProxyError,
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
  type NegotiateKyOptions,
  type NegotiateOptions,
  negotiate,
  negotiateFailure,
  negotiateFetch,
  OPTIONAL,
  REQUIRED,
} from './http/index.js';
/** RFC 5929 tls-server-end-point channel-binding data of a DER server certificate. */
export { tlsServerEndPoint } from './krb5/gss/tls-bindings.js';
// The HTTP-independent security contexts (RFC 4178 SPNEGO over the RFC 4121 krb5 mechanism),
// for protocols other than HTTP and for a `kerberos`-package style API.
export {
  type AcceptorContext,
  type AcceptorContextOptions,
  type AcceptorResult,
  createAcceptorContext,
  createInitiatorContext,
  type InitiatorOptions,
  type SecurityContext,
  type StepResult,
} from './spnego/index.js';
