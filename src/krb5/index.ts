// spnego/krb5 — Kerberos protocol, credentials and credential stores.
export type {
  AuthorizationData,
  AuthorizationDataEntry,
  Checksum,
  EncryptedData,
  EncryptionKey,
  HostAddress,
  KerberosTime,
  PrincipalName,
  Realm,
} from '../asn1/types.js';
export { NameType } from '../asn1/types.js';
export { ConfigError, CredentialsError, KdcUnreachableError, KerberosError, SpnegoError } from '../errors.js';
