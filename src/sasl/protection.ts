// The negotiated SASL security layer (RFC 4752 §3.3, RFC 4422 §3.7): application data goes
// through GSS Wrap with confidentiality or integrity only, within the size the peer announced;
// what arrives must be no larger than what we announced, verify, decrypt and be in sequence.
// The 4-octet length that frames each buffer on the wire belongs to the transport (see frame.ts).
import { GssError } from '../krb5/gss/index.js';
import type { SecurityContext } from '../spnego/types.js';
import { SaslError } from './errors.js';
import type { LayerName } from './layers.js';

/**
 * The most a Wrap token adds to its message with the enctypes we speak: 16 octets of token
 * header, and with confidentiality a 16-octet confounder, the 16-octet encrypted header copy
 * and a MAC of up to 24 octets (aes256-cts-hmac-sha384-192).
 */
export const MAX_WRAP_OVERHEAD = 72;

const REPLAY_CODES = new Set(['DUPLICATE_TOKEN', 'OLD_TOKEN', 'UNSEQ_TOKEN']);

export class SaslProtection {
  constructor(
    private readonly context: SecurityContext,
    readonly layer: LayerName,
    /** Largest wrapped message we accept. */
    readonly maxReceiveSize: number,
    /** Largest wrapped message the peer accepts. */
    readonly maxSendSize: number,
  ) {}

  /** The largest message `wrap` is sure to accept (the peer's limit less the Wrap overhead). */
  get maxWrapSize(): number {
    return Math.max(0, this.maxSendSize - MAX_WRAP_OVERHEAD);
  }

  private requireLayer(op: string): void {
    if (this.layer === 'none') {
      throw new SaslError('NO_LAYER', `${op}: no security layer was negotiated`, {
        hint: 'with the none layer, application data is sent and received as is',
      });
    }
  }

  wrap(data: Uint8Array): Uint8Array {
    this.requireLayer('wrap');
    if (data.length > this.maxSendSize) throw this.tooLarge(data.length, 'message');
    const token = this.context.wrap(data, { confidential: this.layer === 'confidentiality' });
    if (token.length > this.maxSendSize) throw this.tooLarge(token.length, 'wrapped message');
    return token;
  }

  unwrap(token: Uint8Array): Uint8Array {
    this.requireLayer('unwrap');
    if (token.length > this.maxReceiveSize) {
      throw new SaslError(
        'BUFFER_TOO_LARGE',
        `the peer sent a ${token.length}-octet wrapped message; we announced at most ${this.maxReceiveSize}`,
      );
    }
    let out: { message: Uint8Array; confidential: boolean };
    try {
      out = this.context.unwrap(token);
    } catch (e) {
      throw translate(e);
    }
    if (this.layer === 'confidentiality' && !out.confidential) {
      throw new SaslError(
        'DOWNGRADED',
        'the peer sent an integrity-only message, but confidentiality was negotiated',
      );
    }
    return out.message;
  }

  private tooLarge(n: number, what: string): SaslError {
    return new SaslError(
      'BUFFER_TOO_LARGE',
      `a ${n}-octet ${what} is over the ${this.maxSendSize} octets the peer accepts`,
      { hint: `split application data into pieces of at most maxWrapSize (${this.maxWrapSize}) octets` },
    );
  }
}

/** GSS per-message failures as SASL errors (the GssError stays the cause). */
export function translate(e: unknown): unknown {
  if (!(e instanceof GssError)) return e;
  if (REPLAY_CODES.has(e.code)) {
    return new SaslError('REPLAYED', `wrapped message refused: ${e.message}`, {
      cause: e,
      hint: 'a replayed, duplicated or reordered message: the connection is not safe to continue',
    });
  }
  if (e.code === 'BAD_MIC' || e.code === 'DEFECTIVE_TOKEN') {
    return new SaslError('TAMPERED', `wrapped message refused: ${e.message}`, {
      cause: e,
      hint: 'the message was modified in transit or made with another key',
    });
  }
  return e;
}
