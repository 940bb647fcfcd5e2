// KRB-ERROR codes (RFC 4120 §7.5.9, RFC 6113 §5.4.3, RFC 6806) and what a person should do
// about the common ones. Names are the RFC's, so a log line can be searched for.
import { KerberosError } from '../errors.js';

const NAMES: Readonly<Record<number, string>> = {
  0: 'KDC_ERR_NONE',
  1: 'KDC_ERR_NAME_EXP',
  2: 'KDC_ERR_SERVICE_EXP',
  3: 'KDC_ERR_BAD_PVNO',
  4: 'KDC_ERR_C_OLD_MAST_KVNO',
  5: 'KDC_ERR_S_OLD_MAST_KVNO',
  6: 'KDC_ERR_C_PRINCIPAL_UNKNOWN',
  7: 'KDC_ERR_S_PRINCIPAL_UNKNOWN',
  8: 'KDC_ERR_PRINCIPAL_NOT_UNIQUE',
  9: 'KDC_ERR_NULL_KEY',
  10: 'KDC_ERR_CANNOT_POSTDATE',
  11: 'KDC_ERR_NEVER_VALID',
  12: 'KDC_ERR_POLICY',
  13: 'KDC_ERR_BADOPTION',
  14: 'KDC_ERR_ETYPE_NOSUPP',
  15: 'KDC_ERR_SUMTYPE_NOSUPP',
  16: 'KDC_ERR_PADATA_TYPE_NOSUPP',
  17: 'KDC_ERR_TRTYPE_NOSUPP',
  18: 'KDC_ERR_CLIENT_REVOKED',
  19: 'KDC_ERR_SERVICE_REVOKED',
  20: 'KDC_ERR_TGT_REVOKED',
  21: 'KDC_ERR_CLIENT_NOTYET',
  22: 'KDC_ERR_SERVICE_NOTYET',
  23: 'KDC_ERR_KEY_EXPIRED',
  24: 'KDC_ERR_PREAUTH_FAILED',
  25: 'KDC_ERR_PREAUTH_REQUIRED',
  26: 'KDC_ERR_SERVER_NOMATCH',
  27: 'KDC_ERR_MUST_USE_USER2USER',
  28: 'KDC_ERR_PATH_NOT_ACCEPTED',
  29: 'KDC_ERR_SVC_UNAVAILABLE',
  31: 'KRB_AP_ERR_BAD_INTEGRITY',
  32: 'KRB_AP_ERR_TKT_EXPIRED',
  33: 'KRB_AP_ERR_TKT_NYV',
  34: 'KRB_AP_ERR_REPEAT',
  35: 'KRB_AP_ERR_NOT_US',
  36: 'KRB_AP_ERR_BADMATCH',
  37: 'KRB_AP_ERR_SKEW',
  38: 'KRB_AP_ERR_BADADDR',
  39: 'KRB_AP_ERR_BADVERSION',
  40: 'KRB_AP_ERR_MSG_TYPE',
  41: 'KRB_AP_ERR_MODIFIED',
  42: 'KRB_AP_ERR_BADORDER',
  43: 'KRB_AP_ERR_ILL_CR_TKT',
  44: 'KRB_AP_ERR_BADKEYVER',
  45: 'KRB_AP_ERR_NOKEY',
  46: 'KRB_AP_ERR_MUT_FAIL',
  47: 'KRB_AP_ERR_BADDIRECTION',
  48: 'KRB_AP_ERR_METHOD',
  49: 'KRB_AP_ERR_BADSEQ',
  50: 'KRB_AP_ERR_INAPP_CKSUM',
  51: 'KRB_AP_PATH_NOT_ACCEPTED',
  52: 'KRB_ERR_RESPONSE_TOO_BIG',
  60: 'KRB_ERR_GENERIC',
  61: 'KRB_ERR_FIELD_TOOLONG',
  62: 'KDC_ERROR_CLIENT_NOT_TRUSTED',
  63: 'KDC_ERROR_KDC_NOT_TRUSTED',
  64: 'KDC_ERROR_INVALID_SIG',
  65: 'KDC_ERR_KEY_TOO_WEAK',
  66: 'KDC_ERR_CERTIFICATE_MISMATCH',
  67: 'KRB_AP_ERR_NO_TGT',
  68: 'KDC_ERR_WRONG_REALM',
  69: 'KRB_AP_ERR_USER_TO_USER_REQUIRED',
  70: 'KDC_ERR_CANT_VERIFY_CERTIFICATE',
  71: 'KDC_ERR_INVALID_CERTIFICATE',
  72: 'KDC_ERR_REVOKED_CERTIFICATE',
  73: 'KDC_ERR_REVOCATION_STATUS_UNKNOWN',
  74: 'KDC_ERR_REVOCATION_STATUS_UNAVAILABLE',
  75: 'KDC_ERR_CLIENT_NAME_MISMATCH',
  76: 'KDC_ERR_KDC_NAME_MISMATCH',
  // RFC 6113 (FAST)
  90: 'KDC_ERR_PREAUTH_EXPIRED',
  91: 'KDC_ERR_MORE_PREAUTH_DATA_REQUIRED',
  92: 'KDC_ERR_PREAUTH_BAD_AUTHENTICATION_SET',
  93: 'KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS',
};

