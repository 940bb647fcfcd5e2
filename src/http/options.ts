// NegotiateOptions with requests-gssapi's meanings (camelCase), their defaults, and the
// target-name rules: which service principal a request to a given URL authenticates to.
import { type Principal, parsePrincipal } from '../ccache/principal-text.js';
import { ConfigError } from '../errors.js';
import type { Krb5Config } from '../krb5/config.js';
import type { Credentials } from '../krb5/credentials.js';
import type { Logger } from '../runtime/log.js';

/**
 * Mutual-authentication modes, with requests-gssapi's values. Annotated (non-widening) literal
 * types, so `{ mutualAuthentication: REQUIRED }` stays assignable when built apart from the call.
 */
export const REQUIRED: 1 = 1;
export const OPTIONAL: 2 = 2;
export const DISABLED: 3 = 3;
export const MutualAuth = { REQUIRED, OPTIONAL, DISABLED } as const;
export type MutualAuthMode = (typeof MutualAuth)[keyof typeof MutualAuth];

export interface NegotiateOptions {
  /**
   * REQUIRED: the final response must carry a token that completes the context (else
   * MutualAuthenticationError; error statuses are returned sanitized). OPTIONAL: a token, when
   * present, must verify. DISABLED (default, as requests-gssapi): server tokens are ignored.
   */
  mutualAuthentication?: MutualAuthMode;
  /** Under REQUIRED, an unauthenticated error response keeps only its status, Date and Server (default true). */
  sanitizeMutualErrorResponse?: boolean;
  /** Send a token with the first request, without waiting for a 401 (default false). */
  opportunisticAuth?: boolean;
  /**
   * The service to authenticate to. Default `"HTTP"`. `"svc"` means `svc@<url host>`;
   * `"svc@host"`, `"svc/host@REALM"` and a Principal are used as given.
   */
  targetName?: string | Principal;
  /**
   * A Credentials, or a principal name to pick from the ccache collection; default the default
   * ccache, else a TGT from the client keytab (KRB5_CLIENT_KTNAME, default_client_keytab_name)
   * renewed on its own, as MIT's GSSAPI does.
   */
  credentials?: Credentials | string;
  /**
   * krb5.conf as parsed by `parseConfig(text)` (from 'spnego/krb5'), for the default credentials
   * and their KDCs; default: the file KRB5_CONFIG names, else /etc/krb5.conf.
   */
  config?: Krb5Config;
  /** Forward the TGT: true, or "policy" = only when the service ticket is OK-AS-DELEGATE (default false). */
  delegate?: boolean | 'policy';
  /**
   * After a redirect, also authenticate to an origin that is not the one you asked for but uses
   * its service principal: another scheme or port of the same host, or another host registered
   * under the same principal (default false: such a token could be relayed back to the origin
   * you asked for, so the 401 is returned instead). curl's `--location-trusted`. A token never
   * goes over http once the request has been on https, whatever this says.
   */
  trustSameServiceRedirects?: boolean;
  /**
   * The forward proxy, `http://host:port` (or `https://host:port`, reached over TLS): plain-HTTP
   * requests are forwarded by it, https ones go through CONNECT. A proxy that answers 407 Negotiate is authenticated as `HTTP@<proxy host>`.
   * Default: `https_proxy`/`HTTPS_PROXY` for https URLs, `http_proxy`/`HTTP_PROXY` for http ones,
   * except hosts NO_PROXY names (as curl: names and their subdomains, IP addresses and CIDR
   * ranges, `*` for all). In a CGI program (REQUEST_METHOD set) no http proxy comes from the
   * environment (httpoxy: a request's `Proxy:` header arrives as HTTP_PROXY); pass it here.
   * `false`: no proxy (your own fetch decides).
   */
  proxy?: string | URL | false;
  /**
   * Mutual authentication of the proxy, with the values of mutualAuthentication. REQUIRED: every
   * answer of the proxy (the response it forwards, its 2xx to CONNECT) must carry a
   * `Proxy-Authenticate: Negotiate` token that completes the proxy's context, else the request
   * fails (fetch's TypeError, its cause a MutualAuthenticationError). OPTIONAL (default): a
   * token the proxy sends must verify, none is needed. DISABLED: the proxy's tokens are ignored.
   * Squid sends no token, so REQUIRED fails with it.
   */
  proxyMutualAuthentication?: MutualAuthMode;
  /**
   * Certificates (PEM) trusted for an `https://` proxy instead of the default store, as curl's
   * `--proxy-cacert`. Default: Node's store plus `NODE_EXTRA_CA_CERTS`.
   */
  proxyCa?: string | Uint8Array | ReadonlyArray<string | Uint8Array>;
  /**
   * The largest request body kept in memory so it can be sent again after a 401 (bytes; default
   * 64 MiB); past it the request fails with BODY_TOO_LARGE. With `opportunisticAuth` the body is
   * not buffered but streamed with the token, since no second leg is expected.
   */
  maxBufferedBody?: number;
  /**
   * RFC 5929 `tls-server-end-point` channel bindings over https (default true): the token is
   * bound to the certificate the server presented on the connection it travels on, which a
   * server with Extended Protection (IIS, AD services, `channelBindings: 'required'`) checks.
   * Only a client that owns its connections can do it (spnego/undici, and negotiateFetch/ky
   * through a CONNECT proxy, whose tunnel is ours); fetch and ky otherwise hide the TLS socket, so
   * their tokens carry no bindings. `false`: never bind.
   */
  channelBindings?: boolean;
  /** Console-like logger for the `spnego*` debug messages (default: DEBUG=spnego* on stderr). */
  logger?: Logger;
}

