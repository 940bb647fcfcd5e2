// GSS-level failures that are not a Kerberos protocol error code (RFC 2743 §1.2.1 major statuses).
import { SpnegoError } from '../../errors.js';

/**
 * Codes: `DEFECTIVE_TOKEN` (malformed or unexpected token), `BAD_MIC` (per-message checksum or
 * decryption failed), `DUPLICATE_TOKEN`, `OLD_TOKEN`, `UNSEQ_TOKEN` (sequence checks),
 * `BAD_BINDINGS` (channel bindings differ), `NO_CONTEXT` (not established yet),
 * `UNSUPPORTED_PER_MESSAGE` (an RFC 4121 token names a key that speaks RFC 4757 tokens only).
 */
export class GssError extends SpnegoError {}
