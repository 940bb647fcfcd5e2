// Negotiate for servers: Connect/Express-style middleware for node:http, and a wrapper for
// fetch-style handlers (Hono, Bun.serve, Deno.serve). Missing or bad auth gets a 401 with
// `WWW-Authenticate: Negotiate`; success runs the handler with the client on the request and
// puts the AP-REP (mutual authentication) in the response's `WWW-Authenticate`.
import { ConfigError, CredentialsError, SpnegoError } from '../errors.js';
import type { Credentials } from '../krb5/credentials.js';
import { ReplayCacheError } from '../krb5/gss/replay-cache.js';
import { tlsServerEndPoint } from '../krb5/gss/tls-bindings.js';
import { base64Decode, base64Encode } from '../spnego/base64.js';
import {
  type AcceptChannel,
  type Acceptor,
  type AcceptorOptions,
  type AcceptResult,
  createAcceptor,
} from './acceptor.js';

/** What the middleware adds to the request. */
export interface NegotiateInfo {
  /** `user@REALM` */
  user: string;
  principal: AcceptResult['principal'];
  delegated: AcceptResult['delegated'];
  /** The user's ticket to this service: S4U2Proxy's evidence. */
  evidence: AcceptResult['evidence'];
  /** The client bound its token to this TLS channel (RFC 5929 tls-server-end-point of our certificate). */
  channelBound: boolean;
  /**
   * Constrained delegation (MS-SFU S4U2Proxy): credentials acting for this user, made with the
   * service's own credentials (e.g. `Credentials.fromKeytab('HTTP/web.example.com', keytab)`);
   * give them to `negotiateFetch({ credentials })` to call a back end as the user. The KDC
   * decides which back ends are allowed (msDS-AllowedToDelegateTo, or resource-based delegation).
   */
  impersonate(service: Credentials): Promise<Credentials>;
}

function negotiateInfo(r: AcceptResult): NegotiateInfo {
  const evidence = r.evidence;
  return {
    user: r.user,
    principal: r.principal,
    delegated: r.delegated,
    evidence,
    channelBound: r.channelBound,
    impersonate: (service) => {
      if (!evidence) {
        return Promise.reject(
          new CredentialsError('NO_EVIDENCE', `no ticket of ${r.user} to act with`, {
            hint: 'S4U2Proxy needs the user ticket this request authenticated with',
          }),
        );
      }
      return service.impersonate(evidence);
    },
  };
}

