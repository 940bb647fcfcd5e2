// Which credential cache a name means, resolved as MIT libkrb5 does: KRB5CCNAME, else
// [libdefaults] default_ccache_name (with %{...} parameter expansion), else the built-in
// FILE:/tmp/krb5cc_%{uid}. The krb5.conf value is passed in so this module reads no config.
import { CredentialsError } from '../errors.js';
import { getRealUid } from '../runtime/ccache-io.js';
import { getEnv, getTempDir, getUid, getUsername } from '../runtime/env.js';

export const BUILTIN_DEFAULT_CCACHE_NAME = 'FILE:/tmp/krb5cc_%{uid}';

/** Values %{...} expands to; defaults come from the running process. */
export interface ExpansionContext {
  uid: number;
  euid: number;
  username: string;
  tempDir: string;
}

export interface ResolveOptions {
  /** [libdefaults] default_ccache_name, unexpanded. */
  defaultCcacheName?: string;
  /** Environment lookup; process environment when absent. */
  env?: (name: string) => string | undefined;
  expansion?: Partial<ExpansionContext>;
}

export type CcacheType = 'FILE' | 'DIR' | 'MEMORY' | 'KCM';

export interface CcacheName {
  type: CcacheType;
  /** What follows `TYPE:` (for `DIR::path` this keeps the leading colon). */
  residual: string;
}

const UNSUPPORTED_HINT =
  'this library reads FILE:, DIR:, MEMORY: and KCM: caches only; use a FILE cache: ' +
  'export KRB5CCNAME=FILE:/tmp/krb5cc_$(id -u) and run kinit again';

function processExpansion(over: Partial<ExpansionContext> = {}): ExpansionContext {
  return {
    uid: over.uid ?? getRealUid(),
    euid: over.euid ?? getUid(),
    username: over.username ?? getUsername(),
    tempDir: over.tempDir ?? getTempDir(),
  };
}

/**
 * MIT's %{...} parameter expansion (krb5.conf "Parameter expansion"). Installation-directory
 * tokens (%{LIBDIR}...) and Windows-only ones have no meaning without libkrb5 and are refused.
 */
export function expandCcacheParameters(value: string, over?: Partial<ExpansionContext>): string {
  let ctx: ExpansionContext | undefined;
  return value.replace(/%\{([^}]*)\}/g, (_m, token: string) => {
    ctx ??= processExpansion(over);
    switch (token) {
      case 'uid':
      case 'USERID':
        return String(ctx.uid);
      case 'euid':
        return String(ctx.euid);
      case 'username':
        return ctx.username;
      case 'TEMP':
        return ctx.tempDir;
      case 'null':
        return '';
      default:
        throw new CredentialsError('CCACHE_NAME', `cannot expand %{${token}} in ccache name '${value}'`, {
          hint: 'supported parameters are %{uid}, %{euid}, %{USERID}, %{username}, %{TEMP} and %{null}',
        });
    }
  });
}

/** The name of the default cache, before splitting into type and residual. */
export function defaultCcacheName(opts: ResolveOptions = {}): string {
  const env = opts.env ?? getEnv;
  const fromEnv = env('KRB5CCNAME');
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return expandCcacheParameters(opts.defaultCcacheName ?? BUILTIN_DEFAULT_CCACHE_NAME, opts.expansion);
}

/**
 * Splits `TYPE:residual`. A name without a colon is a FILE path, as in MIT. `KCM:` alone is the
 * KCM collection's primary cache. KEYRING: and API: are real MIT types we cannot reach without
 * native code (the kernel keyring, a macOS service): a typed error with a hint.
 */
export function parseCcacheName(name: string): CcacheName {
  const colon = name.indexOf(':');
  if (colon < 0) return { type: 'FILE', residual: name };
  const prefix = name.slice(0, colon);
  const residual = name.slice(colon + 1);
  switch (prefix) {
    case 'FILE':
    case 'DIR':
    case 'MEMORY':
      if (residual === '' || (prefix === 'DIR' && residual === ':')) {
        throw new CredentialsError('CCACHE_NAME', `empty ${prefix} ccache name '${name}'`);
      }
      return { type: prefix, residual };
    case 'KCM':
      return { type: 'KCM', residual };
    case 'KEYRING':
    case 'API':
    case 'MSLSA':
      throw new CredentialsError(
        'CCACHE_TYPE_UNSUPPORTED',
        `credential cache type ${prefix}: (${name}) needs the native Kerberos library`,
        { hint: UNSUPPORTED_HINT },
      );
    default:
      throw new CredentialsError(
        'CCACHE_TYPE_UNSUPPORTED',
        `unknown credential cache type '${prefix}:' in '${name}'`,
        {
          hint: UNSUPPORTED_HINT,
        },
      );
  }
}
