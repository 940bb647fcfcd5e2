// `negotiate()`: ky options that add HTTP Negotiate, for `ky.extend(negotiate())`, on ky 1 and
// ky 2.
//
// ky 2: the work happens in ky's `fetch`, wrapped per request by an `init` hook, rather than in
// `afterResponse`: afterResponse hooks cannot see the user's own `fetch` option, get a request
// whose body is already consumed when `retry` is 0, and run after fetch has already followed
// redirects across origins. Inside fetch, every ky attempt (retries included) is one complete,
// independent Negotiate exchange, and ky's timeout, retry and hooks apply to it as to any request.
//
// ky 1 has no `init` hook (it ignores it). There a `beforeRequest` hook does the same exchange
// over ky's `fetch` option and returns the final response, which ky 1 then treats as the
// response of that attempt (retry, afterResponse hooks, HTTPError). ky 2 calls beforeRequest with
// one state object instead of (request, options), so the hook does nothing there.
//
// The returned type is declared here, not imported from ky, so that the main entry's
// declarations typecheck for users of negotiateFetch who have no ky installed; it is assignable
// to the `Options` of ky 1 and of ky 2.
import { createNegotiator, type FetchLike, type NegotiateInternals } from './fetch.js';
import type { NegotiateOptions } from './options.js';

const INNER = Symbol('spnego.innerFetch');
type Wrapped = FetchLike & { [INNER]?: FetchLike };

/** What `negotiate()` returns: ky options (hooks) for `ky.extend(...)`, ky 1 or ky 2. */
export interface NegotiateKyOptions {
  hooks: {
    /** ky 2: wraps the request's `fetch` in the Negotiate exchange. */
    init: Array<(options: { fetch?: unknown }) => void>;
    /** ky 1: runs the exchange over ky's `fetch` and answers with its final response. */
    beforeRequest: Array<(request?: unknown, options?: unknown) => Promise<Response | undefined>>;
  };
}

/** ky options (hooks) that authenticate requests with Negotiate; pass them to `ky.extend`. */
export function negotiate(options: NegotiateOptions = {}): NegotiateKyOptions {
  return negotiateWith(options, {});
}

const defaultFetch: FetchLike = (i, n) => globalThis.fetch(i, n);

/** negotiate() with test seams. */
export function negotiateWith(options: NegotiateOptions, internals: NegotiateInternals): NegotiateKyOptions {
  const negotiator = createNegotiator(options, internals);
  const ky1 = async (request?: unknown, kyOptions?: unknown): Promise<Response | undefined> => {
    // ky 2 passes one state object: its init hook has already wrapped fetch.
    if (!(request instanceof Request)) return undefined;
    const own = (kyOptions as { fetch?: unknown } | undefined)?.fetch;
    const inner = typeof own === 'function' ? (own as FetchLike) : defaultFetch;
    return negotiator.fetch(request.clone(), undefined, inner);
  };
  return {
    hooks: {
      init: [
        (o) => {
          // A later extend with negotiate() replaces an earlier one instead of stacking on it.
          const current = o.fetch as Wrapped | undefined;
          const inner: FetchLike = current?.[INNER] ?? current ?? defaultFetch;
          const wrapped: Wrapped = (input, init) => negotiator.fetch(input, init, inner);
          wrapped[INNER] = inner;
          o.fetch = wrapped;
        },
      ],
      beforeRequest: [ky1],
    },
  };
}
