// RFC 4178 SPNEGO security contexts over the Kerberos mechanism, independent of HTTP.
export { type AcceptorContext, type AcceptorContextOptions, createAcceptorContext } from './acceptor.js';
export { createInitiatorContext, InitiatorContext } from './initiator.js';
export type { AcceptorResult, InitiatorOptions, SecurityContext, StepResult } from './types.js';