export interface ResolvedOptions {
  mutual: MutualAuthMode;
  proxyMutual: MutualAuthMode;
  sanitize: boolean;
  opportunistic: boolean;
  targetName: string | Principal;
  delegate: boolean | 'policy';
  trustSameServiceRedirects: boolean;
  maxBufferedBody: number;
  channelBindings: boolean;
}

function badOption(message: string, hint: string): ConfigError {
  return new ConfigError('BAD_OPTION', message, { hint });
}

function booleanOption(
  o: NegotiateOptions,
  name: 'sanitizeMutualErrorResponse' | 'opportunisticAuth' | 'trustSameServiceRedirects' | 'channelBindings',
  dflt: boolean,
): boolean {
  const v: unknown = o[name];
  if (v === undefined) return dflt;
  // A truthy string such as "false" must not quietly switch a security setting on.
  if (typeof v !== 'boolean')
    throw badOption(
      `${name} must be true or false, not ${describe(v)}`,
      `pass ${name}: true or ${name}: false`,
    );
  return v;
}

const describe = (v: unknown): string =>
  typeof v === 'string'
    ? JSON.stringify(v)
    : typeof v === 'object'
      ? v === null
        ? 'null'
        : 'an object'
      : String(v);

const TARGET_HINT = 'use "HTTP", "HTTP@host", "HTTP/host@REALM" or a Principal';

/** targetName as a string: a service, `service@host`, or a principal text `svc/host[@REALM]`. */
function checkTargetText(t: string): void {
  const bad = (why: string): ConfigError => badOption(`targetName ${JSON.stringify(t)} ${why}`, TARGET_HINT);
  if (t === '' || t.startsWith('@') || t.startsWith('/')) throw bad('names no service');
  if (!t.includes('/')) {
    const at = t.indexOf('@');
    if (at < 0) return;
    // GSS host-based service name (RFC 2743 §4.1): exactly one "@", a host after it.
    if (at === t.length - 1) throw bad('names no host after "@"');
    if (t.indexOf('@', at + 1) >= 0) throw bad('has more than one "@"');
    return;
  }
  let p: Principal;
  try {
    p = parsePrincipal(t, 'REALM.INVALID');
  } catch (e) {
    throw badOption(
      `targetName ${JSON.stringify(t)} is not a principal name: ${(e as Error).message}`,
      TARGET_HINT,
    );
  }
  if (p.name.nameString.some((c) => c === '')) throw bad('has an empty name component');
}