/** The parts of node:http's IncomingMessage the middleware reads (structural, runtime-neutral). */
export interface RequestLike {
  headers: Record<string, string | string[] | undefined>;
  method?: string;
  url?: string;
  negotiate?: NegotiateInfo;
  /** Set like Apache's REMOTE_USER. */
  remoteUser?: string;
  /** node:tls's TLSSocket on https: its own certificate gives the channel bindings. */
  socket?: object | null;
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
  /**
   * TLS channel bindings (RFC 5929 tls-server-end-point of this server's certificate, RFC 4121
   * §4.1.1.2), IIS's Extended Protection. `'if-present'` (default): a token bound to another
   * channel is refused (relayed through another TLS connection), an unbound one accepted.
   * `'required'`: an unbound token is refused too. `false`: bindings are not checked. Plain HTTP
   * has no certificate: `'if-present'` checks nothing there, `'required'` answers 500.
   * `req.negotiate.channelBound` says whether the client bound its token.
   */
  channelBindings?: 'required' | 'if-present' | false;
  /**
   * This server's certificate (DER bytes or PEM text, the first certificate is used) for channel
   * bindings. The middleware reads it from the TLS socket itself; negotiateHandler needs it given
   * (a fetch-style Request hides the connection): pass the `cert` you gave Bun.serve/Deno.serve.
   */
  certificate?: Uint8Array | string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/;

function certificateBytes(c: Uint8Array | string): Uint8Array {
  if (typeof c !== 'string') return c;
  const m = PEM_CERT.exec(c);
  if (!m) {
    throw new ConfigError('BAD_OPTION', 'certificate is not a PEM certificate', {
      hint: 'certificate: the DER bytes or the PEM text (-----BEGIN CERTIFICATE-----) of the server certificate',
    });
  }
  return base64Decode(m[1]!.replace(/\s+/g, ''));
}

/** Channel-binding policy of a middleware, from its options; throws on bad values. */
function channelPolicy(opts: MiddlewareOptions): {
  mode: 'required' | 'if-present' | false;
  fixed: Uint8Array | undefined;
} {
  const mode = opts.channelBindings ?? 'if-present';
  if (mode !== 'required' && mode !== 'if-present' && mode !== false) {
    throw new ConfigError(
      'BAD_OPTION',
      `channelBindings must be 'required', 'if-present' or false, not ${String(mode)}`,
      {
        hint: "channelBindings: 'required' refuses tokens not bound to this server's TLS certificate",
      },
    );
  }
  const fixed =
    opts.certificate === undefined ? undefined : tlsServerEndPoint(certificateBytes(opts.certificate));
  return { mode, fixed };
}

/** The channel a request's token is checked against, or undefined when there is none to check. */
function channelFor(
  policy: ReturnType<typeof channelPolicy>,
  socketCert: () => Uint8Array | undefined,
): AcceptChannel | undefined {
  if (policy.mode === false) return undefined;
  let bindings = policy.fixed;
  if (bindings === undefined) {
    const cert = socketCert();
    if (cert !== undefined) bindings = tlsServerEndPoint(cert);
  }
  if (bindings === undefined) {
    if (policy.mode === 'required')
      throw new ConfigError(
        'NO_CERTIFICATE',
        "channelBindings: 'required' but this request came without TLS",
        {
          hint: 'serve over https (node:https), give negotiateHandler the certificate option, or use if-present',
        },
      );
    return undefined;
  }
  return { bindings, required: policy.mode === 'required' };
}

function socketCertificate(req: RequestLike): Uint8Array | undefined {
  const s = req.socket as { getCertificate?(): { raw?: Uint8Array } | null } | null | undefined;
  const c = typeof s?.getCertificate === 'function' ? s.getCertificate() : undefined;
  return c?.raw && c.raw.length > 0 ? new Uint8Array(c.raw) : undefined;
}

/** Outcome of checking one request's Authorization header. */
export type CheckResult =
  | { ok: true; result: AcceptResult; wwwAuthenticate: string | undefined }
  | { ok: false; status: 401; wwwAuthenticate: string; reason: string };

const TOKEN_CHARS = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}$/;

/** What a request without a Negotiate token offered, for the log: the scheme name, never credentials. */
function offeredScheme(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return 'no Authorization header';
  const scheme = value.trim().split(' ', 1)[0] ?? '';
  return TOKEN_CHARS.test(scheme)
    ? `the client offered ${scheme}, not Negotiate`
    : 'the client offered another scheme, not Negotiate';
}

const INTERNAL_ERROR = 'Internal Server Error\n';
const UNAVAILABLE = 'Service Unavailable\n';

/**
 * Errors of the server's own setup or state (keytab, krb5.conf, a full or unreachable replay
 * cache), as opposed to a bad client token.
 */
function isServerFault(e: unknown): boolean {
  return e instanceof CredentialsError || e instanceof ConfigError || e instanceof ReplayCacheError;
}

/**
 * The status a server fault is answered with: 503 when the replay cache cannot record (the
 * request may succeed later and the client's credentials are not at fault), else 500.
 */
function faultStatus(e: unknown): 500 | 503 {
  return e instanceof ReplayCacheError ? 503 : 500;
}

/**
 * The runtime-neutral core both middlewares use. A bad or missing client token is a 401
 * result; a server-side failure (unreadable keytab, bad configuration) is thrown.
 */
