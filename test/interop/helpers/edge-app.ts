// The client a Worker or an Edge Function runs: credentials from a keytab secret (base64),
// krb5.conf as text naming only a KDC proxy, then a Negotiate-protected page fetched with mutual
// authentication required. Only web APIs here: no file, socket or DNS is touched. Three round
// trips to the first authenticated response: the AS-REQ (pre-authenticated from the keytab on
// the first try), the TGS-REQ, and the HTTP request carrying its token (opportunisticAuth: no 401
// leg).
import { negotiateFailure, negotiateFetch, REQUIRED } from '../../../src/index.js';
import { Credentials, parseConfig, parseKeytab } from '../../../src/krb5/index.js';

export interface EdgeEnv {
  KRB5_CONF: string;
  KEYTAB_B64: string;
  PRINCIPAL: string;
  URL: string;
  /** "1": the ordinary exchange (no optimistic pre-authentication, no opportunistic token), for bench/edge's comparison row. */
  ORDINARY?: string;
}

export async function handle(env: EdgeEnv): Promise<Response> {
  const started = Date.now();
  try {
    const keytab = parseKeytab(Uint8Array.from(atob(env.KEYTAB_B64), (c) => c.charCodeAt(0)));
    const ordinary = env.ORDINARY === '1';
    const credentials = await Credentials.fromKeytab(env.PRINCIPAL, keytab, {
      config: parseConfig(env.KRB5_CONF),
      optimisticPreauth: !ordinary,
    });
    const fetchNegotiate = negotiateFetch({
      credentials,
      mutualAuthentication: REQUIRED,
      opportunisticAuth: !ordinary,
    });
    const res = await fetchNegotiate(env.URL);
    const body = (await res.text()).trim();
    return Response.json({
      status: res.status,
      user: res.headers.get('x-remote-user'),
      body,
      ms: Date.now() - started,
      // Why a 401 was left unauthenticated, if it was.
      ...(res.status === 401 ? { failure: negotiateFailure(res)?.message } : {}),
    });
  } catch (e) {
    const err = e as { name?: string; code?: string; message?: string; hint?: string };
    return Response.json(
      { error: err.name, code: err.code, message: err.message, hint: err.hint },
      { status: 500 },
    );
  }
}