function checkTargetPrincipal(t: unknown): void {
  const p = t as Partial<Principal> | null;
  const ns: unknown = typeof p === 'object' && p !== null ? p.name?.nameString : undefined;
  if (
    typeof p !== 'object' ||
    p === null ||
    typeof p.realm !== 'string' ||
    p.realm === '' ||
    !Array.isArray(ns) ||
    ns.length === 0 ||
    !ns.every((c) => typeof c === 'string' && c !== '')
  ) {
    throw badOption(`targetName must be a string or a Principal, not ${describe(t)}`, TARGET_HINT);
  }
}

/** Default maxBufferedBody: 64 MiB. */
export const MAX_BUFFERED_BODY = 64 * 1024 * 1024;

function sizeOption(v: unknown): number {
  if (v === undefined) return MAX_BUFFERED_BODY;
  if (typeof v !== 'number' || !(v >= 0) || (Number.isFinite(v) && !Number.isInteger(v)))
    throw badOption(
      `maxBufferedBody must be a number of bytes, not ${describe(v)}`,
      'maxBufferedBody: 256 * 1024 * 1024, or Infinity for no limit',
    );
  return v;
}

function mutualOption(v: unknown, name: string, dflt: MutualAuthMode): MutualAuthMode {
  const mode = v ?? dflt;
  if (mode !== REQUIRED && mode !== OPTIONAL && mode !== DISABLED) {
    throw new ConfigError(
      'BAD_OPTION',
      `${name} must be REQUIRED, OPTIONAL or DISABLED, not ${String(mode)}`,
      {
        hint: "import { REQUIRED, OPTIONAL, DISABLED } from 'spnego'",
      },
    );
  }
  return mode;
}

export function resolveOptions(o: NegotiateOptions): ResolvedOptions {
  if (typeof o !== 'object' || o === null) {
    throw badOption(`the options must be an object, not ${describe(o)}`, 'pass {} or leave the options out');
  }
  const mutual = mutualOption(o.mutualAuthentication, 'mutualAuthentication', DISABLED);
  const proxyMutual = mutualOption(o.proxyMutualAuthentication, 'proxyMutualAuthentication', OPTIONAL);
  const targetName = o.targetName ?? 'HTTP';
  if (typeof targetName === 'string') checkTargetText(targetName);
  else checkTargetPrincipal(targetName);
  const delegate = o.delegate ?? false;
  if (delegate !== true && delegate !== false && delegate !== 'policy') {
    throw badOption(
      `delegate must be true, false or "policy", not ${describe(delegate)}`,
      'delegate: "policy" forwards the TGT only to services the KDC marks OK-AS-DELEGATE',
    );
  }
  return {
    mutual,
    proxyMutual,
    sanitize: booleanOption(o, 'sanitizeMutualErrorResponse', true),
    opportunistic: booleanOption(o, 'opportunisticAuth', false),
    targetName,
    delegate,
    trustSameServiceRedirects: booleanOption(o, 'trustSameServiceRedirects', false),
    maxBufferedBody: sizeOption(o.maxBufferedBody),
    channelBindings: booleanOption(o, 'channelBindings', true),
  };
}

/**
 * The host part of a URL as a Kerberos host-based name wants it: no port, no IPv6 brackets, and
 * no trailing dot (`www.example.com.` is the same host, and MIT's krb5_sname_to_principal strips
 * the dot too: the KDC knows `HTTP/www.example.com`). WHATWG URL already lower-cases it.
 */
export function hostOf(url: URL): string {
  let h = url.hostname.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  else if (h.length > 1 && h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

function serviceOf(target: string | Principal): string {
  if (typeof target !== 'string') return target.name.nameString[0] ?? 'HTTP';
  let end = target.length;
  for (let i = 0; i < target.length; i++) {
    const c = target[i];
    if (c === '/' || c === '@') {
      end = i;
      break;
    }
  }
  return target.slice(0, end) || 'HTTP';
}

/**
 * The target for a request to `url`. An explicit name (host or principal given) applies only to
 * the origin the user asked for: after a redirect to another origin the same service is asked
 * for at the new host, so a token minted for the named service never reaches a stranger.
 */
export function targetFor(
  targetName: string | Principal,
  url: URL,
  namedOrigin: boolean,
): string | Principal {
  const bare = typeof targetName === 'string' && !targetName.includes('@') && !targetName.includes('/');
  if (bare || !namedOrigin) return `${serviceOf(targetName)}@${hostOf(url)}`;
  return targetName;
}
