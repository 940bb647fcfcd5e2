// Acquisition: the client's long-term key, from a keytab or a password, as a ClientSecret the
// AS exchange asks for per (enctype, salt); and the AS-REQ options from krb5.conf and the caller.
import { NameType } from '../../asn1/types.js';
import { findKeytabEntry, type Keytab, readKeytab } from '../../ccache/keytab.js';
import { type Principal, unparsePrincipal } from '../../ccache/principal-text.js';
import { expandCcacheParameters } from '../../ccache/resolve.js';
import { isEnctypeSupported, type Key, makeKey, stringToKey } from '../../crypto/index.js';
import { CredentialsError } from '../../errors.js';
import { getEnv } from '../../runtime/env.js';
import { statFile } from '../../runtime/fs.js';
import type { AsRequestOptions, ClientSecret } from '../as.js';
import type { Krb5Config } from '../config.js';
import { servicePrincipal } from './names.js';

/** How a TGT is asked for (AS-REQ options beyond the client name and key). */
export interface AcquireRequestOptions {
  /** Ticket lifetime in seconds; default ticket_lifetime from krb5.conf. */
  lifetime?: number;
  /** Renewable lifetime in seconds; default renew_lifetime from krb5.conf. */
  renewLifetime?: number;
  forwardable?: boolean;
  proxiable?: boolean;
  canonicalize?: boolean;
  /** Treat the name as an enterprise principal (`user@domain@REALM`, RFC 6806 §5). */
  enterprise?: boolean;
  requestPac?: boolean;
  /**
   * With a keytab, send PA-ENC-TIMESTAMP on the first AS-REQ (in the keytab's key of the first
   * permitted enctype), saving the KDC's PREAUTH_REQUIRED round trip; a refusal falls back to the
   * ordinary exchange once, and a key the KDC refused is never sent again. Default true.
   * Passwords never do this (their salt is the KDC's to name). `false`: always ask first.
   */
  optimisticPreauth?: boolean;
  /**
   * Most PBKDF2 iterations a KDC may ask of `fromPassword` (its etype-info2 s2kparams are not
   * authenticated). Default: krb5.conf `[libdefaults] spnego_max_s2k_iterations`, else 2^20;
   * at most 2^24 - 1, MIT's limit. Over it, CryptoError `S2K_ITERATIONS_LIMIT`.
   */
  maxStringToKeyIterations?: number;
  /** The initial ticket's service (MIT `kinit -S`); default krbtgt/REALM@REALM, a TGT. */
  service?: string | Principal;
}

/** MIT's built-in default_client_keytab_name (`krb5-config --defcktname` on Debian and Fedora). */
export const BUILTIN_CLIENT_KEYTAB_NAME = 'FILE:/etc/krb5/user/%{euid}/client.keytab';

/**
 * The client keytab named by KRB5_CLIENT_KTNAME, else default_client_keytab_name, with MIT's
 * %{...} expansion; undefined when neither is set.
 */
export function clientKeytabName(config: Krb5Config): string | undefined {
  const name = getEnv('KRB5_CLIENT_KTNAME') || config.libdefaults.defaultClientKeytabName;
  return name === undefined || name === '' ? undefined : expandCcacheParameters(name);
}

/**
 * The client keytab MIT's GSSAPI would get a TGT from when there is no usable ccache: the one
 * named (clientKeytabName), else MIT's built-in default when that file exists; undefined
 * when there is none. Never reads a keytab the user did not name unless it is at MIT's path.
 */
export async function findClientKeytab(
  config: Krb5Config,
): Promise<{ name: string; keytab: Keytab } | undefined> {
  const named = clientKeytabName(config);
  if (named !== undefined) return { name: named, keytab: await loadKeytab(named) };
  const builtin = expandCcacheParameters(BUILTIN_CLIENT_KEYTAB_NAME);
  const st = await statFile(builtin.replace(/^FILE:/, ''));
  if (!st?.isFile) return undefined;
  return { name: builtin, keytab: await loadKeytab(builtin) };
}

