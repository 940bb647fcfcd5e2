// Principal names as the caller writes them: a service name in any of GSS's and MIT's forms,
// and a client name (optionally an enterprise name, RFC 6806 §5).
import { NameType } from '../../asn1/types.js';
import { type Principal, parsePrincipal } from '../../ccache/principal-text.js';
import { CredentialsError } from '../../errors.js';
import type { Krb5Config } from '../config.js';
import { mappedRealmOfHost } from '../realm-of-host.js';

/**
 * Turns a service name into a principal: `HTTP/host@REALM` as given; `HTTP@host` (GSS
 * host-based) or `HTTP/host` gets its realm from [domain_realm], else is left to the KDC to
 * place (a referral, RFC 6806) starting from the client's realm.
 */
export function servicePrincipal(
  spn: string | Principal,
  config: Krb5Config,
  clientRealm: string,
): { server: Principal; referral: boolean } {
  if (typeof spn !== 'string') return { server: spn, referral: false };
  let text = spn;
  const at = spn.indexOf('@');
  if (at > 0 && !spn.includes('/') && spn.indexOf('@', at + 1) < 0) {
    // GSS_C_NT_HOSTBASED_SERVICE: service@host
    text = `${spn.slice(0, at)}/${spn.slice(at + 1)}`;
    const host = spn.slice(at + 1);
    const realm = mappedRealmOfHost(host, config);
    const name = { nameType: NameType.SRV_HST, nameString: [spn.slice(0, at), host.toLowerCase()] };
    return realm === undefined
      ? { server: { realm: clientRealm, name }, referral: true }
      : { server: { realm, name }, referral: false };
  }
  const hasRealm = /(^|[^\\])@/.test(text);
  if (hasRealm) {
    const p = parsePrincipal(text);
    if (p.name.nameString.length === 2) p.name.nameType = NameType.SRV_HST;
    return { server: p, referral: false };
  }
  const p = parsePrincipal(text, clientRealm);
  if (p.name.nameString.length === 2) {
    p.name.nameType = NameType.SRV_HST;
    const realm = mappedRealmOfHost(p.name.nameString[1] as string, config);
    if (realm !== undefined) return { server: { ...p, realm }, referral: false };
  }
  return { server: p, referral: true };
}

/** `user@REALM`, or with `enterprise` `user@domain@REALM` (RFC 6806 §5: one NT-ENTERPRISE component). */
export function clientPrincipal(
  principal: string | Principal,
  config: Krb5Config,
  enterprise: boolean,
): Principal {
  if (typeof principal !== 'string') return principal;
  if (!enterprise) return parsePrincipal(principal, config.libdefaults.defaultRealm);
  const first = principal.indexOf('@');
  const last = principal.lastIndexOf('@');
  const realm = first >= 0 && first !== last ? principal.slice(last + 1) : config.libdefaults.defaultRealm;
  const name = first >= 0 && first !== last ? principal.slice(0, last) : principal;
  if (realm === undefined || realm === '') {
    throw new CredentialsError('NO_REALM', `no realm for enterprise principal ${principal}`, {
      hint: 'write it as user@domain@REALM, or set default_realm',
    });
  }
  return { realm, name: { nameType: NameType.ENTERPRISE, nameString: [name] } };
}
