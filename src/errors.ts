// Every failure a user can hit is one of these: a stable `code` to branch on, a message that
// says what happened, and (where we know one) a `hint` a person can act on.
// This module imports nothing so that every layer may use it.

export interface SpnegoErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class SpnegoError extends Error {
  /** Stable, machine-readable identifier (e.g. `ASN1_DECODE`, `KDC_ERR_PREAUTH_FAILED`). */
  readonly code: string;
  /** What a person can do about it, when we know. */
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: SpnegoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** Malformed or non-DER input to an ASN.1 decoder; `field` names where it went wrong. */
export class Asn1Error extends SpnegoError {
  readonly field: string;
  constructor(field: string, message: string, options: SpnegoErrorOptions = {}) {
    super('ASN1_DECODE', `${field}: ${message}`, options);
    this.field = field;
  }
}

/**
 * Cryptographic failure. Codes:
 * - `UNSUPPORTED_ENCTYPE` / `UNSUPPORTED_CKSUMTYPE`: unknown, or disabled by policy (weak crypto).
 * - `INTEGRITY`: the MAC did not verify (KRB_AP_ERR_BAD_INTEGRITY: wrong key or tampered data).
 * - `BAD_LENGTH`: ciphertext, key or checksum of an impossible length.
 * - `BAD_PARAMS`: bad string-to-key parameters.
 * - `S2K_ITERATIONS_LIMIT`: a KDC asked for more PBKDF2 iterations than the configured cap.
 */
export class CryptoError extends SpnegoError {}

/** A credential-store file (ccache, keytab) that cannot be read or written. */
export class CredentialsError extends SpnegoError {}

/** krb5.conf (or an option) that cannot be used. */
export class ConfigError extends SpnegoError {}

/** A KRB-ERROR from a KDC or peer, carrying the protocol code and its RFC 4120 name. */
export class KerberosError extends SpnegoError {
  readonly errorCode: number;
  readonly errorName: string;
  constructor(errorCode: number, errorName: string, message: string, options: SpnegoErrorOptions = {}) {
    super(errorName, message, options);
    this.errorCode = errorCode;
    this.errorName = errorName;
  }
}

/** No KDC of the realm answered; `message` lists what was tried and why each failed. */
export class KdcUnreachableError extends SpnegoError {}

/**
 * No KDC answered, and the KDC proxies tried (MS-KKDCP, `kdc = https://...`) failed in a way of
 * their own. Codes: `KDC_PROXY_HTTP_STATUS` (not 200), `KDC_PROXY_BAD_REPLY` (not a
 * KDC-PROXY-MESSAGE carrying one framed Kerberos message, or larger than allowed), `KDC_PROXY_TLS`
 * (the certificate is not trusted: system store, or krb5.conf `http_anchors`).
 */
export class KdcProxyError extends KdcUnreachableError {}

/** The server's reply could not be authenticated while mutual authentication was required. */
export class MutualAuthenticationError extends SpnegoError {}

/** The SPNEGO negotiation itself failed (reject, no common mechanism, bad mechListMIC...). */
export class SPNEGOExchangeError extends SpnegoError {}

/**
 * TLS channel bindings (RFC 5929 tls-server-end-point) could not be made or kept. Codes:
 * `BAD_CERTIFICATE` (the server certificate cannot be hashed), `CERTIFICATE_CHANGED` (the
 * connection a bound token was to travel on presented another certificate: the token is not sent),
 * `NO_BINDINGS` (a server with `channelBindings: 'required'` got a token without them).
 */
export class ChannelBindingError extends SpnegoError {}
