// Numbers of the Kerberos GSS-API mechanism (RFC 4121, RFC 1964, RFC 4120 §7.5.1).

/** Context-establishment flags carried in the 0x8003 checksum (RFC 4121 §4.1.1.1, RFC 2744). */
export const GssFlag = {
  DELEG: 1,
  MUTUAL: 2,
  REPLAY: 4,
  SEQUENCE: 8,
  CONF: 16,
  INTEG: 32,
  /**
   * GSS_C_CHANNEL_BOUND_FLAG (MIT gssapi_ext.h, 2048): never taken from the wire; the acceptor
   * sets it when the client's channel bindings matched its own.
   */
  CHANNEL_BOUND: 0x800,
} as const;

/** TOK_ID of context tokens (RFC 4121 §4.1) and per-message tokens (§4.2.6). */
export const TokenId = {
  AP_REQ: 0x0100,
  AP_REP: 0x0200,
  KRB_ERROR: 0x0300,
  MIC: 0x0404,
  WRAP: 0x0504,
} as const;

/** Per-message token flags (RFC 4121 §4.2.2). */
export const TokenFlag = {
  SENT_BY_ACCEPTOR: 0x01,
  SEALED: 0x02,
  ACCEPTOR_SUBKEY: 0x04,
} as const;

/** Key usage numbers (RFC 4120 §7.5.1, RFC 4121 §2). */
export const KeyUsage = {
  TICKET: 2,
  AP_REQ_AUTHENTICATOR: 11,
  AP_REP_ENC_PART: 12,
  KRB_CRED_ENC_PART: 14,
  ACCEPTOR_SEAL: 22,
  ACCEPTOR_SIGN: 23,
  INITIATOR_SEAL: 24,
  INITIATOR_SIGN: 25,
} as const;

/** The authenticator checksum type that carries GSS flags and delegation (RFC 4121 §4.1.1). */
export const CKSUMTYPE_GSSAPI = 0x8003;

/** APOptions bits as the uint32 KerberosFlags our codec uses (bit n = 1 << (31 - n)). */
export const ApOption = {
  USE_SESSION_KEY: 0x40000000,
  MUTUAL_REQUIRED: 0x20000000,
} as const;
