// `spnego/got`: HTTP Negotiate for got, as a thin layer over the shared flow. got lets a
// `beforeRequest` hook answer a request itself; ours runs the whole Negotiate exchange (legs,
// redirects with their token rules, mutual authentication) with fetch and hands got the final
// response, which then goes through got's own pipeline (HTTP errors, retries, parsing). got
// stays an optional peer dependency: nothing here imports it at run time.
import type { BeforeRequestHook, ExtendOptions, Options } from 'got';
import { createNegotiator, type FetchLike, type NegotiateInternals } from '../http/fetch.js';
import type { NegotiateOptions } from '../http/options.js';
import { incomingMessageLike } from '../runtime/node-response.js';
import { collectBody } from './body.js';

async function bodyOf(body: Options['body']): Promise<Uint8Array | string | undefined> {
  if (body === undefined) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    return collectBody(body as AsyncIterable<Uint8Array | string>);
  }
  throw new TypeError('spnego/got: unsupported request body type');
}

/** got options (a beforeRequest hook) for `got.extend(negotiateGot(options))`. */
export function negotiateGot(options: NegotiateOptions = {}, fetchImpl?: FetchLike): ExtendOptions {
  return negotiateGotWith(options, {}, fetchImpl);
}

/** negotiateGot() with test seams. */
export function negotiateGotWith(
  options: NegotiateOptions,
  internals: NegotiateInternals,
  fetchImpl: FetchLike = (i, n) => globalThis.fetch(i, n),
): ExtendOptions {
  const negotiator = createNegotiator(options, internals);
  const hook: BeforeRequestHook = async (o) => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(o.headers)) {
      if (v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) headers.append(k, String(x));
    }
    // fetch decodes the body itself; got must not ask for an encoding it would decode again.
    headers.delete('accept-encoding');
    const body = await bodyOf(o.body);
    const res = await negotiator.fetch(
      String(o.url),
      {
        method: o.method,
        headers,
        ...(body === undefined ? {} : { body: body as BodyInit }),
        redirect: o.followRedirect === false ? 'manual' : 'follow',
        ...(o.signal ? { signal: o.signal as AbortSignal } : {}),
      },
      fetchImpl,
    );
    return incomingMessageLike(res) as unknown as ReturnType<BeforeRequestHook>;
  };
  return { hooks: { beforeRequest: [hook] } };
}
