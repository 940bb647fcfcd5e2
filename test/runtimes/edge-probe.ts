// What the client path does where Node built-ins are absent: run by test/runtimes/edge.test.ts
// inside edge-runtime and workerd. Every feature that needs a file, a socket or DNS fails with
// its typed error; nothing fails at import. In workerd a `kdc = host:port` is reached over TCP
// through cloudflare:sockets (tcpLogin).
import { Credentials, loadConfig, parseConfig, parseKeytab, readKeytab } from '../../src/krb5/index.js';
import { systemDns } from '../../src/runtime/dns.js';

const CONF = `[libdefaults]
  default_realm = EDGE.TEST
  dns_lookup_kdc = false
  kdc_timeout = 1
  request_timeout = 2
[realms]
  EDGE.TEST = {
    kdc = 127.0.0.1:1
  }
`;

async function outcome(f: () => Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await f();
    return { ok: true };
  } catch (e) {
    const err = e as { name?: string; code?: string; hint?: string; message?: string };
    return { name: err.name, code: err.code, hint: err.hint ?? null, message: err.message };
  }
}

export async function probe(): Promise<Response> {
  const config = parseConfig(CONF);
  return Response.json({
    loadConfig: await outcome(() => loadConfig()),
    fromCcache: await outcome(() => Credentials.fromCcache('FILE:/tmp/krb5cc_edge', { config })),
    readKeytab: await outcome(() => readKeytab('/etc/krb5.keytab')),
    kdcOverTcp: await outcome(() => Credentials.fromPassword('alice@EDGE.TEST', 'pw', { config })),
    // No resolver: host names are used as given (dns_canonicalize_hostname), not an error.
    canonicalHost: await outcome(async () => {
      const name = await systemDns.canonicalHost?.('intranet.example.com', true);
      if (name !== undefined) throw new Error(`resolved to ${name}`);
    }),
  });
}

/**
 * A keytab login and a service ticket straight from a KDC at `kdcAddress` (host:port), no proxy:
 * in workerd over cloudflare:sockets. TCP only, as MIT with udp_preference_limit = 1.
 */
export async function tcpLogin(kdcAddress: string, keytabB64: string, principal: string): Promise<Response> {
  const config = parseConfig(
    CONF.replace('127.0.0.1:1', kdcAddress).replace('kdc_timeout = 1', 'udp_preference_limit = 1'),
  );
  return Response.json(
    await outcome(async () => {
      const keytab = parseKeytab(Uint8Array.from(atob(keytabB64), (c) => c.charCodeAt(0)));
      const creds = await Credentials.fromKeytab(principal, keytab, { config });
      const st = await creds.getServiceTicket('HTTP/localhost');
      if (st.server.name.nameString.join('/') !== 'HTTP/localhost') throw new Error('wrong ticket');
    }),
  );
}
