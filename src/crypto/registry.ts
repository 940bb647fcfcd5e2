// Enctype registry: id → implemented profile, and MIT's name table (for klist output and
// krb5.conf enctype lists), including enctypes we deliberately do not implement.
import { CryptoError } from '../errors.js';
import { aes128CtsHmacSha1Profile, aes256CtsHmacSha1Profile } from './aes-sha1.js';
import { aes128CtsHmacSha256Profile, aes256CtsHmacSha384Profile } from './aes-sha2.js';
import { camellia128CtsCmacProfile, camellia256CtsCmacProfile } from './camellia-cmac.js';
import { MIT_DEFAULT_ENCTYPES } from './constants.js';
import { rc4HmacProfile } from './rc4-hmac.js';
import type { EnctypeProfile } from './types.js';

const PROFILES = new Map<number, EnctypeProfile>();
for (const p of [
  aes128CtsHmacSha1Profile,
  aes256CtsHmacSha1Profile,
  aes128CtsHmacSha256Profile,
  aes256CtsHmacSha384Profile,
  rc4HmacProfile,
  camellia128CtsCmacProfile,
  camellia256CtsCmacProfile,
]) {
  PROFILES.set(p.id, p);
}

/** Adds a profile (used for rc4-hmac, which lives in its own module). */
export function registerEnctype(profile: EnctypeProfile): void {
  PROFILES.set(profile.id, profile);
}

interface NameEntry {
  readonly id: number;
  readonly name: string;
  readonly aliases: readonly string[];
  /** MIT's "weak": only with allow_weak_crypto. */
  readonly weak: boolean;
  /** MIT 1.20 prints these as `DEPRECATED:name` in `klist -e`. */
  readonly deprecated: boolean;
}

// MIT krb5 1.20 names and aliases (lib/crypto etypes table, as `klist -e` and krb5.conf use them).
const NAMES: readonly NameEntry[] = [
  { id: 1, name: 'des-cbc-crc', aliases: [], weak: true, deprecated: true },
  { id: 2, name: 'des-cbc-md4', aliases: [], weak: true, deprecated: true },
  { id: 3, name: 'des-cbc-md5', aliases: [], weak: true, deprecated: true },
  { id: 4, name: 'des-cbc-raw', aliases: [], weak: true, deprecated: true },
  { id: 6, name: 'des3-cbc-raw', aliases: [], weak: true, deprecated: true },
  { id: 8, name: 'des-hmac-sha1', aliases: [], weak: true, deprecated: true },
  {
    id: 16,
    name: 'des3-cbc-sha1',
    aliases: ['des3-hmac-sha1', 'des3-cbc-sha1-kd'],
    weak: false,
    deprecated: true,
  },
  {
    id: 17,
    name: 'aes128-cts-hmac-sha1-96',
    aliases: ['aes128-cts', 'aes128-sha1'],
    weak: false,
    deprecated: false,
  },
  {
    id: 18,
    name: 'aes256-cts-hmac-sha1-96',
    aliases: ['aes256-cts', 'aes256-sha1'],
    weak: false,
    deprecated: false,
  },
  { id: 19, name: 'aes128-cts-hmac-sha256-128', aliases: ['aes128-sha2'], weak: false, deprecated: false },
  { id: 20, name: 'aes256-cts-hmac-sha384-192', aliases: ['aes256-sha2'], weak: false, deprecated: false },
  { id: 23, name: 'arcfour-hmac', aliases: ['rc4-hmac', 'arcfour-hmac-md5'], weak: false, deprecated: true },
  {
    id: 24,
    name: 'arcfour-hmac-exp',
    aliases: ['rc4-hmac-exp', 'arcfour-hmac-md5-exp'],
    weak: true,
    deprecated: true,
  },
  { id: 25, name: 'camellia128-cts-cmac', aliases: ['camellia128-cts'], weak: false, deprecated: false },
  { id: 26, name: 'camellia256-cts-cmac', aliases: ['camellia256-cts'], weak: false, deprecated: false },
];

