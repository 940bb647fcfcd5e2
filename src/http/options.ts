// NegotiateOptions with requests-gssapi's meanings (camelCase), their defaults, and the
// target-name rules: which service principal a request to a given URL authenticates to.
import type { Principal } from '../ccache/principal-text.js';
import { ConfigError } from '../errors.js';
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
  /** A Credentials, or a principal name to pick from the ccache collection; default the default ccache. */
  credentials?: Credentials | string;
  /** Forward the TGT: true, or "policy" = only when the service ticket is OK-AS-DELEGATE (default false). */
  delegate?: boolean | 'policy';
  /** Console-like logger for the `spnego*` debug messages (default: DEBUG=spnego* on stderr). */
  logger?: Logger;
}

export interface ResolvedOptions {
  mutual: MutualAuthMode;
  sanitize: boolean;
  opportunistic: boolean;
  targetName: string | Principal;
  delegate: boolean | 'policy';
}

export function resolveOptions(o: NegotiateOptions): ResolvedOptions {
  const mutual = o.mutualAuthentication ?? DISABLED;
  if (mutual !== REQUIRED && mutual !== OPTIONAL && mutual !== DISABLED) {
    throw new ConfigError(
      'BAD_OPTION',
      `mutualAuthentication must be REQUIRED, OPTIONAL or DISABLED, not ${String(mutual)}`,
      {
        hint: "import { REQUIRED, OPTIONAL, DISABLED } from 'spnego'",
      },
    );
  }
  const targetName = o.targetName ?? 'HTTP';
  if (
    typeof targetName === 'string' &&
    (targetName === '' || targetName.startsWith('@') || targetName.startsWith('/'))
  ) {
    throw new ConfigError('BAD_OPTION', `targetName ${JSON.stringify(targetName)} names no service`, {
      hint: 'use "HTTP", "HTTP@host" or "HTTP/host@REALM"',
    });
  }
  const delegate = o.delegate ?? false;
  if (delegate !== true && delegate !== false && delegate !== 'policy') {
    throw new ConfigError('BAD_OPTION', `delegate must be true, false or "policy", not ${String(delegate)}`);
  }
  return {
    mutual,
    sanitize: o.sanitizeMutualErrorResponse ?? true,
    opportunistic: o.opportunisticAuth ?? false,
    targetName,
    delegate,
  };
}

/** The host part of a URL as a Kerberos host-based name wants it (no IPv6 brackets). */
function hostOf(url: URL): string {
  const h = url.hostname;
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
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
