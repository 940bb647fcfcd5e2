// RFC 4121 §4.2 per-message operations, shared by both sides: once a context is established
// they all go to the mechanism's MessageProtection; before that they fail with NO_CONTEXT.
import type { MessageProtection } from '../krb5/gss/per-message.js';

export abstract class PerMessageOps {
  /** The established context's protection, or a GssError NO_CONTEXT. */
  protected abstract messages(): MessageProtection;

  getMIC(message: Uint8Array): Uint8Array {
    return this.messages().getMIC(message);
  }
  verifyMIC(message: Uint8Array, token: Uint8Array): void {
    this.messages().verifyMIC(message, token);
  }
  wrap(message: Uint8Array, opts: { confidential?: boolean } = {}): Uint8Array {
    return this.messages().wrap(message, opts.confidential ?? true);
  }
  unwrap(token: Uint8Array): { message: Uint8Array; confidential: boolean } {
    return this.messages().unwrap(token);
  }
}
