// The ticket-granting service's name, which both the AS and the TGS paths need (a module of its
// own so the TGS path does not load the AS exchange).
import { NameType } from '../asn1/types.js';
import type { Principal } from '../ccache/principal-text.js';

/** `krbtgt/REALM@ISSUING-REALM`: the TGS of `realm` as issued by `issuingRealm` (cross-realm). */
export function tgsPrincipal(realm: string, issuingRealm = realm): Principal {
  return { realm: issuingRealm, name: { nameType: NameType.SRV_INST, nameString: ['krbtgt', realm] } };
}