export async function checkAuthorization(
  acceptor: Acceptor,
  header: string | string[] | undefined,
  channel?: AcceptChannel | (() => AcceptChannel | undefined),
): Promise<CheckResult> {
  let token: Uint8Array | undefined;
  try {
    token = negotiateToken(header);
  } catch (e) {
    const reason = `${e instanceof SpnegoError ? e.code : 'BAD_TOKEN'}: ${e instanceof Error ? e.message : String(e)}`;
    acceptor.log(`rejected: ${reason}`);
    return { ok: false, status: 401, wwwAuthenticate: 'Negotiate', reason };
  }
  if (token === undefined) {
    // The first leg of RFC 4559 (§4.1): a challenge, not a failed authentication, so it is not
    // logged as `rejected` (which counts requests whose credentials were refused).
    const reason = `NO_TOKEN: ${offeredScheme(header)}`;
    acceptor.log(`challenge: ${reason}`);
    return { ok: false, status: 401, wwwAuthenticate: 'Negotiate', reason };
  }
  try {
    const ch = typeof channel === 'function' ? channel() : channel;
    const result = await (ch === undefined ? acceptor.accept(token) : acceptor.accept(token, ch));
    acceptor.log(
      `accepted ${result.user}${result.delegated ? ' (with delegated credentials)' : ''}${result.channelBound ? ' (channel-bound)' : ''}`,
    );
    return {
      ok: true,
      result,
      wwwAuthenticate: result.responseToken ? `Negotiate ${base64Encode(result.responseToken)}` : undefined,
    };
  } catch (e) {
    if (isServerFault(e)) {
      // An unreadable keytab or broken configuration says nothing about the client's
      // credentials: a 401 would make browsers retry or prompt and hide the outage (RFC 7235
      // §3.1). Thrown, so that the middlewares answer 500 (details only in the log).
      acceptor.log(`error: ${(e as SpnegoError).code}: ${(e as Error).message}`);
      throw e;
    }
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
  const policy = channelPolicy(opts);
  return (req, res, next) => {
    checkAuthorization(acceptor, req.headers['authorization'], () =>
      channelFor(policy, () => socketCertificate(req)),
    ).then(
      (r) => {
        // Something else (a timeout middleware, say) already answered while the token was being
        // checked: headers can no longer be set (node:http would throw ERR_HTTP_HEADERS_SENT from
        // here, an unhandled rejection), and the handler must not run for a finished response.
        if (res.headersSent) {
          acceptor.log(
            `response already sent (status ${res.statusCode}) before authentication finished; ${r.ok ? `not running the handler for ${r.result.user}` : 'no 401 sent'}`,
          );
          return;
        }
        if (!r.ok) {
          res.statusCode = r.status;
          res.setHeader('WWW-Authenticate', r.wwwAuthenticate);
          res.setHeader('Content-Type', 'text/plain; charset=utf-8');
          res.end('Unauthorized\n');
          return;
        }
        req.negotiate = negotiateInfo(r.result);
        req.remoteUser = r.result.user;
        if (r.wwwAuthenticate) res.setHeader('WWW-Authenticate', r.wwwAuthenticate);
        next();
      },
      (e: unknown) => {
        // A server-side failure (unreadable keytab...): fail closed with a bare 500 rather than
        // next(err), which a plain node:http `next` that ignores its argument would turn into
        // an unauthenticated pass. The details went to the log, not to the client.
        if (!(e instanceof SpnegoError)) acceptor.log(`error: ${e instanceof Error ? e.message : String(e)}`);
        if (res.headersSent) return;
        res.statusCode = faultStatus(e);
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end(res.statusCode === 503 ? UNAVAILABLE : INTERNAL_ERROR);
      },
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
  const policy = channelPolicy(opts);
  return async (req, ...rest) => {
    let r: CheckResult;
    try {
      r = await checkAuthorization(acceptor, req.headers.get('authorization') ?? undefined, () =>
        channelFor(policy, () => undefined),
      );
    } catch (e) {
      // Server-side failure, logged by checkAuthorization: a bare 500, no details for the client.
      if (!(e instanceof SpnegoError)) acceptor.log(`error: ${e instanceof Error ? e.message : String(e)}`);
      const status = faultStatus(e);
      return new Response(status === 503 ? UNAVAILABLE : INTERNAL_ERROR, {
        status,
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      });
    }
    if (!r.ok) {
      return new Response('Unauthorized\n', {
        status: 401,
        headers: { 'WWW-Authenticate': r.wwwAuthenticate, 'Content-Type': 'text/plain; charset=utf-8' },
      });
    }
    const res = await handler(req, { negotiate: negotiateInfo(r.result) }, ...rest);
    if (!r.wwwAuthenticate) return res;
    // Appended, not set: a challenge the handler gave itself (`Bearer` on its own 401) stays, as
    // mod_auth_gssapi adds its token beside the application's headers.
    try {
      // In place when the headers are mutable: a 101 (Deno's WebSocket upgrade) cannot be rebuilt.
      res.headers.append('WWW-Authenticate', r.wwwAuthenticate);
      return res;
    } catch {
      // Immutable headers (e.g. a Response from fetch()): copy it below.
    }
    const headers = new Headers(res.headers);
    headers.append('WWW-Authenticate', r.wwwAuthenticate);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
}
