// The main entry's createInitiatorContext. The initiator brings the Kerberos engine with it
// (crypto, the ASN.1 codecs, the TGS exchange behind Credentials), which `import('spnego')` does
// not load: a serverless instance pays for it with its first token, not at start. It is async
// already, so loading the implementation inside it changes nothing for the caller. The other
// entries use ./initiator.js directly.
import type { InitiatorContext } from './initiator.js';
import type { InitiatorOptions } from './types.js';

// Kept once loaded: a repeated import() costs a trip through the module loader per context.
let loading: Promise<typeof import('./initiator.js')> | undefined;

/** An RFC 4178 SPNEGO initiator context (see ./initiator.ts), its code loaded on the first call. */
export async function createInitiatorContext(opts: InitiatorOptions): Promise<InitiatorContext> {
  loading ??= import('./initiator.js');
  return (await loading).createInitiatorContext(opts);
}
