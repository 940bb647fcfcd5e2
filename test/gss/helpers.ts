// Hermetic Kerberos fixtures: a service key, a ticket we mint ourselves (EncTicketPart encrypted
// with the service key, as a KDC would), and Credentials holding it — no KDC involved.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeEncTicketPart, encodeTicket, NameType, type Ticket } from '../../src/asn1/index.js';
import { type Ccache, newCcache } from '../../src/ccache/ccache.js';
import { TicketFlag } from '../../src/ccache/flags.js';
import type { Keytab } from '../../src/ccache/keytab.js';
import type { Principal } from '../../src/ccache/principal-text.js';
import { encrypt, generateRandomKey, type Key, makeKey } from '../../src/crypto/index.js';
import { parseConfig } from '../../src/krb5/config.js';
import { Credentials, type ServiceTicket } from '../../src/krb5/credentials.js';
import { MessageProtection } from '../../src/krb5/gss/index.js';

export const REALM = 'GSS.TEST';
export const client: Principal = {
  realm: REALM,
  name: { nameType: NameType.PRINCIPAL, nameString: ['alice'] },
};
export const service: Principal = {
  realm: REALM,
  name: { nameType: NameType.SRV_HST, nameString: ['HTTP', 'localhost'] },
};
export const config = parseConfig(`[libdefaults]\n default_realm = ${REALM}\n`);

export interface Minted {
  serviceKey: Key;
  kvno: number;
  keytab: Keytab;
  ticket: ServiceTicket;
  credentials: Credentials;
  ccache: Ccache;
}

export interface MintOptions {
  enctype?: number;
  sessionEnctype?: number;
  kvno?: number;
  flags?: number;
  /** ms; ticket start and auth time (default now). */
  start?: number;
  lifetimeMs?: number;
  ticketClient?: Principal;
  /** The client of the ticket, the ccache and the authenticator alike (default alice@GSS.TEST). */
  client?: Principal;
  /** The ticket's transited field (default empty DOMAIN-X500-COMPRESS). */
  transited?: { trType: number; contents: Uint8Array };
}

export function mintTicket(serviceKey: Key, kvno: number, sessionKey: Key, o: MintOptions = {}): Ticket {
  const start = o.start ?? Date.now();
  const t = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);
  const c = o.ticketClient ?? o.client ?? client;
  const part = encodeEncTicketPart({
    flags: o.flags ?? TicketFlag.FORWARDABLE | TicketFlag.PRE_AUTHENT,
    key: { keytype: sessionKey.enctype, keyvalue: sessionKey.bytes },
    crealm: c.realm,
    cname: c.name,
    transited: o.transited ?? { trType: 1, contents: new Uint8Array(0) },
    authtime: t(start),
    starttime: t(start),
    endtime: t(start + (o.lifetimeMs ?? 3_600_000)),
  });
  return {
    tktVno: 5,
    realm: service.realm,
    sname: service.name,
    encPart: { etype: serviceKey.enctype, kvno, cipher: encrypt(serviceKey, 2, part) },
  };
}

export async function mint(o: MintOptions = {}): Promise<Minted> {
  const enctype = o.enctype ?? 18;
  const kvno = o.kvno ?? 3;
  const serviceKey = generateRandomKey(enctype);
  const sessionKey = generateRandomKey(o.sessionEnctype ?? enctype);
  const ticket = mintTicket(serviceKey, kvno, sessionKey, o);
  const ticketBytes = encodeTicket(ticket);
  const start = o.start ?? Date.now();
  const secs = (ms: number): number => Math.floor(ms / 1000);
  const who = o.client ?? client;
  const ccache = newCcache(who);
  ccache.credentials.push({
    client: who,
    server: service,
    key: { keytype: sessionKey.enctype, keyvalue: sessionKey.bytes },
    authTime: secs(start),
    startTime: secs(start),
    endTime: secs(start + (o.lifetimeMs ?? 3_600_000)),
    renewTill: 0,
    isSkey: false,
    flags: o.flags ?? TicketFlag.FORWARDABLE | TicketFlag.PRE_AUTHENT,
    addresses: [],
    authData: [],
    ticket: ticketBytes,
    secondTicket: new Uint8Array(0),
  });
  const credentials = await Credentials.fromCcacheData(ccache, { config });
  // Built directly (not via getServiceTicket) so that expired tickets can be minted too.
  const st: ServiceTicket = {
    client: who,
    server: service,
    ticket,
    ticketBytes,
    sessionKey,
    flags: o.flags ?? TicketFlag.FORWARDABLE | TicketFlag.PRE_AUTHENT,
    authTime: new Date(secs(start) * 1000),
    startTime: new Date(secs(start) * 1000),
    endTime: new Date(secs(start + (o.lifetimeMs ?? 3_600_000)) * 1000),
    renewTill: undefined,
  };
  const keytab: Keytab = {
    version: 2,
    entries: [
      {
        principal: service,
        timestamp: secs(start),
        kvno,
        key: { keytype: enctype, keyvalue: serviceKey.bytes },
      },
    ],
  };
  return { serviceKey, kvno, keytab, ticket: st, credentials, ccache };
}

export interface MitTokenVectors {
  contexts: {
    service: string;
    enctype: number;
    key: string;
    tokens: {
      from: 'initiator' | 'acceptor';
      kind: 'mic' | 'wrap';
      conf?: boolean;
      msg: string;
      token: string;
    }[];
  }[];
}

/** test/vectors/gss/mit-per-message.json (scripts/vectors/mit-gss-tokens.py). */
export function mitTokens(): MitTokenVectors {
  return JSON.parse(
    readFileSync(join(import.meta.dirname, '..', 'vectors', 'gss', 'mit-per-message.json'), 'utf8'),
  ) as MitTokenVectors;
}

/** Our side of an MIT context: rc4 keeps the initiator's key; RFC 4121 contexts the acceptor subkey. */
export function mitReceiver(enctype: number, keyHex: string, isAcceptor: boolean): MessageProtection {
  const key = makeKey(enctype, Uint8Array.from(Buffer.from(keyHex, 'hex')));
  const rc4 = enctype === 23;
  return new MessageProtection({
    isAcceptor,
    initiatorKey: rc4 ? key : generateRandomKey(enctype),
    acceptorKey: rc4 ? undefined : key,
    sendSeq: 0,
    recvSeq: 0,
    replayDetection: true,
    sequenceDetection: true,
  });
}
