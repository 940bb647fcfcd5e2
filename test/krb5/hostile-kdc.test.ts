// Hostile KDC doubles: small node:net servers speaking RFC 4120 §7.2.2 framing, built with our
// own asn1 + crypto so their replies look valid except for the one thing each gets wrong.
// Credentials (and so runAsExchange / the TGS path) is driven through the real transport with a
// krb5.conf pointing at them. Every case must end in a typed error, promptly, without a large
// allocation.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  decodeApReq,
  decodeAsReq,
  decodeAuthenticator,
  decodeTgsReq,
  type EncKdcRepPart,
  encodeAsRep,
  encodeEncAsRepPart,
  encodeEncTgsRepPart,
  encodeKrbError,
  encodeTgsRep,
  MessageType,
} from '../../src/asn1/index.js';
import { NameType, type PrincipalName } from '../../src/asn1/types.js';
import { readCcache } from '../../src/ccache/ccache.js';
import { writeKeytab } from '../../src/ccache/keytab.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { openCcache } from '../../src/ccache/store.js';
import { kinitCommand } from '../../src/cli/kinit.js';
import { decrypt, encrypt, generateRandomKey, type Key, stringToKeySync } from '../../src/crypto/index.js';
import { CredentialsError, KdcUnreachableError, KerberosError, SpnegoError } from '../../src/errors.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { KdcOption } from '../../src/krb5/kdc-reply.js';
import { doubleConfig, fakeTicket, kdcDoubles, tgsName, withFakeTgt } from './kdc-double.js';

const REALM = 'HOSTILE.TEST';
const PASSWORD = 'hostile-pw';
const ETYPE = 18;
const userKey = stringToKeySync(ETYPE, PASSWORD, `${REALM}user`);

const startDouble = kdcDoubles();

const config = (ports: number[], extra = '') =>
  doubleConfig({ [REALM]: ports, 'OTHER.TEST': ports, 'THIRD.TEST': ports }, { extra });

interface Tweak {
  nonce?: (n: number) => number;
  srealm?: string;
  sname?: PrincipalName;
  corruptMac?: boolean;
  /** The session key handed out (default: a fresh one). */
  session?: Key;
  /** The KDC's clock minus ours, in ms. */
  clockMs?: number;
}

/** A plausible AS-REP to `req`, encrypted in the user's key, with one thing changed by `tweak`. */
function asRep(reqBytes: Uint8Array, tweak: Tweak = {}): Uint8Array {
  const req = decodeAsReq(reqBytes).reqBody;
  const now = new Date(Math.floor((Date.now() + (tweak.clockMs ?? 0)) / 1000) * 1000);
  const srealm = tweak.srealm ?? REALM;
  const sname = tweak.sname ?? tgsName(REALM);
  const session = tweak.session ?? generateRandomKey(ETYPE);
  const enc: EncKdcRepPart = {
    key: { keytype: session.enctype, keyvalue: session.bytes },
    lastReq: [],
    nonce: (tweak.nonce ?? ((n) => n))(req.nonce),
    flags: 0,
    authtime: now,
    endtime: new Date(now.getTime() + 3600_000),
    srealm,
    sname,
  };
  const cipher = encrypt(userKey, 3, encodeEncAsRepPart(enc));
  if (tweak.corruptMac) cipher[cipher.length - 1] = (cipher[cipher.length - 1] ?? 0) ^ 1;
  return encodeAsRep({
    pvno: 5,
    msgType: MessageType.AS_REP,
    crealm: REALM,
    cname: req.cname ?? { nameType: 1, nameString: ['user'] },
    ticket: fakeTicket(srealm, sname),
    encPart: { etype: ETYPE, cipher },
  });
}

