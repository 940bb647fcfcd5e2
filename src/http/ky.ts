// `negotiate()`: ky options that add HTTP Negotiate, for `ky.extend(negotiate())`.
//
// The work happens in ky's `fetch`, wrapped per request by an `init` hook, rather than in
// `afterResponse`: afterResponse hooks cannot see the user's own `fetch` option, get a request
// whose body is already consumed when `retry` is 0, and run after fetch has already followed
// redirects across origins. Inside fetch, every ky attempt (retries included) is one complete,
// independent Negotiate exchange, and ky's timeout, retry and hooks apply to it as to any request.
import type { Options } from 'ky';
import { createNegotiator, type FetchLike, type NegotiateInternals } from './fetch.js';
import type { NegotiateOptions } from './options.js';

const INNER = Symbol('spnego.innerFetch');
type Wrapped = FetchLike & { [INNER]?: FetchLike };

/** ky options (hooks) that authenticate requests with Negotiate; pass them to `ky.extend`. */
export function negotiate(options: NegotiateOptions = {}): Options {
  return negotiateWith(options, {});
}

/** negotiate() with test seams. */
export function negotiateWith(options: NegotiateOptions, internals: NegotiateInternals): Options {
  const negotiator = createNegotiator(options, internals);
  return {
    hooks: {
      init: [
        (o) => {
          // A later extend with negotiate() replaces an earlier one instead of stacking on it.
          const current = o.fetch as Wrapped | undefined;
          const inner: FetchLike = current?.[INNER] ?? current ?? ((i, n) => globalThis.fetch(i, n));
          const wrapped: Wrapped = (input, init) => negotiator.fetch(input, init, inner);
          wrapped[INNER] = inner;
          o.fetch = wrapped;
        },
      ],
    },
  };
}
