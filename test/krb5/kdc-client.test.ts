// The KDC client (src/krb5 outside gss/), each pinned against a KDC double or
// MiniKdc: a busy KDC is skipped as MIT does, client referrals (RFC 6806 §7) are followed, the
// hierarchical cross-realm path goes through the common parent realm, and service tickets are
// never handed to a different client than the one that asked.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  decodeAsReq,
  decodeTgsReq,
  type EncKdcRepPart,
  encodeAsRep,
  encodeEncAsRepPart,
  encodeEncTgsRepPart,
  encodeEtypeInfo2,
  encodeKrbError,
  encodeMethodData,
  encodeTgsRep,
  MessageType,
  PaDataType,
} from '../../src/asn1/index.js';
import { NameType, type PrincipalName } from '../../src/asn1/types.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { encrypt, generateRandomKey, type Key, stringToKeySync } from '../../src/crypto/index.js';
import { KerberosError } from '../../src/errors.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { frameTcp, type NetIo, sendToKdcs } from '../../src/krb5/transport.js';
import type { ByteStream } from '../../src/runtime/net.js';
import { MiniKdc } from '../../src/testing/index.js';
import { doubleConfig, fakeTicket, kdcDoubles, tgsName, withFakeTgt } from './kdc-double.js';

const REALM = 'HOSTILE.TEST';
const OTHER = 'OTHER.TEST';
const PASSWORD = 'kdc-client-pw';
const ETYPE = 18;

// ---- a small TCP KDC double (RFC 4120 §7.2.2 framing) ----

const doubles = kdcDoubles();
const startDouble = (answer: (request: Uint8Array) => Uint8Array) =>
  doubles((req) => ({ reply: answer(req) }));

const config = (realms: Record<string, number[]>, extra = '') =>
  doubleConfig(realms, { extra, kdcTimeout: 2, requestTimeout: 20 });

const user: PrincipalName = { nameType: NameType.PRINCIPAL, nameString: ['user'] };

function krbError(code: number, realm: string, more: { crealm?: string; cname?: PrincipalName } = {}) {
  return encodeKrbError({
    pvno: 5,
    msgType: MessageType.KRB_ERROR,
    stime: new Date(Math.floor(Date.now() / 1000) * 1000),
    susec: 0,
    errorCode: code,
    realm,
    sname: tgsName(realm),
    ...more,
  });
}

function encPart(nonce: number, srealm: string, sname: PrincipalName, session: Key): EncKdcRepPart {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  return {
    key: { keytype: session.enctype, keyvalue: session.bytes },
    lastReq: [],
    nonce,
    flags: 0,
    authtime: now,
    endtime: new Date(now.getTime() + 3600_000),
    srealm,
    sname,
  };
}

/** An AS-REP (no pre-authentication) for krbtgt of `realm`, in the user's key salted for `realm`. */
function asRep(reqBytes: Uint8Array, realm: string): Uint8Array {
  const req = decodeAsReq(reqBytes).reqBody;
  const key = stringToKeySync(ETYPE, PASSWORD, `${realm}user`);
  const enc = encPart(req.nonce, realm, tgsName(realm), generateRandomKey(ETYPE));
  return encodeAsRep({
    pvno: 5,
    msgType: MessageType.AS_REP,
    crealm: realm,
    cname: user,
    ticket: fakeTicket(realm, tgsName(realm)),
    encPart: { etype: ETYPE, cipher: encrypt(key, 3, encodeEncAsRepPart(enc)) },
  });
}

/** A TGS-REP in the TGT session key (usage 8); every ticket it issues has that same session key. */
function tgsRep(reqBytes: Uint8Array, session: Key, crealm: string, srealm: string, sname: PrincipalName) {
  const req = decodeTgsReq(reqBytes).reqBody;
  const enc = encPart(req.nonce, srealm, sname, session);
  return encodeTgsRep({
    pvno: 5,
    msgType: MessageType.TGS_REP,
    crealm,
    cname: user,
    ticket: fakeTicket(srealm, sname),
    encPart: { etype: ETYPE, cipher: encrypt(session, 8, encodeEncTgsRepPart(enc)) },
  });
}

