// spnego/testing — test helpers (MiniKdc).
export { SpnegoError } from '../errors.js';
export type {
  KdcFaults,
  KdcRequestRecord,
  Krb5ConfigOptions,
  MiniKdcOptions,
  PrincipalSpec,
} from './mini-kdc.js';
export { MiniKdc } from './mini-kdc.js';
