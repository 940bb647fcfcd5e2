// Negotiate for servers: Connect/Express-style middleware for node:http, and a wrapper for
// fetch-style handlers (Hono, Bun.serve, Deno.serve). Missing or bad auth gets a 401 with
// `WWW-Authenticate: Negotiate`; success runs the handler with the client on the request and
// puts the AP-REP (mutual authentication) in the response's `WWW-Authenticate`.
import { SpnegoError } from '../errors.js';
import { base64Decode, base64Encode } from '../http/base64.js';
import { type Acceptor, type AcceptorOptions, type AcceptResult, createAcceptor } from './acceptor.js';

/** What the middleware adds to the request. */
export interface NegotiateInfo {
  /** `user@REALM` */
  user: string;
  principal: AcceptResult['principal'];
  delegated: AcceptResult['delegated'];
}

/** The parts of node:http's IncomingMessage the middleware reads (structural, runtime-neutral). */
export interface RequestLike {
  headers: Record<string, string | string[] | undefined>;
  method?: string;
  url?: string;
  negotiate?: NegotiateInfo;
  /** Set like Apache's REMOTE_USER. */
  remoteUser?: string;
}

/** The parts of node:http's ServerResponse the middleware writes. */
export interface ResponseLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
  headersSent?: boolean;
}

export type Next = (err?: unknown) => void;

const MAX_HEADER = 64 * 1024;

/**
 * The token of an `Authorization: Negotiate <token68>` header, or undefined when the request
 * does not offer Negotiate. Bad base64 is a NegotiateRejection-style error with code BAD_TOKEN.
 */
export function negotiateToken(header: string | string[] | undefined): Uint8Array | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  if (value.length > MAX_HEADER) throw new SpnegoError('BAD_TOKEN', 'Authorization header too large');
  const trimmed = value.trim();
  const sp = trimmed.indexOf(' ');
  const scheme = sp < 0 ? trimmed : trimmed.slice(0, sp);
  if (scheme.toLowerCase() !== 'negotiate') return undefined;
  const b64 = sp < 0 ? '' : trimmed.slice(sp + 1).trim();
  if (b64 === '') throw new SpnegoError('BAD_TOKEN', 'Authorization: Negotiate carries no token');
  try {
    return base64Decode(b64);
  } catch {
    throw new SpnegoError('BAD_TOKEN', 'Authorization: Negotiate carries no valid base64 token');
  }
}

export interface MiddlewareOptions extends AcceptorOptions {
  /** An acceptor to share between middlewares; default one made from these options. */
  acceptor?: Acceptor;
}

/** Outcome of checking one request's Authorization header. */
export type CheckResult =
  | { ok: true; result: AcceptResult; wwwAuthenticate: string | undefined }
  | { ok: false; status: 401; wwwAuthenticate: string; reason: string };

/** The runtime-neutral core both middlewares use. */
export async function checkAuthorization(
  acceptor: Acceptor,
  header: string | string[] | undefined,
): Promise<CheckResult> {
  let token: Uint8Array | undefined;
  try {
    token = negotiateToken(header);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    acceptor.log(`rejected: ${reason}`);
    return { ok: false, status: 401, wwwAuthenticate: 'Negotiate', reason };
  }
  if (token === undefined)
    return { ok: false, status: 401, wwwAuthenticate: 'Negotiate', reason: 'no Negotiate credentials' };
  try {
    const result = await acceptor.accept(token);
    acceptor.log(`accepted ${result.user}${result.delegated ? ' (with delegated credentials)' : ''}`);
    return {
      ok: true,
      result,
      wwwAuthenticate: result.responseToken ? `Negotiate ${base64Encode(result.responseToken)}` : undefined,
    };
  } catch (e) {
    const code = e instanceof SpnegoError ? e.code : 'ERROR';
    const reason = `${code}: ${e instanceof Error ? e.message : String(e)}`;
    // Every rejection gets one clear line: what failed and why, never the token itself.
    acceptor.log(`rejected: ${reason}`);
    return { ok: false, status: 401, wwwAuthenticate: 'Negotiate', reason };
  }
}

/** Connect/Express middleware for node:http. `req.negotiate` and `req.remoteUser` are set on success. */
export function negotiateMiddleware(
  opts: MiddlewareOptions = {},
): (req: RequestLike, res: ResponseLike, next: Next) => void {
  const acceptor = opts.acceptor ?? createAcceptor(opts);
  return (req, res, next) => {
    checkAuthorization(acceptor, req.headers['authorization']).then(
      (r) => {
        if (!r.ok) {
          res.statusCode = r.status;
          res.setHeader('WWW-Authenticate', r.wwwAuthenticate);
          res.setHeader('Content-Type', 'text/plain; charset=utf-8');
          res.end('Unauthorized\n');
          return;
        }
        req.negotiate = { user: r.result.user, principal: r.result.principal, delegated: r.result.delegated };
        req.remoteUser = r.result.user;
        if (r.wwwAuthenticate) res.setHeader('WWW-Authenticate', r.wwwAuthenticate);
        next();
      },
      (e: unknown) => next(e),
    );
  };
}

/** Per-request information given to a wrapped fetch-style handler. */
export interface NegotiateContext {
  negotiate: NegotiateInfo;
}

/**
 * Wraps a fetch-style handler (`(Request) => Response`, as Hono, Bun.serve and Deno.serve use).
 * The handler receives the authenticated client as its second argument.
 */
export function negotiateHandler<A extends unknown[]>(
  handler: (req: Request, ctx: NegotiateContext, ...rest: A) => Response | Promise<Response>,
  opts: MiddlewareOptions = {},
): (req: Request, ...rest: A) => Promise<Response> {
  const acceptor = opts.acceptor ?? createAcceptor(opts);
  return async (req, ...rest) => {
    const r = await checkAuthorization(acceptor, req.headers.get('authorization') ?? undefined);
    if (!r.ok) {
      return new Response('Unauthorized\n', {
        status: 401,
        headers: { 'WWW-Authenticate': r.wwwAuthenticate, 'Content-Type': 'text/plain; charset=utf-8' },
      });
    }
    const res = await handler(
      req,
      { negotiate: { user: r.result.user, principal: r.result.principal, delegated: r.result.delegated } },
      ...rest,
    );
    if (!r.wwwAuthenticate) return res;
    try {
      // In place when the headers are mutable: a 101 (Deno's WebSocket upgrade) cannot be rebuilt.
      res.headers.set('WWW-Authenticate', r.wwwAuthenticate);
      return res;
    } catch {
      // Immutable headers (e.g. a Response from fetch()): copy it below.
    }
    const headers = new Headers(res.headers);
    headers.set('WWW-Authenticate', r.wwwAuthenticate);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
}
