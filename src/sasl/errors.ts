// SASL GSSAPI failures (RFC 4752) that are not already a Kerberos or GSS error.
import { SpnegoError } from '../errors.js';

/**
 * Codes:
 * - `NO_ACCEPTABLE_LAYER`: the peer offered (or chose) no security layer we accept.
 * - `BUFFER_TOO_LARGE`: a message over the negotiated maximum buffer size (either direction).
 * - `TAMPERED`: a wrapped message whose checksum or decryption fails.
 * - `REPLAYED`: a wrapped message seen before, too old, or out of order (sequence numbers).
 * - `DOWNGRADED`: an integrity-only message where confidentiality was negotiated.
 * - `NO_LAYER`: wrap/unwrap called although no security layer was negotiated.
 * - `BAD_LAYER_MESSAGE`: the security-layer negotiation message is malformed.
 * - `AUTHZ_REFUSED`: the server does not let the client act as the authorization identity it asked for.
 * - `BAD_STATE`: a step, wrap or unwrap called at the wrong time (before or after the exchange).
 * - `UNEXPECTED_TOKEN`: a challenge or response where the exchange allows none (or the reverse).
 * - `BAD_OPTION`: an option that cannot be used.
 */
export class SaslError extends SpnegoError {}