const withTgt = (realm: string, name: string, cfg: ReturnType<typeof config>) =>
  withFakeTgt(realm, name, cfg);

// ---- KDC_ERR_SVC_UNAVAILABLE: the next KDC is asked (MIT sendto_kdc check_for_svc_unavailable) ----

describe('a KDC answering KDC_ERR_SVC_UNAVAILABLE', () => {
  it('is skipped: the next KDC of the realm is asked and its answer used', async () => {
    const busy = await startDouble(() => krbError(29, REALM));
    const good = await startDouble((req) => asRep(req, REALM));
    const creds = await Credentials.fromPassword(`user@${REALM}`, PASSWORD, {
      config: config({ [REALM]: [busy.port, good.port] }),
    });
    assert.equal(unparsePrincipal(creds.principal), `user@${REALM}`);
    assert.equal(busy.requests.length, 1);
    assert.equal(good.requests.length, 1);
  });

  it('when every KDC says so, the error is KDC_ERR_SVC_UNAVAILABLE (not unreachable), each asked once', async () => {
    const a = await startDouble(() => krbError(29, REALM));
    const b = await startDouble(() => krbError(29, REALM));
    await assert.rejects(
      Credentials.fromPassword(`user@${REALM}`, PASSWORD, { config: config({ [REALM]: [a.port, b.port] }) }),
      (e: unknown) => {
        assert.ok(e instanceof KerberosError, String(e));
        assert.equal(e.code, 'KDC_ERR_SVC_UNAVAILABLE');
        return true;
      },
    );
    assert.equal(a.requests.length, 1);
    assert.equal(b.requests.length, 1);
  });

  it('sendToKdcs over UDP: a busy KDC is left for the next one, without trying it over TCP', async () => {
    const busy = krbError(29, REALM);
    const ok = Uint8Array.of(0x6b, 1, 2);
    const calls: string[] = [];
    const stream = (b: Uint8Array): ByteStream => {
      const q = [frameTcp(b)];
      return { write: async () => undefined, read: async () => q.shift() ?? null, close: () => undefined };
    };
    const io: NetIo = {
      udpExchange: async (host) => {
        calls.push(`udp ${host}`);
        return host === 'a' ? busy : ok;
      },
      connectTcp: async (host) => {
        calls.push(`tcp ${host}`);
        return stream(ok);
      },
    };
    const reply = await sendToKdcs(
      REALM,
      [
        { host: 'a', port: 88, transport: 'any' },
        { host: 'b', port: 88, transport: 'any' },
      ],
      Uint8Array.of(1),
      { io },
    );
    assert.deepEqual(reply, ok);
    assert.deepEqual(calls, ['udp a', 'udp b']);
  });
});

// ---- AS client referrals (RFC 6806 §7; MIT get_in_tkt follows KDC_ERR_WRONG_REALM) ----

