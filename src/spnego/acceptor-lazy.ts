// The main entry's createAcceptorContext. The acceptor (keytab reading, AP-REQ checks, replay
// cache, transited policy) is server code a client never runs, so `import('spnego')` does not
// load it: the context loads its implementation on the first step(). spnego/server and the
// other entries use ./acceptor.js directly.
import { GssError } from '../krb5/gss/errors.js';
import type { AcceptorContext, AcceptorContextOptions } from './acceptor.js';
import type { AcceptorResult, StepResult } from './types.js';

class LazyAcceptorContext implements AcceptorContext {
  private impl: AcceptorContext | undefined;
  private loading: Promise<AcceptorContext> | undefined;

  constructor(private readonly o: AcceptorContextOptions) {}

  async step(input?: Uint8Array): Promise<StepResult> {
    this.loading ??= import('./acceptor.js').then((m) => {
      this.impl = m.createAcceptorContext(this.o);
      return this.impl;
    });
    return (await this.loading).step(input);
  }

  get complete(): boolean {
    return this.impl?.complete ?? false;
  }
  get mech(): string | undefined {
    return this.impl?.mech;
  }
  get accepted(): AcceptorContext['accepted'] {
    return this.impl?.accepted;
  }

  /** Before the first step there is no context, exactly as the implementation would say. */
  private established(): AcceptorContext {
    if (this.impl === undefined)
      throw new GssError('NO_CONTEXT', 'the security context is not established yet');
    return this.impl;
  }
  result(): AcceptorResult {
    return this.established().result();
  }
  getMIC(message: Uint8Array): Uint8Array {
    return this.established().getMIC(message);
  }
  verifyMIC(message: Uint8Array, token: Uint8Array): void {
    this.established().verifyMIC(message, token);
  }
  wrap(message: Uint8Array, opts?: { confidential?: boolean }): Uint8Array {
    return this.established().wrap(message, opts);
  }
  unwrap(token: Uint8Array): { message: Uint8Array; confidential: boolean } {
    return this.established().unwrap(token);
  }
}

/** An RFC 4178 SPNEGO acceptor context (see ./acceptor.ts), its code loaded on the first step(). */
export function createAcceptorContext(opts: AcceptorContextOptions): AcceptorContext {
  return new LazyAcceptorContext(opts);
}
