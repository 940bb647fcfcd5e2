// Error text as the native `kerberos` addon shows it. The addon builds messages from libkrb5:
// GSS calls give `<major status text>: <minor status text>` (gss_display_status), krb5 calls
// give `<com_err text> (<code>)`. Code that matches on those strings keeps working, and each
// error still carries our typed error as its `cause`.
import { KerberosError, SpnegoError } from '../errors.js';

/** MIT's krb5 error table base (ERROR_TABLE_BASE_krb5): KRB-ERROR n is BASE + n. */
export const KRB5_ERROR_BASE = -1765328384;

/** MIT com_err texts (krb5_err.et) of the KRB-ERROR codes a client or server meets. */
const KRB5_TEXT: Readonly<Record<number, string>> = {
  1: "Client's entry in database has expired",
  2: "Server's entry in database has expired",
  6: 'Client not found in Kerberos database',
  7: 'Server not found in Kerberos database',
  12: 'KDC policy rejects request',
  13: "KDC can't fulfill requested option",
  14: 'KDC has no support for encryption type',
  18: "Client's credentials have been revoked",
  23: 'Password has expired',
  24: 'Preauthentication failed',
  25: 'Additional pre-authentication required',
  31: 'Decrypt integrity check failed',
  32: 'Ticket expired',
  33: 'Ticket not yet valid',
  34: 'Request is a replay',
  35: "The ticket isn't for us",
  36: "Ticket/authenticator don't match",
  37: 'Clock skew too great',
  41: 'Message stream modified',
  44: 'Specified version of key is not available',
  45: 'Service key not available',
  60: 'Generic error (see e-text)',
  68: 'Wrong realm',
};

/** GSS major status texts (MIT gss_display_status, RFC 2744 names). */
export const GSS_TEXT = {
  FAILURE: 'Unspecified GSS failure.  Minor code may provide more information',
  NO_CRED: 'No credentials were supplied, or the credentials were unavailable or inaccessible',
  DEFECTIVE_TOKEN: 'Invalid token was supplied',
  BAD_MIC: 'A token had an invalid Message Integrity Check (MIC)',
  NO_CONTEXT: 'No context has been established',
  DUPLICATE_TOKEN: 'The token was a duplicate of an earlier token',
  OLD_TOKEN: "The token's validity period has expired",
  UNSEQ_TOKEN: 'A later token has already been processed',
  BAD_NAME: 'An invalid name was supplied',
} as const;

export function krb5Text(code: number): string {
  return KRB5_TEXT[code] ?? `Kerberos error ${code}`;
}

/** An Error whose message is libkrb5-shaped; `cause` holds our typed error. */
export class KerberosCompatError extends SpnegoError {}

/** `<text> (<code>)`, as the addon reports krb5 (not GSS) failures. */
export function krb5Failure(e: unknown): KerberosCompatError {
  if (e instanceof KerberosError) {
    return new KerberosCompatError(e.code, `${krb5Text(e.errorCode)} (${KRB5_ERROR_BASE + e.errorCode})`, {
      cause: e,
      ...(e.hint === undefined ? {} : { hint: e.hint }),
    });
  }
  if (e instanceof SpnegoError) {
    const [code, text] =
      e.code === 'KDC_UNREACHABLE'
        ? [-1765328228, 'Cannot contact any KDC for requested realm']
        : e.code === 'NO_KDC_FOR_REALM'
          ? [-1765328230, 'Cannot find KDC for requested realm']
          : e.code === 'PRINCIPAL_NAME'
            ? [-1765328250, 'Malformed representation of principal']
            : [-1765328324, 'Generic error (see e-text)'];
    return new KerberosCompatError(e.code, `${text} (${code})`, {
      cause: e,
      ...(e.hint === undefined ? {} : { hint: e.hint }),
    });
  }
  return new KerberosCompatError('KRB5_FAILURE', e instanceof Error ? e.message : String(e), { cause: e });
}

/** `<major>: <minor>`, as the addon reports GSS failures. */
export function gssFailure(e: unknown): KerberosCompatError {
  if (e instanceof KerberosCompatError) return e;
  if (e instanceof TypeError) return new KerberosCompatError('FAILURE', e.message, { cause: e });
  let major: string = GSS_TEXT.FAILURE;
  let minor = e instanceof Error ? e.message : String(e);
  const code = e instanceof SpnegoError ? e.code : 'FAILURE';
  if (e instanceof KerberosError) minor = krb5Text(e.errorCode);
  else if (e instanceof SpnegoError) {
    if (code in GSS_TEXT) major = GSS_TEXT[code as keyof typeof GSS_TEXT];
    else if (e.name === 'CredentialsError') major = GSS_TEXT.FAILURE;
    else if (e.name === 'SPNEGOExchangeError' || e.name === 'MutualAuthenticationError')
      major = GSS_TEXT.DEFECTIVE_TOKEN;
  }
  return new KerberosCompatError(code, `${major}: ${minor}`, {
    cause: e,
    ...(e instanceof SpnegoError && e.hint !== undefined ? { hint: e.hint } : {}),
  });
}
