// GSS-level failures that are not a Kerberos protocol error code (RFC 2743 §1.2.1 major statuses).
import { SpnegoError } from '../../errors.js';

/**
 * Codes: `DEFECTIVE_TOKEN` (malformed or unexpected token), `BAD_MIC` (per-message checksum or
 * decryption failed), `DUPLICATE_TOKEN`, `OLD_TOKEN`, `UNSEQ_TOKEN` (sequence checks),
 * `BAD_BINDINGS` (channel bindings differ), `NO_CONTEXT` (not established yet),
 * `UNSUPPORTED_PER_MESSAGE` (rc4-hmac MIC/Wrap, RFC 4757 §7, is not implemented).
 */
export class GssError extends SpnegoError {}