const BY_ID = new Map(NAMES.map((e) => [e.id, e]));
const BY_NAME = new Map<string, number>();
for (const e of NAMES) for (const n of [e.name, ...e.aliases]) BY_NAME.set(n, e.id);

/**
 * MIT krb5.conf family names (kdc.conf(5) "Encryption types"): each stands for several enctypes,
 * in MIT's order. `DEFAULT` is MIT's built-in list.
 */
export const ENCTYPE_FAMILIES: Readonly<Record<string, readonly number[]>> = Object.freeze({
  des: [1, 3, 2],
  des3: [16],
  rc4: [23],
  aes: [18, 17, 20, 19],
  camellia: [26, 25],
  default: MIT_DEFAULT_ENCTYPES,
});

/** MIT's name as `klist -e` prints it; unknown ids print as `etype N`, as MIT does. */
export function enctypeName(id: number): string {
  return BY_ID.get(id)?.name ?? `etype ${id}`;
}

/**
 * The exact string MIT 1.20 `klist -e` shows: weak, deprecated (des*, arcfour*) and unknown
 * enctypes get a `DEPRECATED:` prefix, e.g. `DEPRECATED:arcfour-hmac`, `DEPRECATED:etype 99`.
 */
export function enctypeDisplayName(id: number): string {
  const e = BY_ID.get(id);
  return e === undefined || e.deprecated || e.weak ? `DEPRECATED:${enctypeName(id)}` : e.name;
}

/** One enctype by MIT name or alias, case-insensitively as MIT does; families give undefined. */
export function enctypeFromName(name: string): number | undefined {
  return BY_NAME.get(name.trim().toLowerCase());
}

/**
 * A krb5.conf enctype list word → ids: a name or alias, a family (`aes`, `rc4`, `camellia`,
 * `des3`, `des`) or `DEFAULT`. Unknown words give [] (MIT ignores them too).
 */
export function expandEnctypeName(word: string): number[] {
  const w = word.trim().toLowerCase();
  const one = BY_NAME.get(w);
  if (one !== undefined) return [one];
  return [...(ENCTYPE_FAMILIES[w] ?? [])];
}

/** MIT "weak" (usable only with allow_weak_crypto); unknown ids are not weak, just unknown. */
export function isEnctypeWeak(id: number): boolean {
  return BY_ID.get(id)?.weak === true;
}

/** True when we implement `id` and policy (without allow_weak_crypto) allows it. */
export function isEnctypeSupported(id: number, opts: { allowWeak?: boolean } = {}): boolean {
  const p = PROFILES.get(id);
  return p !== undefined && (!p.weak || opts.allowWeak === true);
}

/** The implementation of an enctype; CryptoError `UNSUPPORTED_ENCTYPE` (with a hint) otherwise. */
export function getEnctype(id: number, opts: { allowWeak?: boolean } = {}): EnctypeProfile {
  const p = PROFILES.get(id);
  if (p === undefined) {
    const known = BY_ID.get(id);
    throw new CryptoError(
      'UNSUPPORTED_ENCTYPE',
      known ? `encryption type ${known.name} (${id}) is not supported` : `unknown encryption type ${id}`,
      {
        hint: `supported: ${[...PROFILES.values()].map((x) => x.name).join(', ')}; ask the KDC administrator for a key of one of those (e.g. kadmin ktadd -e aes256-cts-hmac-sha1-96:normal)`,
      },
    );
  }
  if (p.weak && opts.allowWeak !== true) {
    throw new CryptoError('UNSUPPORTED_ENCTYPE', `encryption type ${p.name} (${id}) is weak and disabled`, {
      hint: 'set allow_weak_crypto = true in [libdefaults] of krb5.conf only if you must',
    });
  }
  return p;
}

/** Implemented enctype ids, strongest first in MIT's default order. */
export function supportedEnctypes(): number[] {
  return MIT_DEFAULT_ENCTYPES.filter((id) => PROFILES.has(id));
}
