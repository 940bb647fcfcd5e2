// `spnego/got`: HTTP Negotiate for got, as a thin layer over the shared flow. got lets a
// `beforeRequest` hook answer a request itself; ours runs the whole Negotiate exchange (legs,
// redirects with their token rules, mutual authentication) with fetch and hands got the final
// response, which then goes through got's own pipeline (HTTP errors, retries, parsing). Over
// https on Node the legs go on connections of our own (src/http/direct.ts) so that tokens are
// bound to the server certificate of the connection they travel on (channelBindings, on by
// default), unless you pass your own fetch. got stays an optional peer dependency: nothing here
// imports it at run time.
import type { BeforeRequestHook, ExtendOptions, Options } from 'got';
import type { DirectTlsOptions } from '../http/direct.js';
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

/** negotiate()'s options, and TLS for the https connections the adapter makes itself. */
export interface NegotiateGotOptions extends NegotiateOptions {
  /**
   * Trust anchors (`ca`) for the https connections that carry bound tokens (default: Node's
   * store and NODE_EXTRA_CA_CERTS). Not used with your own `fetchImpl`, nor with channelBindings: false.
   */
  tls?: DirectTlsOptions;
}

/**
 * got options (a beforeRequest hook) for `got.extend(negotiateGot(options))`. `fetchImpl`: send
 * every leg with this fetch instead (its tokens then carry no channel bindings).
 */
export function negotiateGot(options: NegotiateGotOptions = {}, fetchImpl?: FetchLike): ExtendOptions {
  return negotiateGotWith(options, {}, fetchImpl);
}

/** negotiateGot() with test seams. */
export function negotiateGotWith(
  options: NegotiateGotOptions,
  internals: NegotiateInternals,
  fetchImpl?: FetchLike,
): ExtendOptions {
  const { tls, ...negotiate } = options;
  const negotiator = createNegotiator(negotiate, internals);
  // Without a fetch of the caller's, https legs go on our own connections (bound tokens).
  const own = fetchImpl === undefined ? (tls === undefined ? {} : { tls }) : undefined;
  const send: FetchLike = fetchImpl ?? ((i, n) => globalThis.fetch(i, n));
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
      send,
      own,
    );
    return incomingMessageLike(res) as unknown as ReturnType<BeforeRequestHook>;
  };
  return { hooks: { beforeRequest: [hook] } };
}