/** Short plain-language meanings, for the cases people actually hit. */
const HINTS: Readonly<Record<number, string>> = {
  1: 'the client principal has expired in the KDC database; ask an administrator',
  6: 'the KDC does not know this client principal: check the user name and realm (case matters)',
  7: 'the KDC does not know this service principal: check the host name (use the name the SPN was registered for) or set targetName',
  12: 'the KDC policy refused the request (for example a disabled account or a forbidden option)',
  14: 'no common encryption type: check permitted_enctypes / default_tkt_enctypes against the keys the principal has',
  18: 'the client account is disabled or locked out',
  23: 'password has expired: change it (kpasswd) and try again',
  24: 'password incorrect (or the keytab key is out of date)',
  25: 'the KDC requires pre-authentication',
  31: 'integrity check failed: wrong key (stale keytab or wrong password), or the message was altered',
  32: 'the ticket has expired: run kinit again',
  34: 'the request was a replay',
  37: 'clock skew too great: synchronise this machine clock with the KDC (or raise clockskew)',
  41: 'message stream modified: usually the service key differs from the KDC copy (stale keytab)',
  44: 'the service does not have this key version: its keytab is stale (re-export with ktadd -norandkey)',
  52: 'the response does not fit in UDP: retry over TCP',
  68: 'wrong realm: the client should follow the referral',
};

export function krbErrorName(code: number): string {
  return NAMES[code] ?? `KRB_ERR_UNKNOWN_${code}`;
}

export function krbErrorHint(code: number): string | undefined {
  return HINTS[code];
}

/** The fields of a KRB-ERROR that make an error message useful. */
export interface KrbErrorSummary {
  errorCode: number;
  eText?: string;
  realm?: string;
  sname?: { nameString: string[] };
  crealm?: string;
  cname?: { nameString: string[] };
}

/** Turns a KRB-ERROR into a typed KerberosError whose message names who and what. */
export function kerberosErrorFrom(err: KrbErrorSummary, context?: string): KerberosError {
  const name = krbErrorName(err.errorCode);
  const parts = [`${name} (${err.errorCode})`];
  if (err.cname && err.crealm !== undefined)
    parts.push(`client ${err.cname.nameString.join('/')}@${err.crealm}`);
  if (err.sname && err.realm !== undefined)
    parts.push(`server ${err.sname.nameString.join('/')}@${err.realm}`);
  if (err.eText) parts.push(`"${err.eText}"`);
  const hint = krbErrorHint(err.errorCode);
  const prefix = context ? `${context}: ` : '';
  return new KerberosError(
    err.errorCode,
    name,
    `${prefix}${parts.join(', ')}`,
    hint === undefined ? {} : { hint },
  );
}
