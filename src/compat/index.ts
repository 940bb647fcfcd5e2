// spnego/kerberos — the npm `kerberos@7` API on our engine (see kerberos.ts for what is
// reproduced from the native addon and why).
export {
  checkPassword,
  GSS_C_ANON_FLAG,
  GSS_C_CONF_FLAG,
  GSS_C_DELEG_FLAG,
  GSS_C_INTEG_FLAG,
  GSS_C_MUTUAL_FLAG,
  GSS_C_NO_OID,
  GSS_C_PROT_READY_FLAG,
  GSS_C_REPLAY_FLAG,
  GSS_C_SEQUENCE_FLAG,
  GSS_C_TRANS_FLAG,
  GSS_MECH_OID_KRB5,
  GSS_MECH_OID_SPNEGO,
  type InitializeClientOptions,
  initializeClient,
  initializeServer,
  type KerberosClient,
  type KerberosServer,
  principalDetails,
  version,
  type WrapOptions,
} from './kerberos.js';
export { KerberosCompatError } from './messages.js';
