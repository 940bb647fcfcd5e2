// `spnego/axios`: HTTP Negotiate for axios, as a thin layer over the shared flow. A request
// interceptor routes the request through axios's own fetch adapter with negotiateFetch() as its
// fetch (axios's `env.fetch`), so legs, redirects and mutual authentication are exactly those of
// negotiate(); a response interceptor hands our typed errors (MutualAuthenticationError, the
// TypeError of a refused redirect) back as they are instead of wrapped in an AxiosError. axios
// itself stays an optional peer dependency: nothing here imports it at run time.
import type { AxiosError, AxiosInstance, InternalAxiosRequestConfig } from 'axios';
import { SpnegoError } from '../errors.js';
import { createNegotiator, type FetchLike, type NegotiateInternals } from '../http/fetch.js';
import type { NegotiateOptions } from '../http/options.js';

/** A request interceptor: `instance.interceptors.request.use(negotiateInterceptor(options))`. */
export function negotiateInterceptor(
  options: NegotiateOptions = {},
  fetchImpl?: FetchLike,
): (config: InternalAxiosRequestConfig) => InternalAxiosRequestConfig {
  return negotiateInterceptorWith(options, {}, fetchImpl);
}

/** negotiateInterceptor() with test seams. */
export function negotiateInterceptorWith(
  options: NegotiateOptions,
  internals: NegotiateInternals,
  fetchImpl: FetchLike = (i, n) => globalThis.fetch(i, n),
): (config: InternalAxiosRequestConfig) => InternalAxiosRequestConfig {
  const negotiator = createNegotiator(options, internals);
  const fetchKrb: FetchLike = (input, init) => negotiator.fetch(input, init, fetchImpl);
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
  options: NegotiateOptions = {},
  fetchImpl?: FetchLike,
): T {
  instance.interceptors.request.use(negotiateInterceptor(options, fetchImpl));
  instance.interceptors.response.use(undefined, unwrapNegotiateError);
  return instance;
}