/** A TGS-REP in the TGT session key (usage 8) for server `srealm`/`sname`. */
function tgsRep(
  reqBytes: Uint8Array,
  tgtSession: Key,
  srealm: string,
  sname: PrincipalName,
  tweak: Tweak = {},
): Uint8Array {
  const req = decodeTgsReq(reqBytes).reqBody;
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const session = tweak.session ?? generateRandomKey(ETYPE);
  const enc: EncKdcRepPart = {
    key: { keytype: session.enctype, keyvalue: session.bytes },
    lastReq: [],
    nonce: (tweak.nonce ?? ((n) => n))(req.nonce),
    flags: 0,
    authtime: now,
    endtime: new Date(now.getTime() + 3600_000),
    srealm,
    sname,
  };
  const cipher = encrypt(tgtSession, 8, encodeEncTgsRepPart(enc));
  if (tweak.corruptMac) cipher[cipher.length - 1] = (cipher[cipher.length - 1] ?? 0) ^ 1;
  return encodeTgsRep({
    pvno: 5,
    msgType: MessageType.TGS_REP,
    crealm: REALM,
    cname: { nameType: 1, nameString: ['user'] },
    ticket: fakeTicket(srealm, sname),
    encPart: { etype: ETYPE, cipher },
  });
}

function password(ports: number[]): Promise<Credentials> {
  return Credentials.fromPassword(`user@${REALM}`, PASSWORD, { config: config(ports) });
}

/** Credentials holding a TGT whose session key the double knows, for TGS cases. */
const withTgt = (ports: number[], name: string) => withFakeTgt(REALM, name, config(ports));

function isCode(cls: abstract new (...args: never[]) => SpnegoError, code: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.equal((e as SpnegoError).code, code, (e as Error).message);
    return true;
  };
}

