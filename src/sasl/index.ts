// spnego/sasl — SASL GSSAPI (RFC 4752) over our Kerberos: client and server, bytes in and out.
export { SpnegoError } from '../errors.js';
export { GssError } from '../krb5/gss/index.js';
export { createSaslClient, SaslClient, type SaslClientOptions } from './client.js';
export { SaslError } from './errors.js';
export { encodeSaslFrame, SaslFrameReader } from './frame.js';
export {
  DEFAULT_MAX_BUFFER,
  type LayerName,
  MAX_BUFFER_LIMIT,
  SecurityLayer,
} from './layers.js';
export { MAX_WRAP_OVERHEAD } from './protection.js';
export {
  createSaslServer,
  hostBasedToPrincipal,
  SaslServer,
  type SaslServerOptions,
  type SaslServerStep,
} from './server.js';
