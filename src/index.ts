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
export type { AcceptorContext, AcceptorContextOptions } from './spnego/acceptor.js';
// The HTTP-independent security contexts (RFC 4178 SPNEGO over the RFC 4121 krb5 mechanism),
// for protocols other than HTTP and for a `kerberos`-package style API.
// The acceptor is server code: here it loads on its first step(), so a client does not pay for it.
export { createAcceptorContext } from './spnego/acceptor-lazy.js';
// The initiator and the Kerberos engine under it load on the first call (see initiator-lazy.ts).
export { createInitiatorContext } from './spnego/initiator-lazy.js';
export type { AcceptorResult, InitiatorOptions, SecurityContext, StepResult } from './spnego/types.js';
