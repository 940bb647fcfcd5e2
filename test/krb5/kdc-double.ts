// KDC doubles for tests: small node:net servers speaking RFC 4120 §7.2.2 TCP framing, answering
// each request as the test says. Every double a file starts is closed after its tests.
import { createServer, type Server, type Socket } from 'node:net';
import { after } from 'node:test';
import { encodeTicket, type Ticket } from '../../src/asn1/index.js';
import { NameType, type PrincipalName } from '../../src/asn1/types.js';
import { newCcache } from '../../src/ccache/ccache.js';
import { openCcache } from '../../src/ccache/store.js';
import { generateRandomKey, type Key } from '../../src/crypto/index.js';
import { type Krb5Config, parseConfig } from '../../src/krb5/config.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { frameTcp } from '../../src/krb5/transport.js';

/** What the double does with one framed request: reply bytes (framed for it), raw bytes, or silence. */
export type Behaviour = (
  request: Uint8Array,
) => { reply?: Uint8Array; raw?: Uint8Array; end?: boolean } | 'silent';

export interface KdcDouble {
  port: number;
  connections: number;
  requests: Uint8Array[];
}

/** A starter of doubles for one test file. */
export function kdcDoubles(): (behaviour: Behaviour) => Promise<KdcDouble> {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });
  return async (behaviour) => {
    const d: KdcDouble = { port: 0, connections: 0, requests: [] };
    const server = createServer((sock) => {
      d.connections++;
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      sock.on('error', () => undefined);
      let buf = Buffer.alloc(0);
      sock.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (buf.length < 4) return;
        const len = buf.readUInt32BE(0);
        if (buf.length < 4 + len) return;
        const req = new Uint8Array(buf.subarray(4, 4 + len));
        buf = buf.subarray(4 + len);
        d.requests.push(req);
        const out = behaviour(req);
        if (out === 'silent') return;
        if (out.reply) sock.write(frameTcp(out.reply));
        if (out.raw) sock.write(out.raw);
        if (out.end) sock.end();
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    d.port = typeof a === 'object' && a !== null ? a.port : 0;
    return d;
  };
}

/** A krb5.conf whose realms' KDCs are the given double ports (TCP only, AES-256 only). */
export function doubleConfig(
  realms: Record<string, number[]>,
  o: { extra?: string; kdcTimeout?: number; requestTimeout?: number } = {},
): Krb5Config {
  return parseConfig(`[libdefaults]
  default_realm = ${Object.keys(realms)[0]}
  dns_lookup_kdc = false
  udp_preference_limit = 1
  default_tkt_enctypes = aes256-cts-hmac-sha1-96
  default_tgs_enctypes = aes256-cts-hmac-sha1-96
  kdc_timeout = ${o.kdcTimeout ?? 1}
  request_timeout = ${o.requestTimeout ?? 60}
${o.extra ?? ''}
[realms]
${Object.entries(realms)
  .map(([r, ports]) => `  ${r} = {\n${ports.map((p) => `    kdc = 127.0.0.1:${p}`).join('\n')}\n  }`)
  .join('\n')}
`);
}

export const tgsName = (realm: string): PrincipalName => ({
  nameType: NameType.SRV_INST,
  nameString: ['krbtgt', realm],
});

/** A ticket that only looks like one (aes256, kvno 1): enough for a double to hand out. */
export const fakeTicket = (realm: string, sname: PrincipalName): Ticket => ({
  tktVno: 5,
  realm,
  sname,
  encPart: { etype: 18, kvno: 1, cipher: new Uint8Array(64).fill(7) },
});

/**
 * Credentials from MEMORY:`name` holding user@`realm`'s TGT (a fake ticket) with a fresh aes256
 * session key the test's double uses to answer TGS requests.
 */
export async function withFakeTgt(
  realm: string,
  name: string,
  config: Krb5Config,
): Promise<{ creds: Credentials; session: Key }> {
  const session = generateRandomKey(18);
  const now = Math.floor(Date.now() / 1000);
  const cc = newCcache({ realm, name: { nameType: NameType.PRINCIPAL, nameString: ['user'] } });
  cc.credentials.push({
    client: cc.defaultPrincipal,
    server: { realm, name: tgsName(realm) },
    key: { keytype: 18, keyvalue: session.bytes },
    authTime: now,
    startTime: now,
    endTime: now + 3600,
    renewTill: 0,
    isSkey: false,
    flags: 0,
    addresses: [],
    authData: [],
    ticket: encodeTicket(fakeTicket(realm, tgsName(realm))),
    secondTicket: new Uint8Array(0),
  });
  await (await openCcache(`MEMORY:${name}`)).write(cc);
  return { creds: await Credentials.fromCcache(`MEMORY:${name}`, { config }), session };
}
