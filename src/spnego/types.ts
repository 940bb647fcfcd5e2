// The security-context contract between the GSS/SPNEGO layer and its users (the HTTP layer,
// the server middleware, a future `kerberos`-package shim). Independent of HTTP.
import type { Ticket } from '../asn1/index.js';
import type { Principal } from '../ccache/principal-text.js';
import type { Credentials } from '../krb5/credentials.js';
import type { Logger } from '../runtime/log.js';

/** One step's output: a token to send (if any) and whether the context is established. */
export interface StepResult {
  token?: Uint8Array;
  complete: boolean;
}

export interface SecurityContext {
  /**
   * Advances the exchange. The initiator's first call takes no input; later calls take the
   * peer's token. Throws a typed error (MutualAuthenticationError, SPNEGOExchangeError,
   * KerberosError) when the peer's token is bad.
   */
  step(input?: Uint8Array): Promise<StepResult>;
  /** True once the context is established (for an initiator with mutual auth: AP-REP verified). */
  readonly complete: boolean;
  /** The mechanism actually used: krb5 OID (`1.2.840.113554.1.2.2` or the MS one). */
  readonly mech: string | undefined;
  /**
   * An initiator's: the service principal its ticket names, once the first token is made (after
   * DNS canonicalization of a `service@host` target). Undefined before, and for acceptors.
   */
  readonly targetPrincipal?: Principal | undefined;
  /** RFC 4121 per-message tokens; available once complete. */
  getMIC(message: Uint8Array): Uint8Array;
  verifyMIC(message: Uint8Array, token: Uint8Array): void;
  wrap(message: Uint8Array, opts?: { confidential?: boolean }): Uint8Array;
  unwrap(token: Uint8Array): { message: Uint8Array; confidential: boolean };
}

export interface InitiatorOptions {
  credentials: Credentials;
  /** `HTTP/host@REALM`, `HTTP/host`, `HTTP@host`, or a Principal. */
  target: string | Principal;
  /** Ask for mutual authentication (the acceptor must send an AP-REP). Default true. */
  mutual?: boolean;
  /** Forward the TGT: true, or 'policy' = only when the service ticket is OK-AS-DELEGATE. */
  delegate?: boolean | 'policy';
  /** RFC 4121 §4.1.1.2 channel bindings (application data of gss_channel_bindings_struct). */
  channelBindings?: Uint8Array;
  /** Wrap the krb5 token in SPNEGO (default, what HTTP Negotiate uses) or send raw krb5. */
  mech?: 'spnego' | 'krb5';
  logger?: Logger;
}

export interface AcceptorResult {
  /** The authenticated client principal. */
  client: Principal;
  /** Delegated credentials when the client forwarded its TGT. */
  delegated?: Credentials;
  /** The client's ticket to this service: the evidence for S4U2Proxy (`credentials.impersonate`). */
  evidence?: S4UEvidence;
}

/** A user's ticket to this service, with what S4U2Proxy needs to know of it. */
export interface S4UEvidence {
  ticket: Ticket;
  /** The user. */
  client: Principal;
  /** This service, as the ticket names it. */
  server: Principal;
  /** Ticket flags; constrained delegation (not resource-based) needs FORWARDABLE. */
  flags: number;
}
