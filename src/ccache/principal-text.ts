// Principal names as text, with MIT's escaping: `/` separates components, `@` starts the realm,
// and a backslash escapes either of them (plus `\\`, and \n \t \b \0 for control characters).
// klist output and `--json` must print names exactly as MIT's krb5_unparse_name does.
import type { PrincipalName } from '../asn1/types.js';
import { NameType } from '../asn1/types.js';
import { CredentialsError } from '../errors.js';

/** A principal together with its realm, as stored in ccaches and keytabs. */
export interface Principal {
  realm: string;
  name: PrincipalName;
}

const ESCAPE_OUT: Record<string, string> = {
  '/': '\\/',
  '@': '\\@',
  '\\': '\\\\',
  '\n': '\\n',
  '\t': '\\t',
  '\b': '\\b',
  '\0': '\\0',
};

const ESCAPE_IN: Record<string, string> = { n: '\n', t: '\t', b: '\b', '0': '\0' };

function quote(s: string, keepAt = false): string {
  // MIT quotes the realm with the same rules as the components.
  return s.replace(keepAt ? /[/\\\n\t\b\0]/g : /[/@\\\n\t\b\0]/g, (c) => ESCAPE_OUT[c] ?? c);
}

/** `HTTP/localhost@EXAMPLE.TEST`, escaping as MIT krb5_unparse_name. */
export function unparsePrincipal(p: Principal): string {
  return `${p.name.nameString.map((s) => quote(s)).join('/')}@${quote(p.realm)}`;
}

/**
 * Unparse without the realm, as MIT's KRB5_PRINCIPAL_UNPARSE_NO_REALM: with no realm to
 * separate, `@` is left unescaped (an enterprise name shows as `user@domain`).
 */
export function unparsePrincipalName(name: PrincipalName): string {
  return name.nameString.map((s) => quote(s, true)).join('/');
}

/**
 * Parses `comp/comp@REALM`. Without a realm, `defaultRealm` is used; if there is none either,
 * the name is rejected. A two-component `krbtgt/...` name gets NT-SRV-INST and a
 * `WELLKNOWN/...` one NT-WELLKNOWN, as MIT gives them; everything else NT-PRINCIPAL.
 */
export function parsePrincipal(text: string, defaultRealm?: string): Principal {
  const components: string[] = [];
  let cur = '';
  let realm: string | undefined;
  let inRealm = false;
  for (let i = 0; i < text.length; i++) {
    let c = text[i] as string;
    if (c === '\\') {
      const next = text[++i];
      if (next === undefined) throw badName(text, 'trailing backslash');
      c = ESCAPE_IN[next] ?? next;
      cur += c;
      continue;
    }
    if (c === '/') {
      // MIT: a component separator after the realm separator is KRB5_PARSE_MALFORMED.
      if (inRealm) throw badName(text, 'unescaped / in the realm');
      components.push(cur);
      cur = '';
    } else if (c === '@') {
      if (inRealm) throw badName(text, 'more than one unescaped @');
      components.push(cur);
      cur = '';
      inRealm = true;
    } else {
      cur += c;
    }
  }
  if (inRealm) realm = cur;
  else components.push(cur);
  if (realm === undefined || realm === '') {
    if (inRealm) throw badName(text, 'empty realm');
    if (defaultRealm === undefined) throw badName(text, 'no realm and no default realm');
    realm = defaultRealm;
  }
  // MIT's k5_infer_principal_type: RFC 4120 7.3 for krbtgt, RFC 6111 3.1 for WELLKNOWN.
  const nameType =
    components.length === 2 && components[0] === 'krbtgt'
      ? NameType.SRV_INST
      : components.length >= 2 && components[0] === 'WELLKNOWN'
        ? NameType.WELLKNOWN
        : NameType.PRINCIPAL;
  return { realm, name: { nameType, nameString: components } };
}

/** Same realm and components; name types are ignored, as MIT's krb5_principal_compare does. */
export function principalsEqual(a: Principal, b: Principal): boolean {
  if (a.realm !== b.realm) return false;
  const x = a.name.nameString;
  const y = b.name.nameString;
  return x.length === y.length && x.every((s, i) => s === y[i]);
}

function badName(text: string, why: string): CredentialsError {
  return new CredentialsError('PRINCIPAL_NAME', `cannot parse principal name '${text}': ${why}`, {
    hint: 'write it as name[/instance]@REALM, escaping a literal / or @ with a backslash',
  });
}
