// Dispatch on the APPLICATION tag of a Kerberos message (RFC 4120 §5.10), for relays, KDC doubles
// and tests that do not know in advance what arrived.

import { Asn1Error } from '../errors.js';
import { type ApRep, type ApReq, readApRep, readApReq } from './ap.js';
import { root, TagClass } from './der.js';
import {
  type AsRep,
  type AsReq,
  readAsRep,
  readAsReq,
  readTgsRep,
  readTgsReq,
  type TgsRep,
  type TgsReq,
} from './kdc.js';
import { type KrbCred, readKrbCred } from './krb-cred.js';
import { type KrbError, readKrbError } from './krb-error.js';

export type KerberosMessage =
  | { type: 'as-req'; value: AsReq }
  | { type: 'as-rep'; value: AsRep }
  | { type: 'tgs-req'; value: TgsReq }
  | { type: 'tgs-rep'; value: TgsRep }
  | { type: 'ap-req'; value: ApReq }
  | { type: 'ap-rep'; value: ApRep }
  | { type: 'krb-cred'; value: KrbCred }
  | { type: 'krb-error'; value: KrbError };

export function decodeKerberosMessage(bytes: Uint8Array): KerberosMessage {
  const e = root(bytes, 'KerberosMessage');
  if (e.node.cls !== TagClass.APPLICATION)
    throw new Asn1Error('KerberosMessage', 'not an APPLICATION-tagged message');
  switch (e.node.tag) {
    case 10:
      return { type: 'as-req', value: readAsReq({ node: e.node, field: 'AS-REQ' }) };
    case 11:
      return { type: 'as-rep', value: readAsRep({ node: e.node, field: 'AS-REP' }) };
    case 12:
      return { type: 'tgs-req', value: readTgsReq({ node: e.node, field: 'TGS-REQ' }) };
    case 13:
      return { type: 'tgs-rep', value: readTgsRep({ node: e.node, field: 'TGS-REP' }) };
    case 14:
      return { type: 'ap-req', value: readApReq({ node: e.node, field: 'AP-REQ' }) };
    case 15:
      return { type: 'ap-rep', value: readApRep({ node: e.node, field: 'AP-REP' }) };
    case 22:
      return { type: 'krb-cred', value: readKrbCred({ node: e.node, field: 'KRB-CRED' }) };
    case 30:
      return { type: 'krb-error', value: readKrbError({ node: e.node, field: 'KRB-ERROR' }) };
    default:
      throw new Asn1Error('KerberosMessage', `unknown message [APPLICATION ${e.node.tag}]`);
  }
}
