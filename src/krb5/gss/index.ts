// The Kerberos 5 GSS-API mechanism (RFC 4121): context tokens, per-message tokens, acceptor.
export { acceptApReq, ClientRejectedError, type Krb5Accepted, type Krb5AcceptorOptions } from './acceptor.js';
export { channelBindingHash, decodeGssChecksum, encodeGssChecksum, type GssChecksum } from './checksum.js';
export { ApOption, CKSUMTYPE_GSSAPI, GssFlag, KeyUsage, TokenFlag, TokenId } from './constants.js';
export { buildKrbCred, openKrbCred } from './delegation.js';
export { GssError } from './errors.js';
export {
  decodeKrb5Token,
  encodeKrb5Token,
  errorFromToken,
  isKrb5Oid,
  type Krb5ContextToken,
} from './framing.js';
export { Krb5Initiator, type Krb5InitiatorOptions, randomSeq } from './initiator.js';
export { MessageProtection, type ProtectionOptions } from './per-message.js';
export {
  defaultReplayCache,
  MemoryReplayCache,
  REPLAY_BUCKET_MS,
  ReplayCache,
  ReplayCacheError,
  type ReplayCacheOptions,
  replayBound,
  replayTag,
  TagSet,
} from './replay-cache.js';
export { SequenceWindow } from './sequence.js';
export { tlsServerEndPoint } from './tls-bindings.js';
export {
  type Capaths,
  checkTransited,
  expandTransited,
  KRB_AP_ERR_ILL_CR_TKT,
  needsTransitCheck,
  trustedPathRealms,
} from './transited.js';
