// The MiniKdc principal database: every principal's long-term keys, one per enctype, with the
// salt and s2kparams a client needs to derive the same key from a password (PA-ETYPE-INFO2).
import type { PrincipalName } from '../../asn1/types.js';
import type { KeytabEntry } from '../../ccache/keytab.js';
import { type Principal, parsePrincipal, unparsePrincipal } from '../../ccache/principal-text.js';
import {
  Enctype,
  generateRandomKey,
  getEnctype,
  isEnctypeSupported,
  type Key,
  stringToKeySync,
} from '../../crypto/index.js';
import { ConfigError } from '../../errors.js';

/** How a test describes a principal: a name, and a password when clients will type one. */
export interface PrincipalSpec {
  /** `alice`, `HTTP/localhost`, or with a realm `alice@OTHER.TEST` (one of the KDC's realms). */
  name: string;
  /** Without one the principal gets random keys (services; keytab-only clients). */
  password?: string;
  /**
   * A salt other than the default (realm + name components), as after a rename or on AD: a
   * client that guesses the default salt instead of reading PA-ETYPE-INFO2 fails.
   */
  salt?: string;
  /** Enctypes this principal has keys in (default: the KDC's). */
  enctypes?: readonly number[];
  /** Key version number (default 1). */
  kvno?: number;
  /** Set OK-AS-DELEGATE on its service tickets (RFC 4120 §2.8), for delegation policy tests. */
  okAsDelegate?: boolean;
  /**
   * Protocol transition (AD TRUSTED_TO_AUTH_FOR_DELEGATION, MIT ok_to_auth_as_delegate): its
   * S4U2Self tickets are forwardable, so S4U2Proxy may use them as evidence.
   */
  trustedToAuthForDelegation?: boolean;
  /** Constrained delegation (AD msDS-AllowedToDelegateTo): services it may reach by S4U2Proxy. */
  allowedToDelegateTo?: readonly string[];
  /**
   * Resource-based constrained delegation (AD msDS-AllowedToActOnBehalfOfOtherIdentity), set on
   * the back end: the services that may reach it by S4U2Proxy.
   */
  allowedToActOnBehalfOf?: readonly string[];
}

export interface PrincipalKey {
  key: Key;
  salt: Uint8Array;
  s2kparams: Uint8Array | undefined;
}

export interface PrincipalRecord {
  principal: Principal;
  kvno: number;
  /** In preference order: the first one encrypts tickets for this principal. */
  keys: PrincipalKey[];
  okAsDelegate: boolean;
  trustedToAuthForDelegation: boolean;
  /** Principal names (`HTTP/backend@REALM`), as unparsePrincipal writes them. */
  allowedToDelegateTo: readonly string[];
  allowedToActOnBehalfOf: readonly string[];
}

const utf8 = new TextEncoder();

/** RFC 4120 §4: the default salt is the realm followed by every name component, unseparated. */
export function defaultSalt(p: Principal): string {
  return p.realm + p.name.nameString.join('');
}

function keyOf(enctype: number, spec: PrincipalSpec, salt: string): Key {
  return spec.password === undefined
    ? generateRandomKey(enctype)
    : stringToKeySync(enctype, spec.password, salt);
}

export class KdcDatabase {
  private readonly records = new Map<string, PrincipalRecord>();

  constructor(
    readonly realms: readonly string[],
    readonly enctypes: readonly number[],
  ) {}

  /** Adds (or replaces, with a fresh key) a principal; the realm defaults to the first one served. */
  add(spec: PrincipalSpec): PrincipalRecord {
    const principal = parsePrincipal(spec.name, this.realms[0]);
    if (!this.realms.includes(principal.realm)) {
      throw new ConfigError(
        'MINIKDC_REALM',
        `principal ${spec.name} is in realm ${principal.realm}, which this KDC does not serve`,
        {
          hint: `serve it too: MiniKdc.start({ realm, realms: ['${principal.realm}'] })`,
        },
      );
    }
    const enctypes = spec.enctypes ?? this.enctypes;
    const unsupported = enctypes.filter((e) => !isEnctypeSupported(e, { allowWeak: true }));
    if (unsupported.length > 0 || enctypes.length === 0) {
      throw new ConfigError(
        'MINIKDC_ENCTYPE',
        `cannot make keys for ${spec.name} in enctypes [${unsupported.join(', ')}]`,
        {
          hint: 'use enctypes this library implements (17, 18, 19, 20, 23)',
        },
      );
    }
    const salt = spec.salt ?? defaultSalt(principal);
    const keys = enctypes.map((enctype) => ({
      key: keyOf(enctype, spec, salt),
      // RC4 ignores the salt, and MIT announces none for it.
      salt: enctype === Enctype.RC4_HMAC ? new Uint8Array(0) : utf8.encode(salt),
      s2kparams: getEnctype(enctype, { allowWeak: true }).defaultS2kParams,
    }));
    const record: PrincipalRecord = {
      principal,
      kvno: spec.kvno ?? 1,
      keys,
      okAsDelegate: spec.okAsDelegate === true,
      trustedToAuthForDelegation: spec.trustedToAuthForDelegation === true,
      allowedToDelegateTo: (spec.allowedToDelegateTo ?? []).map((n) =>
        unparsePrincipal(parsePrincipal(n, principal.realm)),
      ),
      allowedToActOnBehalfOf: (spec.allowedToActOnBehalfOf ?? []).map((n) =>
        unparsePrincipal(parsePrincipal(n, principal.realm)),
      ),
    };
    this.records.set(unparsePrincipal(principal), record);
    return record;
  }

  get(name: PrincipalName, realm: string): PrincipalRecord | undefined {
    return this.records.get(unparsePrincipal({ realm, name }));
  }

  /** Looks a principal up by its text form (`HTTP/localhost`, default realm the first served). */
  byText(text: string): PrincipalRecord | undefined {
    const p = parsePrincipal(text, this.realms[0]);
    return this.get(p.name, p.realm);
  }

  /** Every principal named like `name` (without realm) in any realm: for referrals. */
  inOtherRealms(name: PrincipalName, except: string): PrincipalRecord[] {
    return this.realms.filter((r) => r !== except).flatMap((r) => this.get(name, r) ?? []);
  }

  all(): PrincipalRecord[] {
    return [...this.records.values()];
  }
}

/** The record's key of `enctype`, if it has one. */
export function keyFor(record: PrincipalRecord, enctype: number): PrincipalKey | undefined {
  return record.keys.find((k) => k.key.enctype === enctype);
}

/** Keytab entries for a record, every enctype, as `kadmin ktadd -norandkey` would write them. */
export function keytabEntriesOf(record: PrincipalRecord, timestamp: number): KeytabEntry[] {
  return record.keys.map((k) => ({
    principal: record.principal,
    timestamp,
    kvno: record.kvno,
    key: { keytype: k.key.enctype, keyvalue: k.key.bytes.slice() },
  }));
}
