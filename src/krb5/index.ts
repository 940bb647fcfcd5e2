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
export * from '../ccache/index.js';
export {
  ConfigError,
  CredentialsError,
  KdcProxyError,
  KdcUnreachableError,
  KerberosError,
  SpnegoError,
} from '../errors.js';
export { createDnsResolver, type DnsResolver, systemDns } from '../runtime/dns.js';
export type { Krb5Config, Libdefaults, ParseConfigOptions, RealmConfig, RealmLibdefaults } from './config.js';
export { configFromProfile, libdefault, parseConfig, requireDefaultRealm } from './config.js';
export type { ConfigLimits, LoadConfigOptions } from './config-load.js';
export { configFiles, DEFAULT_CONFIG_LIMITS, DEFAULT_CONFIG_PATH, loadConfig } from './config-load.js';
export { parseBoolean, parseDuration, parseEnctypeList, parseInteger } from './config-values.js';
export type { AcquireOptions, CredentialsOptions, ServiceTicket } from './credentials.js';
export { Credentials, servicePrincipal } from './credentials.js';
export { krbErrorHint, krbErrorName } from './krb-error.js';
export type { KdcAddress, LocateOptions } from './locate.js';
export { KDC_PORT, locateKdcs, orderSrv, parseHostPort } from './locate.js';
export type { IncludedFile, IncludeResolver, ProfileValue } from './profile.js';
export { Profile, ProfileSection, parseProfile } from './profile.js';
export type { HostRealm } from './realm-of-host.js';
export { fallbackRealmOfHost, mappedRealmOfHost, realmOfHost, resolveRealmOfHost } from './realm-of-host.js';
export type { KdcEndpoint, KdcTransport, NetIo, SendOptions } from './transport.js';
export { sendToKdcs } from './transport.js';
