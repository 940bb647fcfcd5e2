// Constrained delegation (MS-SFU): a service obtains tickets on behalf of a user.
// - S4U2Self (§3.2.5.1, protocol transition): a TGS-REQ for the service itself carrying
//   PA-FOR-USER; the KDC answers with a ticket to the service whose client is the user. It is
//   FORWARDABLE only when the account may do protocol transition (AD: "Use any authentication
//   protocol", TRUSTED_TO_AUTH_FOR_DELEGATION; MIT: ok_to_auth_as_delegate).
// - S4U2Proxy (§3.2.5.2): a TGS-REQ for the back end with the user's ticket to the service (the
//   "evidence") as additional ticket and CNAME-IN-ADDL-TKT; the KDC checks the account's
//   msDS-AllowedToDelegateTo, or the back end's msDS-AllowedToActOnBehalfOfOtherIdentity
//   (resource-based, asked for with PA-PAC-OPTIONS), and answers with a ticket to the back end
//   whose client is the user.
// Sans-I/O: these functions shape the requests and check the replies; the exchange itself is
// the credentials' (TgsSession).
import {
  encodePaForUser,
  encodePaPacOptions,
  PacOption,
  type PaData,
  PaDataType,
  type Ticket,
} from '../asn1/index.js';
import { type Principal, unparsePrincipal } from '../ccache/principal-text.js';
import { CksumType, type Key, makeChecksum } from '../crypto/index.js';
import { KerberosError } from '../errors.js';
import type { TgsSession } from './credentials/tgs-path.js';
import { KdcOption, type KdcReply } from './kdc-reply.js';

/** MS-SFU §2.2.1: the PA-FOR-USER checksum's key usage (KERB_NON_KERB_CKSUM_SALT). */
const USAGE_FOR_USER_CKSUM = 17;
const AUTH_PACKAGE = 'Kerberos';

/**
 * The bytes PA-FOR-USER's checksum covers (MS-SFU §2.2.1): the user's name-type as a 32-bit
 * little-endian integer, then each name component, the realm and the auth-package, unseparated.
 */
export function forUserChecksumInput(user: Principal, authPackage = AUTH_PACKAGE): Uint8Array {
  const utf8 = new TextEncoder();
  const parts = [...user.name.nameString, user.realm, authPackage].map((x) => utf8.encode(x));
  const out = new Uint8Array(4 + parts.reduce((n, p) => n + p.length, 0));
  new DataView(out.buffer).setInt32(0, user.name.nameType, true);
  let at = 4;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** PA-FOR-USER for `user`, its checksum HMAC-MD5 keyed with the TGT session key (any enctype). */
export function paForUser(user: Principal, tgtSessionKey: Key): PaData {
  const cksum = makeChecksum(
    CksumType.HMAC_MD5,
    tgtSessionKey,
    USAGE_FOR_USER_CKSUM,
    forUserChecksumInput(user),
  );
  return {
    padataType: PaDataType.FOR_USER,
    padataValue: encodePaForUser({
      userName: user.name,
      userRealm: user.realm,
      cksum: { cksumtype: CksumType.HMAC_MD5, checksum: cksum },
      authPackage: AUTH_PACKAGE,
    }),
  };
}

/** S4U2Self: a ticket to the service of `s` for `user` (the evidence for S4U2Proxy). */
export async function s4u2Self(s: TgsSession, user: Principal): Promise<KdcReply> {
  const tgt = await s.primaryTgt();
  // The service asks for itself, by the name its TGT carries, in its own realm.
  const server: Principal = { realm: s.principal.realm, name: s.principal.name };
  s.log(`S4U2Self: ticket to ${unparsePrincipal(server)} for ${unparsePrincipal(user)}`);
  return s.tgsExchange({
    tgt,
    server,
    etypes: s.tgsEtypes(),
    till: s.requestedTill(),
    padata: [paForUser(user, tgt.sessionKey)],
    expectClient: user,
  });
}

/**
 * S4U2Proxy: a ticket to `server` for the client of `evidence` (a ticket to this service, from
 * S4U2Self or from the user's own AP-REQ). Asks for resource-based delegation too (PA-PAC-OPTIONS,
 * as MIT and Windows do), so the KDC may allow it either way.
 */
export async function s4u2Proxy(
  s: TgsSession,
  evidence: { ticket: Ticket; client: Principal },
  server: Principal,
): Promise<KdcReply> {
  const tgt = await s.primaryTgt();
  s.log(`S4U2Proxy: ticket to ${unparsePrincipal(server)} for ${unparsePrincipal(evidence.client)}`);
  try {
    return await s.tgsExchange({
      tgt,
      server,
      etypes: s.tgsEtypes(),
      till: s.requestedTill(),
      kdcOptions: KdcOption.CNAME_IN_ADDL_TKT | KdcOption.FORWARDABLE,
      additionalTickets: [evidence.ticket],
      padata: [
        {
          padataType: PaDataType.PAC_OPTIONS,
          padataValue: encodePaPacOptions(PacOption.RESOURCE_BASED_CONSTRAINED_DELEGATION),
        },
      ],
      expectClient: evidence.client,
    });
  } catch (e) {
    if (e instanceof KerberosError && (e.errorCode === 13 || e.errorCode === 12)) {
      // KDC_ERR_BADOPTION / KDC_ERR_POLICY: the KDC does not let this service delegate there.
      throw new KerberosError(
        e.errorCode,
        e.errorName,
        `S4U2Proxy from ${unparsePrincipal(s.principal)} to ${unparsePrincipal(server)} for ${unparsePrincipal(evidence.client)} refused: ${e.message}`,
        {
          cause: e,
          hint:
            'the service account needs the back end in msDS-AllowedToDelegateTo (constrained delegation), or the back end ' +
            'must list it in msDS-AllowedToActOnBehalfOfOtherIdentity (resource-based); the evidence ticket must be ' +
            'forwardable for the former (protocol transition: TRUSTED_TO_AUTH_FOR_DELEGATION), and the user not ' +
            '"sensitive and cannot be delegated"; resource-based delegation also needs a KDC that has it (not ' +
            "Samba's Heimdal KDC before 4.19, nor MIT's DB2/LDAP back ends)",
        },
      );
    }
    throw e;
  }
}