describe('hostile KDC doubles', () => {
  it('a well-behaved double is accepted (the doubles themselves are sound)', async () => {
    const d = await startDouble((req) => ({ reply: asRep(req) }));
    const creds = await password([d.port]);
    assert.equal(creds.toCcache().credentials.length, 1);
  });

  it('wrong nonce → KRB_AP_ERR_MODIFIED', async () => {
    const d = await startDouble((req) => ({ reply: asRep(req, { nonce: (n) => (n + 1) & 0x7fffffff }) }));
    await assert.rejects(password([d.port]), isCode(KerberosError, 'KRB_AP_ERR_MODIFIED'));
  });

  it('wrong server name in the AS-REP → KRB_AP_ERR_MODIFIED', async () => {
    const d = await startDouble((req) => ({ reply: asRep(req, { sname: tgsName('EVIL.TEST') }) }));
    await assert.rejects(password([d.port]), isCode(KerberosError, 'KRB_AP_ERR_MODIFIED'));
  });

  it('wrong server name in the TGS-REP → KRB_AP_ERR_MODIFIED', async () => {
    let session: Key | undefined;
    const d = await startDouble((req) => ({
      reply: tgsRep(req, session as Key, REALM, {
        nameType: NameType.SRV_HST,
        nameString: ['HTTP', 'other.test'],
      }),
    }));
    const t = await withTgt([d.port], 'wrong-sname');
    session = t.session;
    await assert.rejects(
      t.creds.getServiceTicket(`HTTP/asked.test@${REALM}`),
      isCode(KerberosError, 'KRB_AP_ERR_MODIFIED'),
    );
  });

  it('bad MAC on the AS-REP enc-part → KRB_AP_ERR_BAD_INTEGRITY; on the TGS-REP too', async () => {
    const d = await startDouble((req) => ({ reply: asRep(req, { corruptMac: true }) }));
    await assert.rejects(password([d.port]), isCode(KerberosError, 'KRB_AP_ERR_BAD_INTEGRITY'));
    let session: Key | undefined;
    const d2 = await startDouble((req) => ({
      reply: tgsRep(
        req,
        session as Key,
        REALM,
        { nameType: NameType.SRV_HST, nameString: ['HTTP', 'x.test'] },
        { corruptMac: true },
      ),
    }));
    const t = await withTgt([d2.port], 'bad-mac');
    session = t.session;
    await assert.rejects(
      t.creds.getServiceTicket(`HTTP/x.test@${REALM}`),
      isCode(KerberosError, 'KRB_AP_ERR_BAD_INTEGRITY'),
    );
  });

  it('a session key of an enctype the request did not offer → SESSION_ENCTYPE_NOT_REQUESTED (AS and TGS)', async () => {
    // Only aes256 (18) is offered; a reply handing out an rc4 (23) or aes128 (17) session key is a downgrade.
    const d = await startDouble((req) => ({ reply: asRep(req, { session: generateRandomKey(23) }) }));
    await assert.rejects(password([d.port]), isCode(CredentialsError, 'SESSION_ENCTYPE_NOT_REQUESTED'));
    let session: Key | undefined;
    const sname = { nameType: NameType.SRV_HST, nameString: ['HTTP', 'x.test'] };
    const d2 = await startDouble((req) => ({
      reply: tgsRep(req, session as Key, REALM, sname, { session: generateRandomKey(17) }),
    }));
    const t = await withTgt([d2.port], 'downgrade');
    session = t.session;
    await assert.rejects(
      t.creds.getServiceTicket(`HTTP/x.test@${REALM}`),
      isCode(CredentialsError, 'SESSION_ENCTYPE_NOT_REQUESTED'),
    );
    // The same double handing out the offered enctype is accepted: only the enctype made it fail.
    const d3 = await startDouble((req) => ({ reply: tgsRep(req, session as Key, REALM, sname) }));
    const t2 = await withTgt([d3.port], 'no-downgrade');
    session = t2.session;
    const st = await t2.creds.getServiceTicket(`HTTP/x.test@${REALM}`);
    assert.equal(st.sessionKey.enctype, ETYPE);
  });

  it('a TGT another client left in the same cache is not used on our behalf', async () => {
    let session: Key | undefined;
    const sname = { nameType: NameType.SRV_HST, nameString: ['HTTP', 'x.test'] };
    const d = await startDouble((req) => ({ reply: tgsRep(req, session as Key, REALM, sname) }));
    const t = await withTgt([d.port], 'other-client');
    session = t.session;
    // Re-own the cache: same TGT, but the cache (and so our principal) is now someone else's.
    const cc = t.creds.toCcache();
    cc.defaultPrincipal = { realm: REALM, name: { nameType: 1, nameString: ['mallory'] } };
    await (await openCcache('MEMORY:other-client-2')).write(cc);
    const other = await Credentials.fromCcache('MEMORY:other-client-2', { config: config([d.port]) });
    await assert.rejects(other.getServiceTicket(`HTTP/x.test@${REALM}`), (e: unknown) => {
      assert.ok(e instanceof CredentialsError, String(e));
      return true;
    });
    assert.equal(d.requests.length, 0, "no TGS-REQ was made with the other client's TGT");
    // The owner of that TGT still uses it.
    const st = await t.creds.getServiceTicket(`HTTP/x.test@${REALM}`);
    assert.equal(st.server.name.nameString.join('/'), 'HTTP/x.test');
    assert.equal(d.requests.length, 1);
  });

  it('a truncated frame (length 1000, 10 bytes, close) → KdcUnreachableError naming it', async () => {
    const d = await startDouble(() => ({
      raw: Uint8Array.of(0, 0, 3, 0xe8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
      end: true,
    }));
    await assert.rejects(password([d.port]), (e: unknown) => {
      assert.ok(e instanceof KdcUnreachableError);
      assert.match(e.message, /closed before the reply was complete/);
      return true;
    });
  });

  it('a 4 GiB length prefix (and a 2 GiB one) → KdcUnreachableError at once, no large allocation', async () => {
    for (const prefix of [Uint8Array.of(0xff, 0xff, 0xff, 0xff), Uint8Array.of(0x7f, 0xff, 0xff, 0xff)]) {
      // The double announces the size and then keeps the connection open, sending nothing.
      const d = await startDouble(() => ({ raw: prefix }));
      const before = process.memoryUsage().arrayBuffers;
      await assert.rejects(password([d.port]), (e: unknown) => {
        assert.ok(e instanceof KdcUnreachableError);
        assert.match(e.message, /reserved high bit|exceeds the \d+-byte limit/);
        return true;
      });
      assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024);
    }
  });

  it('a KDC that never answers: the next KDC is tried after kdc_timeout and answers', async () => {
    const silent = await startDouble(() => 'silent');
    const good = await startDouble((req) => ({ reply: asRep(req) }));
    const started = Date.now();
    const creds = await password([silent.port, good.port]);
    assert.equal(creds.toCcache().credentials.length, 1);
    assert.equal(silent.requests.length, 1);
    assert.equal(good.requests.length, 1);
    // Well inside request_timeout (60 s): the silent KDC cost one kdc_timeout (1 s), not the deadline.
    assert.ok(Date.now() - started < 30_000);
  });

  it('only silent KDCs → KdcUnreachableError listing each timeout', async () => {
    const s1 = await startDouble(() => 'silent');
    const s2 = await startDouble(() => 'silent');
    await assert.rejects(password([s1.port, s2.port]), (e: unknown) => {
      assert.ok(e instanceof KdcUnreachableError);
      assert.equal(e.message.match(/timed out/g)?.length, 2);
      return true;
    });
  });

  it('garbage bytes: framed junk is a typed decode error, unframed junk a KdcUnreachableError', async () => {
    const junk = Uint8Array.from({ length: 200 }, (_, i) => (i * 37 + 11) & 0xff);
    const d = await startDouble(() => ({ reply: junk }));
    await assert.rejects(password([d.port]), (e: unknown) => {
      assert.ok(e instanceof SpnegoError, String(e));
      return true;
    });
    const http = new TextEncoder().encode('HTTP/1.1 400 Bad Request\r\n\r\n');
    const d2 = await startDouble(() => ({ raw: http, end: true }));
    await assert.rejects(password([d2.port]), (e: unknown) => {
      assert.ok(e instanceof KdcUnreachableError);
      return true;
    });
  });

  it('a referral loop (HOSTILE → OTHER → THIRD → OTHER) → KDC_ERR_PATH_NOT_ACCEPTED, bounded', async () => {
    let session: Key | undefined;
    const hops: Record<string, string> = {
      [REALM]: 'OTHER.TEST',
      'OTHER.TEST': 'THIRD.TEST',
      'THIRD.TEST': 'OTHER.TEST',
    };
    const d = await startDouble((req) => {
      const realm = decodeTgsReq(req).reqBody.realm;
      const next = hops[realm] ?? REALM;
      // Every referral TGT carries the same session key, so one key opens every reply.
      return { reply: tgsRep(req, session as Key, realm, tgsName(next), { session: session as Key }) };
    });
    const t = await withTgt([d.port], 'loop');
    session = t.session;
    await assert.rejects(t.creds.getServiceTicket('HTTP/loop.host'), (e: unknown) => {
      assert.ok(e instanceof KerberosError);
      assert.equal(e.errorName, 'KDC_ERR_PATH_NOT_ACCEPTED');
      assert.match(e.message, /referral loop/);
      return true;
    });
    assert.equal(d.requests.length, 3);
  });

  it("a referral from a realm for someone else's krbtgt is refused", async () => {
    let session: Key | undefined;
    const d = await startDouble((req) => ({
      reply: tgsRep(req, session as Key, 'OTHER.TEST', tgsName('THIRD.TEST')),
    }));
    const t = await withTgt([d.port], 'foreign-referral');
    session = t.session;
    await assert.rejects(
      t.creds.getServiceTicket('HTTP/far.host'),
      isCode(KerberosError, 'KRB_AP_ERR_MODIFIED'),
    );
  });
  it('the KDC clock offset is recorded in the ccache header (kdc_timesync)', async () => {
    const d = await startDouble((req) => ({ reply: asRep(req, { clockMs: 3600_000 }) }));
    const creds = await password([d.port]);
    const off = creds.toCcache().header.kdcOffset?.seconds ?? 0;
    assert.ok(Math.abs(off - 3600) <= 2, `offset ${off}`);
  });

  it('KRB_AP_ERR_SKEW on a TGS-REQ: the offset follows the KDC clock and the request is retried once', async () => {
    let session: Key | undefined;
    const skewMs = 2 * 3600_000;
    const ctimes: number[] = [];
    const d = await startDouble((req) => {
      const tgs = decodeTgsReq(req);
      const ap = decodeApReq(tgs.padata?.[0]?.padataValue ?? new Uint8Array(0));
      ctimes.push(decodeAuthenticator(decrypt(session as Key, 7, ap.authenticator.cipher)).ctime.getTime());
      if (ctimes.length === 1) {
        const kdcNow = Date.now() + skewMs;
        return {
          reply: encodeKrbError({
            pvno: 5,
            msgType: MessageType.KRB_ERROR,
            stime: new Date(Math.floor(kdcNow / 1000) * 1000),
            susec: 0,
            errorCode: 37,
            realm: REALM,
            sname: tgsName(REALM),
          }),
        };
      }
      return {
        reply: tgsRep(req, session as Key, REALM, {
          nameType: NameType.SRV_HST,
          nameString: ['HTTP', 'skew.test'],
        }),
      };
    });
    const t = await withTgt([d.port], 'skew');
    session = t.session;
    const ticket = await t.creds.getServiceTicket(`HTTP/skew.test@${REALM}`);
    assert.equal(ticket.server.name.nameString[1], 'skew.test');
    assert.equal(ctimes.length, 2);
    const shift = (ctimes[1] ?? 0) - (ctimes[0] ?? 0);
    assert.ok(Math.abs(shift - skewMs) < 5000, `authenticator moved by ${shift} ms`);
    assert.ok(Math.abs((t.creds.toCcache().header.kdcOffset?.seconds ?? 0) - skewMs / 1000) <= 5);
  });

  it('a KDC that keeps answering KRB_AP_ERR_SKEW is retried once only, then a typed error', async () => {
    const d = await startDouble(() => ({
      reply: encodeKrbError({
        pvno: 5,
        msgType: MessageType.KRB_ERROR,
        stime: new Date(Math.floor(Date.now() / 1000) * 1000 + 7200_000),
        susec: 0,
        errorCode: 37,
        realm: REALM,
        sname: tgsName(REALM),
      }),
    }));
    const t = await withTgt([d.port], 'skew-forever');
    await assert.rejects(
      t.creds.getServiceTicket(`HTTP/x.test@${REALM}`),
      isCode(KerberosError, 'KRB_AP_ERR_SKEW'),
    );
    assert.equal(d.requests.length, 2);
  });
});