describe('AS client referral (KDC_ERR_WRONG_REALM with crealm)', () => {
  /** HOSTILE.TEST refers the client to OTHER.TEST, which issues the TGT. */
  const referring = () =>
    startDouble((req) => {
      const body = decodeAsReq(req).reqBody;
      if (body.realm === REALM) return krbError(68, REALM, { crealm: OTHER, cname: body.cname ?? user });
      return asRep(req, OTHER);
    });

  it('with canonicalize the AS-REQ is repeated in the realm named, for that realm’s krbtgt', async () => {
    const d = await referring();
    // canonicalize from krb5.conf, a plain name: the default salt follows the client to OTHER.TEST.
    const creds = await Credentials.fromPassword(`user@${REALM}`, PASSWORD, {
      config: config({ [REALM]: [d.port], [OTHER]: [d.port] }, '  canonicalize = true'),
    });
    assert.equal(d.requests.length, 2);
    const second = decodeAsReq(d.requests[1] ?? new Uint8Array(0)).reqBody;
    assert.equal(second.realm, OTHER);
    assert.deepEqual(second.sname?.nameString, ['krbtgt', OTHER]);
    assert.equal(unparsePrincipal(creds.principal), `user@${OTHER}`);
    const tgt = creds.toCcache().credentials[0];
    assert.equal(tgt && unparsePrincipal(tgt.server), `krbtgt/${OTHER}@${OTHER}`);
  });

  it('an enterprise name: pre-authentication starts afresh in the realm referred to (its own salt)', async () => {
    const methodData = (salt: string) =>
      encodeMethodData([
        {
          padataType: PaDataType.ETYPE_INFO2,
          padataValue: encodeEtypeInfo2([{ etype: ETYPE, saltBytes: new TextEncoder().encode(salt) }]),
        },
        { padataType: PaDataType.ENC_TIMESTAMP, padataValue: new Uint8Array(0) },
      ]);
    const d = await startDouble((req) => {
      const as = decodeAsReq(req);
      const preauth = as.padata?.some((p) => p.padataType === PaDataType.ENC_TIMESTAMP) === true;
      const realm = as.reqBody.realm;
      if (!preauth) {
        return encodeKrbError({
          pvno: 5,
          msgType: MessageType.KRB_ERROR,
          stime: new Date(Math.floor(Date.now() / 1000) * 1000),
          susec: 0,
          errorCode: 25,
          realm,
          sname: tgsName(realm),
          eData: methodData(realm === REALM ? 'HOSTILE.TESTsomeone-else' : `${OTHER}user`),
        });
      }
      if (realm === REALM) return krbError(68, REALM, { crealm: OTHER, cname: as.reqBody.cname ?? user });
      return asRep(req, OTHER);
    });
    const creds = await Credentials.fromPassword(`user@corp.example@${REALM}`, PASSWORD, {
      config: config({ [REALM]: [d.port], [OTHER]: [d.port] }),
      enterprise: true,
    });
    assert.equal(d.requests.length, 4);
    const realms = d.requests.map((r) => decodeAsReq(r).reqBody.realm);
    assert.deepEqual(realms, [REALM, REALM, OTHER, OTHER]);
    assert.deepEqual(decodeAsReq(d.requests[2] ?? new Uint8Array(0)).reqBody.cname, {
      nameType: NameType.ENTERPRISE,
      nameString: ['user@corp.example'],
    });
    assert.equal(unparsePrincipal(creds.principal), `user@${OTHER}`);
  });

  it('without canonicalize the referral is not followed: KDC_ERR_WRONG_REALM', async () => {
    const d = await referring();
    await assert.rejects(
      Credentials.fromPassword(`user@${REALM}`, PASSWORD, {
        config: config({ [REALM]: [d.port], [OTHER]: [d.port] }),
      }),
      (e: unknown) => e instanceof KerberosError && e.code === 'KDC_ERR_WRONG_REALM',
    );
    assert.equal(d.requests.length, 1);
  });

  it('a referral loop (HOSTILE → OTHER → HOSTILE) ends in KDC_ERR_WRONG_REALM, bounded', async () => {
    const d = await startDouble((req) => {
      const body = decodeAsReq(req).reqBody;
      return krbError(68, body.realm, { crealm: body.realm === REALM ? OTHER : REALM, cname: user });
    });
    await assert.rejects(
      Credentials.fromPassword(`user@corp.example@${REALM}`, PASSWORD, {
        config: config({ [REALM]: [d.port], [OTHER]: [d.port] }),
        enterprise: true,
      }),
      (e: unknown) =>
        e instanceof KerberosError && e.code === 'KDC_ERR_WRONG_REALM' && /loop/.test(e.message),
    );
    assert.equal(d.requests.length, 2);
  });
});

// ---- hierarchical cross-realm path (MIT walk_rtree: through the common parent realm) ----