/** Reads a keytab named as MIT names them (`FILE:path`, `WRFILE:path` or a bare path). */
export async function loadKeytab(name: string): Promise<Keytab> {
  return readKeytab(name.replace(/^(FILE|WRFILE):/, ''));
}

/** The keys `kt` holds for `client`, per enctype the AS exchange asks for. */
export function keytabSecret(kt: Keytab, client: Principal): ClientSecret {
  const entries = kt.entries.filter(
    (e) =>
      e.principal.realm === client.realm &&
      e.principal.name.nameString.join('/') === client.name.nameString.join('/'),
  );
  if (entries.length === 0) {
    throw new CredentialsError(
      'KEYTAB_NO_PRINCIPAL',
      `the keytab has no key for ${unparsePrincipal(client)}`,
      {
        hint: 'check the principal name (klist -k KEYTAB lists what it holds)',
      },
    );
  }
  const keyOf = (etype: number): Key | undefined => {
    const e = findKeytabEntry(kt, {
      principal: client.name.nameString.join('/'),
      realm: client.realm,
      enctype: etype,
    });
    return e === undefined || !isEnctypeSupported(e.key.keytype)
      ? undefined
      : makeKey(e.key.keytype, e.key.keyvalue);
  };
  return {
    enctypes: [...new Set(entries.map((e) => e.key.keytype))],
    keyFor: (hint) => keyOf(hint.etype),
    // A keytab key needs no salt: it can stamp the first AS-REQ.
    optimisticKey: (etypes) => {
      for (const etype of etypes) {
        const k = keyOf(etype);
        if (k !== undefined) return k;
      }
      return undefined;
    },
  };
}

/**
 * Keys from a password; derived keys are kept per (etype, salt, params) so a renewal needs no
 * password. The KDC picks the PBKDF2 count unauthenticated: `maxIterations` bounds it, and the
 * derivation is asynchronous so it never blocks the event loop.
 */
export function passwordSecret(password: string, maxIterations?: number): ClientSecret {
  const derived = new Map<string, Key>();
  return {
    keyFor: async (hint) => {
      const id = `${hint.etype}:${hex(hint.salt)}:${hint.s2kparams ? hex(hint.s2kparams) : ''}`;
      let k = derived.get(id);
      if (!k) {
        k = await stringToKey(
          hint.etype,
          password,
          hint.salt,
          hint.s2kparams,
          maxIterations === undefined ? {} : { maxIterations },
        );
        derived.set(id, k);
      }
      return k;
    },
  };
}

/** AS-REQ options for `principal`: the caller's choices over krb5.conf's [libdefaults]. */
export function asRequestOptions(
  principal: Principal,
  config: Krb5Config,
  o: AcquireRequestOptions,
): AsRequestOptions {
  const lib = config.libdefaultsFor(principal.realm);
  let client = principal;
  if (o.enterprise && client.name.nameType !== NameType.ENTERPRISE) {
    client = {
      realm: client.realm,
      name: { nameType: NameType.ENTERPRISE, nameString: [client.name.nameString.join('/')] },
    };
  }
  return {
    client,
    etypes: lib.defaultTktEnctypes,
    lifetimeSeconds: o.lifetime ?? lib.ticketLifetime,
    renewLifetimeSeconds: o.renewLifetime ?? lib.renewLifetime,
    forwardable: o.forwardable ?? lib.forwardable,
    proxiable: o.proxiable ?? lib.proxiable,
    canonicalize: o.canonicalize ?? (lib.canonicalize || o.enterprise === true),
    defaultOptions: config.libdefaults.kdcDefaultOptions,
    optimisticPreauth: o.optimisticPreauth ?? true,
    ...(o.requestPac === undefined ? {} : { requestPac: o.requestPac }),
    ...(o.service === undefined
      ? {}
      : {
          server:
            typeof o.service === 'string'
              ? servicePrincipal(o.service, config, client.realm).server
              : o.service,
        }),
  };
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
