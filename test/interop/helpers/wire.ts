// Records what MIT's kinit + kvno put on the wire against a real MIT KDC, one realm per enctype.
// Used live by test/interop/foundation.test.ts and, through scripts/interop/record-wire.ts, to
// (re)generate the hermetic fixtures in test/vectors/mit-wire/<enctype>.json.
import { type MitRealm, run, startMitRealm } from './mit-realm.js';
import { messageName } from './relay.js';

export interface WireCase {
  enctype: number;
  enctypeName: string;
  realm: string;
  /** kdc.conf salt type for the keys (`normal` = realm + name components, RFC 4120 §4). */
  saltType: string;
  client: string;
  password: string;
  service: string;
}

/** One realm per enctype; some use a non-default salt or a non-ASCII password to widen coverage. */
export const WIRE_CASES: readonly WireCase[] = [
  {
    enctype: 17,
    enctypeName: 'aes128-cts-hmac-sha1-96',
    realm: 'E17.MIT.TEST',
    saltType: 'normal',
    client: 'alice',
    password: 'alice-17-password',
    service: 'HTTP/localhost',
  },
  {
    enctype: 18,
    enctypeName: 'aes256-cts-hmac-sha1-96',
    realm: 'E18.MIT.TEST',
    saltType: 'normal',
    client: 'alice',
    password: 'pässwörd ünïcode 18',
    service: 'HTTP/localhost',
  },
  {
    enctype: 19,
    enctypeName: 'aes128-cts-hmac-sha256-128',
    realm: 'E19.MIT.TEST',
    saltType: 'normal',
    client: 'bob',
    password: 'bob-19-password',
    service: 'HTTP/localhost',
  },
  {
    enctype: 20,
    enctypeName: 'aes256-cts-hmac-sha384-192',
    realm: 'E20.MIT.TEST',
    // Salt = the name without the realm: the key only matches when the client takes the salt
    // from ETYPE-INFO2 instead of computing the default one.
    saltType: 'norealm',
    client: 'carol',
    password: 'carol-20-password',
    service: 'HTTP/localhost',
  },
];

export interface WireMessage {
  /** From the APPLICATION tag: AS-REQ, KRB-ERROR, AS-REP, TGS-REQ, TGS-REP. */
  name: string;
  direction: 'request' | 'reply';
  /** Which TCP connection (from 1) carried it: MIT opens one per exchange. */
  connection: number;
  hex: string;
}

export interface WireKey {
  principal: string;
  kvno: number;
  enctype: number;
  hex: string;
}

export interface WireFixture {
  description: string;
  generatedBy: string;
  mitVersion: string;
  realm: string;
  enctype: number;
  enctypeName: string;
  saltType: string;
  client: string;
  password: string;
  service: string;
  /** Long-term keys of krbtgt and the service (exported with ktadd -norandkey), to open tickets. */
  keys: WireKey[];
  messages: WireMessage[];
}

export const EXPECTED_SEQUENCE = ['AS-REQ', 'KRB-ERROR', 'AS-REQ', 'AS-REP', 'TGS-REQ', 'TGS-REP'] as const;

export async function mitVersion(): Promise<string> {
  const r = await run('klist', ['-V']);
  return /version\s+(\S+)/i.exec(r.stdout)?.[1] ?? 'unknown';
}

/** Starts a relayed realm for `c` with the client and service principals; the caller stops it. */
export function startWireRealm(c: WireCase): Promise<MitRealm> {
  return startMitRealm({
    realm: c.realm,
    enctypes: [`${c.enctypeName}:${c.saltType}`],
    principals: [{ name: c.client, password: c.password }, { name: c.service }],
    relay: true,
  });
}

/** Runs MIT kinit then kvno through the realm's relay and packages everything the relay saw. */
export async function recordWire(realm: MitRealm, c: WireCase): Promise<WireFixture> {
  const relay = realm.relay;
  if (relay === undefined) throw new Error('recordWire needs a realm started with relay: true');
  const ccache = `FILE:${realm.dir}/wire-${c.enctype}.ccache`;
  relay.clear();
  await realm.kinit(c.client, c.password, ccache);
  await realm.kvno(c.service, ccache);
  if (relay.truncated.length > 0)
    throw new Error(`relay saw ${relay.truncated.length} unterminated frame(s)`);
  const messages: WireMessage[] = relay.messages.map((m) => ({
    name: messageName(m.bytes),
    direction: m.direction,
    connection: m.connection,
    hex: Buffer.from(m.bytes).toString('hex'),
  }));
  const names = messages.map((m) => m.name);
  if (names.join(' ') !== EXPECTED_SEQUENCE.join(' ')) {
    throw new Error(`unexpected message sequence: ${names.join(', ')}`);
  }

  const keys: WireKey[] = [];
  for (const spn of [`krbtgt/${c.realm}`, c.service]) {
    const path = await realm.keytab(spn);
    for (const k of await realm.keytabKeys(path)) {
      keys.push({
        principal: k.principal,
        kvno: k.kvno,
        enctype: c.enctype,
        hex: Buffer.from(k.key).toString('hex'),
      });
      if (k.enctypeName !== c.enctypeName)
        throw new Error(`${spn} has a ${k.enctypeName} key, expected ${c.enctypeName}`);
    }
  }

  return {
    description:
      `MIT ${await mitVersion()} kinit ${c.client} then kvno ${c.service}, recorded on TCP between the ` +
      `clients and a real MIT KDC; realm keys are ${c.enctypeName}:${c.saltType} only. hex = the message ` +
      `without its 4-byte length prefix.`,
    generatedBy: 'scripts/interop/record-wire.ts',
    mitVersion: await mitVersion(),
    realm: c.realm,
    enctype: c.enctype,
    enctypeName: c.enctypeName,
    saltType: c.saltType,
    client: realm.qualify(c.client),
    password: c.password,
    service: realm.qualify(c.service),
    keys,
    messages,
  };
}