describe('hierarchical cross-realm path without [capaths]', () => {
  const A = 'A.HIER.TEST';
  const PARENT = 'HIER.TEST';
  const B = 'B.HIER.TEST';

  it('realmPath goes up to the common parent realm and down again', async () => {
    const { creds } = await withTgt(A, 'hier-path', config({ [A]: [1] }));
    assert.deepEqual(creds.realmPath(A, B), [PARENT, B]);
    assert.deepEqual(creds.realmPath('X.A.HIER.TEST', 'Y.B.HIER.TEST'), [A, PARENT, B, 'Y.B.HIER.TEST']);
    assert.deepEqual(creds.realmPath(PARENT, B), [B]);
    assert.deepEqual(creds.realmPath(B, PARENT), [PARENT]);
  });

  it('a service in a sibling realm is reached through the parent, whose KDC alone trusts both', async () => {
    let session: Key | undefined;
    // Trusts: A ↔ HIER ↔ B only (no direct A ↔ B), as in a DNS-style realm tree.
    const issues: Record<string, string> = {
      [`${A}>krbtgt/${PARENT}`]: PARENT,
      [`${PARENT}>krbtgt/${B}`]: B,
    };
    const d = await startDouble((req) => {
      const body = decodeTgsReq(req).reqBody;
      const asked = body.sname?.nameString.join('/') ?? '';
      const next = issues[`${body.realm}>${asked}`];
      if (next !== undefined) return tgsRep(req, session as Key, A, body.realm, tgsName(next));
      if (body.realm === B && asked === 'HTTP/svc.b.hier.test') {
        return tgsRep(req, session as Key, A, B, body.sname as PrincipalName);
      }
      return krbError(7, body.realm);
    });
    const cfg = config({ [A]: [d.port], [PARENT]: [d.port], [B]: [d.port] });
    const t = await withTgt(A, 'hier-sibling', cfg);
    session = t.session;
    const st = await t.creds.getServiceTicket(`HTTP/svc.b.hier.test@${B}`);
    assert.equal(unparsePrincipal(st.server), `HTTP/svc.b.hier.test@${B}`);
    assert.deepEqual(
      d.requests.map((r) => {
        const b = decodeTgsReq(r).reqBody;
        return `${b.sname?.nameString.join('/')}@${b.realm}`;
      }),
      // MIT's order: the farthest realm first (refused: no direct trust), then the parent.
      [`krbtgt/${B}@${A}`, `krbtgt/${PARENT}@${A}`, `krbtgt/${B}@${PARENT}`, `HTTP/svc.b.hier.test@${B}`],
    );
  });

  it('a direct trust between realms whose common parent is no realm is used, not walked around', async () => {
    // FOO.TEST and BAR.TEST share only "TEST", which is no realm: MIT asks krbtgt/BAR.TEST@FOO.TEST first.
    let session: Key | undefined;
    const d = await startDouble((req) => {
      const body = decodeTgsReq(req).reqBody;
      const asked = body.sname?.nameString.join('/') ?? '';
      if (body.realm === 'FOO.TEST' && asked === 'krbtgt/BAR.TEST') {
        return tgsRep(req, session as Key, 'FOO.TEST', 'FOO.TEST', tgsName('BAR.TEST'));
      }
      if (body.realm === 'BAR.TEST' && asked === 'HTTP/svc.bar.test') {
        return tgsRep(req, session as Key, 'FOO.TEST', 'BAR.TEST', body.sname as PrincipalName);
      }
      return krbError(7, body.realm);
    });
    const t = await withTgt(
      'FOO.TEST',
      'direct-trust',
      config({ 'FOO.TEST': [d.port], 'BAR.TEST': [d.port] }),
    );
    session = t.session;
    const st = await t.creds.getServiceTicket('HTTP/svc.bar.test@BAR.TEST');
    assert.equal(unparsePrincipal(st.server), 'HTTP/svc.bar.test@BAR.TEST');
    assert.equal(d.requests.length, 2);
  });

  it('a KDC answering with a TGT for a nearer realm of the path (MIT alternate TGT) is followed', async () => {
    let session: Key | undefined;
    const d = await startDouble((req) => {
      const body = decodeTgsReq(req).reqBody;
      const asked = body.sname?.nameString.join('/') ?? '';
      // A's KDC, asked for krbtgt/B, hands out the TGT it has: krbtgt/HIER.TEST@A.
      if (body.realm === A && asked.startsWith('krbtgt/'))
        return tgsRep(req, session as Key, A, A, tgsName(PARENT));
      if (body.realm === PARENT && asked === `krbtgt/${B}`)
        return tgsRep(req, session as Key, A, PARENT, tgsName(B));
      if (body.realm === B && asked === 'HTTP/svc.b.hier.test') {
        return tgsRep(req, session as Key, A, B, body.sname as PrincipalName);
      }
      return krbError(7, body.realm);
    });
    const t = await withTgt(A, 'alternate', config({ [A]: [d.port], [PARENT]: [d.port], [B]: [d.port] }));
    session = t.session;
    const st = await t.creds.getServiceTicket(`HTTP/svc.b.hier.test@${B}`);
    assert.equal(unparsePrincipal(st.server), `HTTP/svc.b.hier.test@${B}`);
    assert.equal(d.requests.length, 3);
  });

  it("an off-path TGT (the KDC's own [capaths]: A → HUB → B) is followed, as MIT's client does", async () => {
    let session: Key | undefined;
    const HUB = 'HUB.OTHER.TEST';
    const d = await startDouble((req) => {
      const body = decodeTgsReq(req).reqBody;
      const asked = body.sname?.nameString.join('/') ?? '';
      // A's KDC routes every foreign realm through HUB, a realm our hierarchy never names.
      if (body.realm === A && asked.startsWith('krbtgt/'))
        return tgsRep(req, session as Key, A, A, tgsName(HUB));
      if (body.realm === HUB && asked === `krbtgt/${B}`)
        return tgsRep(req, session as Key, A, HUB, tgsName(B));
      if (body.realm === B && asked === 'HTTP/svc.b.hier.test')
        return tgsRep(req, session as Key, A, B, body.sname as PrincipalName);
      return krbError(7, body.realm);
    });
    const t = await withTgt(
      A,
      'off-path',
      config({ [A]: [d.port], [PARENT]: [d.port], [B]: [d.port], [HUB]: [d.port] }),
    );
    session = t.session;
    const st = await t.creds.getServiceTicket(`HTTP/svc.b.hier.test@${B}`);
    assert.equal(unparsePrincipal(st.server), `HTTP/svc.b.hier.test@${B}`);
    assert.deepEqual(
      d.requests.map((r) => {
        const b = decodeTgsReq(r).reqBody;
        return `${b.sname?.nameString.join('/')}@${b.realm}`;
      }),
      [`krbtgt/${B}@${A}`, `krbtgt/${B}@${HUB}`, `HTTP/svc.b.hier.test@${B}`],
    );
    // Both TGTs are kept, as MIT stores what it obtained.
    const servers = t.creds.toCcache().credentials.map((c) => unparsePrincipal(c.server));
    assert.ok(
      servers.includes(`krbtgt/${HUB}@${A}`) || servers.includes(`krbtgt/${B}@${HUB}`),
      servers.join(),
    );
  });

  it('an off-path chase that loops back to a realm seen is refused (KDC_ERR_PATH_NOT_ACCEPTED)', async () => {
    let session: Key | undefined;
    const d = await startDouble((req) => {
      const body = decodeTgsReq(req).reqBody;
      const other = body.realm === 'EVIL.TEST' ? 'EVIL2.TEST' : 'EVIL.TEST';
      return tgsRep(req, session as Key, A, body.realm, tgsName(other));
    });
    const t = await withTgt(
      A,
      'off-path-loop',
      config({
        [A]: [d.port],
        [PARENT]: [d.port],
        [B]: [d.port],
        'EVIL.TEST': [d.port],
        'EVIL2.TEST': [d.port],
      }),
    );
    session = t.session;
    await assert.rejects(
      t.creds.getServiceTicket(`HTTP/svc.b.hier.test@${B}`),
      (e: unknown) => e instanceof KerberosError && e.code === 'KDC_ERR_PATH_NOT_ACCEPTED',
    );
    assert.equal(d.requests.length, 3); // A → EVIL → EVIL2 → EVIL again: stop
  });

  it('an endless off-path chase stops after 10 hops (MIT KRB5_REFERRAL_MAXHOPS)', async () => {
    let session: Key | undefined;
    const realms: Record<string, number[]> = {};
    let n = 0;
    const d = await startDouble((req) => {
      const body = decodeTgsReq(req).reqBody;
      return tgsRep(req, session as Key, A, body.realm, tgsName(`R${++n}.TEST`));
    });
    for (let i = 1; i <= 20; i++) realms[`R${i}.TEST`] = [d.port];
    const t = await withTgt(
      A,
      'off-path-bound',
      config({ [A]: [d.port], [PARENT]: [d.port], [B]: [d.port], ...realms }),
    );
    session = t.session;
    await assert.rejects(
      t.creds.getServiceTicket(`HTTP/svc.b.hier.test@${B}`),
      (e: unknown) => e instanceof KerberosError && e.code === 'KDC_ERR_PATH_NOT_ACCEPTED',
    );
    assert.equal(d.requests.length, 11);
  });

  it('a cross-realm answer that is not a TGT issued by the KDC asked is refused (KRB_AP_ERR_MODIFIED)', async () => {
    let session: Key | undefined;
    const d = await startDouble((req) => tgsRep(req, session as Key, A, 'EVIL.TEST', tgsName('EVIL.TEST')));
    const t = await withTgt(
      A,
      'off-path-issuer',
      config({ [A]: [d.port], [PARENT]: [d.port], [B]: [d.port] }),
    );
    session = t.session;
    await assert.rejects(
      t.creds.getServiceTicket(`HTTP/svc.b.hier.test@${B}`),
      (e: unknown) => e instanceof KerberosError && e.code === 'KRB_AP_ERR_MODIFIED',
    );
    assert.equal(d.requests.length, 1);
  });
});

