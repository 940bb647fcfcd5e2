// `spnego/axios`: HTTP Negotiate for axios, as a thin layer over the shared flow. A request
// interceptor routes the request through axios's own fetch adapter with the negotiator as its
// fetch (axios's `env.fetch`), so legs, redirects and mutual authentication are exactly those of
// negotiate(); a response interceptor hands our typed errors (MutualAuthenticationError,
// ChannelBindingError, the TypeError of a refused redirect) back as they are instead of wrapped
// in an AxiosError. Over https on Node the legs go on connections of our own (src/http/direct.ts)
// so that tokens are bound to the server certificate of the connection they travel on
// (channelBindings, on by default), unless you pass your own fetch. axios itself stays an
// optional peer dependency: nothing here imports it at run time.
import type { AxiosError, AxiosInstance, InternalAxiosRequestConfig } from 'axios';
import { SpnegoError } from '../errors.js';
import type { DirectTlsOptions } from '../http/direct.js';
import { createNegotiator, type FetchLike, type NegotiateInternals } from '../http/fetch.js';
import type { NegotiateOptions } from '../http/options.js';

/** negotiate()'s options, and TLS for the https connections the adapter makes itself. */
export interface NegotiateAxiosOptions extends NegotiateOptions {
  /**
   * Trust anchors (`ca`) for the https connections that carry bound tokens (default: Node's
   * store and NODE_EXTRA_CA_CERTS). Not used with your own `fetchImpl`, nor with channelBindings: false.
   */
  tls?: DirectTlsOptions;
}

/**
 * A request interceptor: `instance.interceptors.request.use(negotiateInterceptor(options))`.
 * `fetchImpl`: send every leg with this fetch instead (its tokens then carry no channel bindings).
 */
export function negotiateInterceptor(
  options: NegotiateAxiosOptions = {},
  fetchImpl?: FetchLike,
): (config: InternalAxiosRequestConfig) => InternalAxiosRequestConfig {
  return negotiateInterceptorWith(options, {}, fetchImpl);
}

/** negotiateInterceptor() with test seams. */
export function negotiateInterceptorWith(
  options: NegotiateAxiosOptions,
  internals: NegotiateInternals,
  fetchImpl?: FetchLike,
): (config: InternalAxiosRequestConfig) => InternalAxiosRequestConfig {
  const { tls, ...negotiate } = options;
  const negotiator = createNegotiator(negotiate, internals);
  // Without a fetch of the caller's, https legs go on our own connections (bound tokens).
  const own = fetchImpl === undefined ? (tls === undefined ? {} : { tls }) : undefined;
  const send: FetchLike = fetchImpl ?? ((i, n) => globalThis.fetch(i, n));
  const fetchKrb: FetchLike = (input, init) => negotiator.fetch(input, init, send, own);
  return (config) => {
    config.adapter = 'fetch';
    config.env = { ...(config.env ?? {}), fetch: fetchKrb };
    return config;
  };
}

/** Our own failures, unwrapped from axios's AxiosError so they read as with ky and fetch. */
export function unwrapNegotiateError(error: unknown): never {
  const cause = (error as AxiosError | undefined)?.cause;
  if (cause instanceof SpnegoError) throw cause;
  if (cause instanceof TypeError && cause.cause instanceof SpnegoError) throw cause;
  throw error;
}

/** Adds Negotiate to an axios instance (both interceptors) and returns it. */
export function negotiateAxios<T extends AxiosInstance>(
  instance: T,
  options: NegotiateAxiosOptions = {},
  fetchImpl?: FetchLike,
): T {
  instance.interceptors.request.use(negotiateInterceptor(options, fetchImpl));
  instance.interceptors.response.use(undefined, unwrapNegotiateError);
  return instance;
}