describe('spnego kinit against a KDC double (argv + io, no process)', () => {
  const capture = () => {
    const out = { stdout: '', stderr: '' };
    return {
      out,
      io: (ports: number[], password = PASSWORD, env: Record<string, string> = {}) => ({
        stdout: (t: string) => {
          out.stdout += t;
        },
        stderr: (t: string) => {
          out.stderr += t;
        },
        env: (n: string) => env[n],
        config: config(ports),
        readPassword: async () => password,
      }),
    };
  };
  const dir = mkdtempSync(join(tmpdir(), 'kinit-double-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('password kinit writes the ccache atomically with the TGT, -l/-r/-f in the AS-REQ', async () => {
    const d = await startDouble((req) => ({ reply: asRep(req) }));
    const c = capture();
    const path = join(dir, 'pw.ccache');
    assert.equal(
      await kinitCommand(['-l', '30m', '-r', '2h', '-f', '-c', `FILE:${path}`, 'user'], c.io([d.port])),
      0,
      c.out.stderr,
    );
    const cc = await readCcache(path);
    assert.equal(unparsePrincipal(cc.defaultPrincipal), `user@${REALM}`);
    assert.equal(
      unparsePrincipal(cc.credentials[0]?.server ?? cc.defaultPrincipal),
      `krbtgt/${REALM}@${REALM}`,
    );
    const body = decodeAsReq(d.requests[0] ?? new Uint8Array(0)).reqBody;
    const from = Date.now() / 1000;
    assert.ok(Math.abs(body.till.getTime() / 1000 - from - 1800) < 10);
    assert.ok(Math.abs((body.rtime?.getTime() ?? 0) / 1000 - from - 7200) < 10);
    assert.ok(
      (body.kdcOptions & KdcOption.FORWARDABLE) !== 0 && (body.kdcOptions & KdcOption.RENEWABLE) !== 0,
    );
  });

  it('no PRINCIPAL: the existing cache principal is reused', async () => {
    const d = await startDouble((req) => ({ reply: asRep(req) }));
    const c = capture();
    const path = join(dir, 'pw.ccache');
    assert.equal(await kinitCommand(['-c', `FILE:${path}`], c.io([d.port])), 0, c.out.stderr);
    assert.deepEqual(decodeAsReq(d.requests[0] ?? new Uint8Array(0)).reqBody.cname?.nameString, ['user']);
  });

  it('-k -t KEYTAB uses the keytab key', async () => {
    const d = await startDouble((req) => ({ reply: asRep(req) }));
    const kt = join(dir, 'user.keytab');
    await writeKeytab(kt, [
      {
        principal: { realm: REALM, name: { nameType: 1, nameString: ['user'] } },
        timestamp: 0,
        kvno: 1,
        key: { keytype: ETYPE, keyvalue: userKey.bytes },
      },
    ]);
    const c = capture();
    const path = join(dir, 'kt.ccache');
    assert.equal(
      await kinitCommand(['-k', '-t', kt, '-c', `FILE:${path}`, `user@${REALM}`], c.io([d.port], 'not-used')),
      0,
      c.out.stderr,
    );
    assert.equal((await readCcache(path)).credentials.length, 1);
  });

  it('-E sends an NT-ENTERPRISE name with canonicalize', async () => {
    const d = await startDouble((req) => ({ reply: asRep(req) }));
    const c = capture();
    await kinitCommand(
      ['-E', '-c', `FILE:${join(dir, 'ent.ccache')}`, `user@corp.example@${REALM}`],
      c.io([d.port]),
    );
    const body = decodeAsReq(d.requests[0] ?? new Uint8Array(0)).reqBody;
    assert.deepEqual(body.cname, { nameType: NameType.ENTERPRISE, nameString: ['user@corp.example'] });
    assert.equal(body.realm, REALM);
    assert.ok((body.kdcOptions & KdcOption.CANONICALIZE) !== 0);
  });

  it('a KDC refusal prints "spnego kinit: <message>" and the hint, exit 1; bad options exit 2', async () => {
    const d = await startDouble(() => ({
      reply: encodeKrbError({
        pvno: 5,
        msgType: MessageType.KRB_ERROR,
        stime: new Date(Math.floor(Date.now() / 1000) * 1000),
        susec: 0,
        errorCode: 24,
        realm: REALM,
        sname: tgsName(REALM),
      }),
    }));
    const c = capture();
    assert.equal(await kinitCommand(['-c', `FILE:${join(dir, 'x')}`, 'user'], c.io([d.port])), 1);
    assert.match(c.out.stderr, /^spnego kinit: .*KDC_ERR_PREAUTH_FAILED.*\nhint: password incorrect/);
    const c2 = capture();
    assert.equal(await kinitCommand(['-Z'], c2.io([d.port])), 2);
    assert.equal(await kinitCommand(['-l', 'soon', 'user'], c2.io([d.port])), 2);
    assert.match(c2.out.stderr, /bad lifetime value 'soon'/);
  });
});
