// Which objects are this copy's `Credentials`, answered without loading the class: the main
// entry checks its `credentials` option when negotiate()/negotiateFetch() is called, but the
// Kerberos engine behind the class (ccache, crypto, ASN.1, the KDC exchanges) loads only with
// the first token. The class marks each instance it builds; a Credentials of a second installed
// copy of this package is marked in that copy's set, not this one, exactly as `instanceof`
// would refuse it.
import type { Credentials } from './credentials.js';

const built = new WeakSet<object>();

/** Called by the Credentials constructor. */
export function markCredentials(credentials: object): void {
  built.add(credentials);
}

/** `v instanceof Credentials`, without the class. */
export function isCredentials(v: unknown): v is Credentials {
  return typeof v === 'object' && v !== null && built.has(v);
}