// ---- service-ticket cache keyed by client: kinit as someone else while a TGS-REQ is in flight ----

describe('service tickets across a ccache replaced by another principal', () => {
  it('a request made after kinit as bob never gets the ticket alice’s in-flight request obtains', async () => {
    const SPN = 'HTTP/localhost';
    const pw = 'pw-kdc-client';
    const kdc = await MiniKdc.start({
      principals: [{ name: 'alice', password: pw }, { name: 'bob', password: pw }, SPN],
    });
    const dir = mkdtempSync(join(tmpdir(), 'spnego-kdc-client-'));
    try {
      const path = join(dir, 'cc');
      const cfg = kdc.clientConfig();
      await (await Credentials.fromPassword('alice', pw, { config: cfg })).save(`FILE:${path}`);
      const creds = await Credentials.fromCcache(`FILE:${path}`, {
        config: cfg,
        ccacheCheckIntervalMs: 0,
        writeBack: false,
      });
      kdc.faults.delayMs = 400;
      const before = kdc.count('TGS-REQ');
      const first = creds.getServiceTicket(SPN);
      // Wait until alice's TGS-REQ has reached the KDC (its answer is held back).
      for (let i = 0; i < 200 && kdc.count('TGS-REQ') === before; i++)
        await new Promise((r) => setTimeout(r, 5));
      assert.equal(kdc.count('TGS-REQ'), before + 1);
      kdc.faults.delayMs = 0;
      await (await Credentials.fromPassword('bob', pw, { config: cfg })).save(`FILE:${path}`); // kinit bob
      const second = await creds.getServiceTicket(SPN);
      assert.equal(unparsePrincipal(second.client), `bob@${kdc.realm}`);
      assert.equal(unparsePrincipal((await first).client), `alice@${kdc.realm}`);
      // And once alice's answer is in, bob still gets his own ticket, not hers from memory.
      const third = await creds.getServiceTicket(SPN);
      assert.equal(unparsePrincipal(third.client), `bob@${kdc.realm}`);
      assert.ok(
        !creds.toCcache().credentials.some((c) => unparsePrincipal(c.client) === `alice@${kdc.realm}`),
      );
    } finally {
      kdc.faults.delayMs = 0;
      await kdc.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
