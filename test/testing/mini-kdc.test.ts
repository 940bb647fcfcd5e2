// Our client (Credentials: AS, TGS, referral-free paths) against MiniKdc on real loopback
// sockets: every enctype, keytabs, each refusal as its typed error, the fault switches, single-
// flight TGS, forwarded TGTs and renewal. These are also the hermetic tests of src/krb5's client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  decodeApReq,
  decodeAuthenticator,
  decodeEncKdcRepPart,
  decodeEncTicketPart,
  decodeEtypeInfo2,
  decodeKerberosMessage,
  decodeMethodData,
  decodeTgsReq,
  decodeTicket,
  encodeApReq,
  encodeAsReq,
  encodeAuthenticator,
  encodeEncryptedData,
  encodeTgsReq,
  type KrbError,
  PaDataType,
} from '../../src/asn1/index.js';
import { TicketFlag } from '../../src/ccache/flags.js';
import { parseKeytab } from '../../src/ccache/keytab.js';
import { parsePrincipal, unparsePrincipal } from '../../src/ccache/principal-text.js';
import { decrypt, encrypt, type Key, makeKey, stringToKeySync } from '../../src/crypto/index.js';
import { KdcUnreachableError, KerberosError } from '../../src/errors.js';
import { buildAsReq, encTimestamp } from '../../src/krb5/as.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { KdcOption } from '../../src/krb5/kdc-reply.js';
import { buildTgsReq, type TgtCredential } from '../../src/krb5/tgs.js';
import { MiniKdc } from '../../src/testing/index.js';

const PASSWORD = 'correct horse battery staple';
const SPN = 'HTTP/localhost';

/** Opens a service ticket with the service's keytab key, as an acceptor would. */
function openWithKeytab(
  kdc: MiniKdc,
  spn: string,
  ticket: { encPart: { etype: number; cipher: Uint8Array } },
) {
  const entry = parseKeytab(kdc.keytabFor(spn)).entries.find((e) => e.key.keytype === ticket.encPart.etype);
  assert.ok(entry, `keytab has a key of enctype ${ticket.encPart.etype}`);
  return decodeEncTicketPart(
    decrypt(makeKey(entry.key.keytype, entry.key.keyvalue), 2, ticket.encPart.cipher),
  );
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail('expected a rejection');
}

for (const enctype of [17, 18, 19, 20, 23]) {
  describe(`MiniKdc with only enctype ${enctype}`, () => {
    let kdc: MiniKdc;
    before(async () => {
      kdc = await MiniKdc.start({
        enctypes: [enctype],
        principals: [{ name: 'alice', password: PASSWORD }, SPN],
      });
    });
    after(() => kdc.stop());

    it('fromPassword + getServiceTicket give a ticket the service key opens', async () => {
      const creds = await Credentials.fromPassword('alice', PASSWORD, { config: kdc.clientConfig() });
      assert.equal(unparsePrincipal(creds.principal), 'alice@EXAMPLE.TEST');
      const st = await creds.getServiceTicket(SPN);
      assert.equal(unparsePrincipal(st.server), 'HTTP/localhost@EXAMPLE.TEST');
      assert.equal(st.ticket.encPart.etype, enctype);
      assert.equal(st.sessionKey.enctype, enctype);
      const part = openWithKeytab(kdc, SPN, st.ticket);
      assert.deepEqual(part.cname.nameString, ['alice']);
      assert.deepEqual(part.key.keyvalue, st.sessionKey.bytes);
      assert.ok((part.flags & TicketFlag.PRE_AUTHENT) !== 0);
      // PREAUTH_REQUIRED, then the AS-REP; then one TGS-REQ.
      assert.deepEqual(
        kdc.requests.map((r) => [r.type, r.errorName ?? 'OK']),
        [
          ['AS-REQ', 'KDC_ERR_PREAUTH_REQUIRED'],
          ['AS-REQ', 'OK'],
          ['TGS-REQ', 'OK'],
        ],
      );
    });
  });
}

describe('MiniKdc with the default realm and enctypes', () => {
  let kdc: MiniKdc;
  before(async () => {
    kdc = await MiniKdc.start({
      principals: [
        { name: 'alice', password: PASSWORD },
        // A salt no client could guess: only PA-ETYPE-INFO2 tells it.
        { name: 'bob', password: PASSWORD, salt: 'RENAMED.TESTrobert' },
        'svc-client',
        SPN,
        { name: 'HTTP/delegate.localhost', okAsDelegate: true },
      ],
    });
  });
  after(() => kdc.stop());
  const config = () => kdc.clientConfig();

  it('uses the salt from PA-ETYPE-INFO2, not the default one', async () => {
    const creds = await Credentials.fromPassword('bob', PASSWORD, { config: config() });
    const st = await creds.getServiceTicket(SPN);
    assert.deepEqual(openWithKeytab(kdc, SPN, st.ticket).cname.nameString, ['bob']);
  });

  it('fromKeytab with keytabFor()', async () => {
    const kt = parseKeytab(kdc.keytabFor('svc-client'));
    assert.deepEqual(
      kt.entries.map((e) => e.key.keytype),
      [18, 17, 20, 19, 23],
    );
    const creds = await Credentials.fromKeytab('svc-client', kt, { config: config() });
    const st = await creds.getServiceTicket('HTTP@localhost');
    assert.equal(unparsePrincipal(st.client), 'svc-client@EXAMPLE.TEST');
    assert.equal(st.ticket.encPart.etype, 18);
  });

  it('wrong password → KDC_ERR_PREAUTH_FAILED', async () => {
    const e = await rejection(Credentials.fromPassword('alice', 'wrong', { config: config() }));
    assert.ok(e instanceof KerberosError, String(e));
    assert.equal(e.code, 'KDC_ERR_PREAUTH_FAILED');
    assert.equal(e.errorCode, 24);
  });

  it('unknown user → KDC_ERR_C_PRINCIPAL_UNKNOWN', async () => {
    const e = await rejection(Credentials.fromPassword('nobody', PASSWORD, { config: config() }));
    assert.ok(e instanceof KerberosError, String(e));
    assert.equal(e.code, 'KDC_ERR_C_PRINCIPAL_UNKNOWN');
  });

  it('unknown service → KDC_ERR_S_PRINCIPAL_UNKNOWN', async () => {
    const creds = await Credentials.fromPassword('alice', PASSWORD, { config: config() });
    const e = await rejection(creds.getServiceTicket('HTTP/nowhere.localhost'));
    assert.ok(e instanceof KerberosError, String(e));
    assert.equal(e.code, 'KDC_ERR_S_PRINCIPAL_UNKNOWN');
  });

  it('the unknown-principal fault hides a principal until it is lifted', async () => {
    const creds = await Credentials.fromPassword('alice', PASSWORD, { config: config() });
    kdc.faults.unknownPrincipals.add('HTTP/localhost@EXAMPLE.TEST');
    try {
      const e = await rejection(creds.getServiceTicket(SPN));
      assert.ok(e instanceof KerberosError);
      assert.equal(e.code, 'KDC_ERR_S_PRINCIPAL_UNKNOWN');
    } finally {
      kdc.faults.unknownPrincipals.clear();
    }
    assert.equal(unparsePrincipal((await creds.getServiceTicket(SPN)).server), 'HTTP/localhost@EXAMPLE.TEST');
  });

  it('a KDC clock 1 h ahead: the client resyncs on KRB_AP_ERR_SKEW in the AS exchange', async () => {
    kdc.clearRequests();
    kdc.faults.clockSkewSeconds = 3600;
    try {
      const creds = await Credentials.fromPassword('alice', PASSWORD, { config: config() });
      assert.equal(kdc.requests.filter((r) => r.errorName === 'KRB_AP_ERR_SKEW').length, 1);
      assert.ok(Math.abs(creds.kdcNow() - (Date.now() + 3600_000)) < 5000, 'client adopted the KDC clock');
      const st = await creds.getServiceTicket(SPN);
      assert.ok(st.startTime.getTime() > Date.now() + 3000_000, 'ticket times are in KDC time');
      assert.equal(kdc.count('TGS-REQ'), 1, 'no skew left for the TGS exchange');
    } finally {
      kdc.faults.clockSkewSeconds = 0;
    }
  });

  it('the KDC clock moves 30 min ahead after the TGT: the TGS exchange resyncs once', async () => {
    const creds = await Credentials.fromPassword('alice', PASSWORD, { config: config() });
    kdc.clearRequests();
    kdc.faults.clockSkewSeconds = 1800;
    try {
      await creds.getServiceTicket(SPN);
      assert.deepEqual(
        kdc.requests.map((r) => `${r.type} ${r.errorName ?? 'OK'}`),
        ['TGS-REQ KRB_AP_ERR_SKEW', 'TGS-REQ OK'],
      );
    } finally {
      kdc.faults.clockSkewSeconds = 0;
    }
  });

  it('1,000 concurrent getServiceTicket calls → exactly one TGS-REQ', async () => {
    const creds = await Credentials.fromPassword('alice', PASSWORD, { config: config() });
    kdc.clearRequests();
    const tickets = await Promise.all(Array.from({ length: 1000 }, () => creds.getServiceTicket(SPN)));
    assert.equal(kdc.count('TGS-REQ'), 1);
    assert.equal(new Set(tickets.map((t) => t.ticketBytes)).size, 1);
  });

  it('slow replies still arrive (delay fault)', async () => {
    kdc.faults.delayMs = 100;
    try {
      const creds = await Credentials.fromPassword('alice', PASSWORD, { config: config() });
      assert.equal(
        unparsePrincipal((await creds.getServiceTicket(SPN)).server),
        'HTTP/localhost@EXAMPLE.TEST',
      );
    } finally {
      kdc.faults.delayMs = 0;
    }
  });

  it('KDC refusing connections → KdcUnreachableError', async () => {
    kdc.faults.down = 'refuse';
    try {
      const e = await rejection(Credentials.fromPassword('alice', PASSWORD, { config: config() }));
      assert.ok(e instanceof KdcUnreachableError, String(e));
      assert.match(e.message, /EXAMPLE\.TEST/);
    } finally {
      kdc.faults.down = false;
    }
  });

  it('KDC reading requests but never answering → KdcUnreachableError after kdc_timeout', async () => {
    kdc.faults.down = 'silent';
    const seen = kdc.requests.length;
    try {
      const cfg = kdc.clientConfig({ libdefaults: { kdc_timeout: '1' } });
      const e = await rejection(Credentials.fromPassword('alice', PASSWORD, { config: cfg }));
      assert.ok(e instanceof KdcUnreachableError, String(e));
      assert.match(e.message, /timed out/);
      assert.equal(kdc.requests.length, seen, 'a down KDC serves (and records) nothing');
    } finally {
      kdc.faults.down = false;
    }
  });

  it('forwarded TGT: FORWARDED + FORWARDABLE krbtgt, addresses cleared', async () => {
    const creds = await Credentials.fromPassword('alice', PASSWORD, { config: config() });
    kdc.clearRequests();
    const fwd = await creds.getForwardedTgt();
    assert.equal(unparsePrincipal(fwd.server), 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST');
    assert.ok((fwd.flags & TicketFlag.FORWARDED) !== 0);
    assert.ok((fwd.flags & TicketFlag.FORWARDABLE) !== 0);
    const [req] = kdc.requests;
    assert.ok(req && (req.kdcOptions & KdcOption.FORWARDED) !== 0);
    // A service ticket got with the forwarded TGT carries FORWARDED too (RFC 4120 §2.6).
    const tgt = openWithKeytab(kdc, 'krbtgt/EXAMPLE.TEST', fwd.ticket);
    assert.ok((tgt.flags & TicketFlag.FORWARDED) !== 0);
  });

  it('no forwarding from a TGT that is not forwardable → KDC_ERR_BADOPTION', async () => {
    const creds = await Credentials.fromPassword('alice', PASSWORD, { config: config(), forwardable: false });
    const e = await rejection(creds.getForwardedTgt());
    assert.ok(e instanceof KerberosError);
    assert.equal(e.code, 'KDC_ERR_BADOPTION');
  });

  it('OK-AS-DELEGATE is set for a principal marked so', async () => {
    const creds = await Credentials.fromPassword('alice', PASSWORD, { config: config() });
    const st = await creds.getServiceTicket('HTTP/delegate.localhost');
    assert.ok((st.flags & TicketFlag.OK_AS_DELEGATE) !== 0);
    assert.equal((await creds.getServiceTicket(SPN)).flags & TicketFlag.OK_AS_DELEGATE, 0);
  });

  it('addPrincipal re-keys with kvno + 1 and keytabFor follows', async () => {
    const name = kdc.addPrincipal('HTTP/rotated.localhost');
    assert.equal(name, 'HTTP/rotated.localhost@EXAMPLE.TEST');
    kdc.addPrincipal('HTTP/rotated.localhost');
    const creds = await Credentials.fromPassword('alice', PASSWORD, { config: config() });
    const st = await creds.getServiceTicket('HTTP/rotated.localhost');
    assert.equal(st.ticket.encPart.kvno, 2);
    assert.ok(parseKeytab(kdc.keytabFor('HTTP/rotated.localhost')).entries.every((e) => e.kvno === 2));
    openWithKeytab(kdc, 'HTTP/rotated.localhost', st.ticket);
  });

  it('a TGS-REQ whose body was altered after signing → KRB_AP_ERR_MODIFIED', async () => {
    // Our client signs correctly; tamper with a recorded request and replay it over the wire.
    const creds = await Credentials.fromPassword('alice', PASSWORD, { config: config() });
    const captured: Uint8Array[] = [];
    const spy = await Credentials.fromPassword('alice', PASSWORD, {
      config: config(),
      transport: {
        send: async (_realm, req) => {
          captured.push(req);
          const { sendToKdcs } = await import('../../src/krb5/transport.js');
          return sendToKdcs('EXAMPLE.TEST', [{ host: '127.0.0.1', port: kdc.port, transport: 'tcp' }], req);
        },
      },
    });
    await spy.getServiceTicket(SPN);
    const tgsReq = captured.find((b) => b[0] === 0x6c);
    assert.ok(tgsReq && creds);
    const decoded = decodeTgsReq(tgsReq);
    assert.ok(decoded.rawReqBody);
    // Flip the nonce's last byte inside the raw req-body: the checksum no longer matches.
    const bad = tgsReq.slice();
    const bodyAt = indexOf(bad, decoded.rawReqBody);
    const nonceTag = indexOf(bad.subarray(bodyAt), Uint8Array.of(0xa7));
    const pos = bodyAt + nonceTag + 4;
    bad[pos] = (bad[pos] ?? 0) ^ 1;
    const { sendToKdcs } = await import('../../src/krb5/transport.js');
    const reply = await sendToKdcs(
      'EXAMPLE.TEST',
      [{ host: '127.0.0.1', port: kdc.port, transport: 'tcp' }],
      bad,
    );
    const { decodeKrbError } = await import('../../src/asn1/index.js');
    assert.equal(decodeKrbError(reply).errorCode, 41);
  });
});

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

describe('MiniKdc renewal', () => {
  let kdc: MiniKdc;
  before(async () => {
    kdc = await MiniKdc.start({
      lifetime: 3600,
      renewLifetime: 7200,
      principals: [{ name: 'alice', password: PASSWORD }, SPN],
    });
  });
  after(() => kdc.stop());

  it('a renewable TGT near its end is renewed with a RENEW TGS-REQ, not a new AS exchange', async () => {
    // The client's clock runs 3,400 s ahead after the TGT is issued: 200 s of TGT left by its
    // reckoning, so it renews (and resyncs its clock on the KDC's KRB_AP_ERR_SKEW on the way).
    let jump = 0;
    const creds = await Credentials.fromPassword('alice', PASSWORD, {
      config: kdc.clientConfig(),
      now: () => Date.now() + jump,
    });
    const [tgt] = creds.toCcache().credentials;
    assert.ok(tgt && (tgt.flags & TicketFlag.RENEWABLE) !== 0);
    assert.ok(tgt.renewTill - tgt.startTime > 7000);
    kdc.clearRequests();
    jump = 3400_000;
    await creds.getServiceTicket(SPN);
    assert.equal(kdc.count('AS-REQ'), 0);
    const renewals = kdc.requests.filter(
      (r) => (r.kdcOptions & KdcOption.RENEW) !== 0 && r.errorCode === undefined,
    );
    assert.equal(renewals.length, 1);
    assert.equal(renewals[0]?.server, 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST');
    const renewed = creds
      .toCcache()
      .credentials.find((c) => unparsePrincipal(c.server) === 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST');
    assert.ok(renewed && renewed !== tgt);
    assert.equal(renewed.renewTill, tgt.renewTill, 'renew-till is kept');
    assert.ok(renewed.startTime >= tgt.startTime);
    assert.deepEqual(renewed.key.keyvalue, tgt.key.keyvalue, 'renewal keeps the session key');
  });
});

describe('MiniKdc over UDP', () => {
  let kdc: MiniKdc;
  before(async () => {
    kdc = await MiniKdc.start({ udpMaxReply: 400, principals: [{ name: 'alice', password: PASSWORD }, SPN] });
  });
  after(() => kdc.stop());

  it('small replies over UDP, big ones → KRB_ERR_RESPONSE_TOO_BIG and the client retries over TCP', async () => {
    const creds = await Credentials.fromPassword('alice', PASSWORD, {
      config: kdc.clientConfig({ udp: true }),
    });
    await creds.getServiceTicket(SPN);
    const seen = kdc.requests.map((r) => `${r.transport} ${r.type} ${r.errorName ?? 'OK'}`);
    // The PREAUTH_REQUIRED error fits in 400 bytes; each real reply does not.
    assert.deepEqual(seen, [
      'udp AS-REQ KDC_ERR_PREAUTH_REQUIRED',
      'udp AS-REQ OK',
      'tcp AS-REQ OK',
      'udp TGS-REQ OK',
      'tcp TGS-REQ OK',
    ]);
  });
});

describe('MiniKdc stopped', () => {
  it('a stopped KDC → KdcUnreachableError', async () => {
    const kdc = await MiniKdc.start({ principals: [{ name: 'alice', password: PASSWORD }] });
    const config = kdc.clientConfig();
    await kdc.stop();
    const e = await rejection(Credentials.fromPassword('alice', PASSWORD, { config }));
    assert.ok(e instanceof KdcUnreachableError, String(e));
  });
});

describe('MiniKdc serving two realms with cross-realm trust', () => {
  let kdc: MiniKdc;
  before(async () => {
    kdc = await MiniKdc.start({
      realm: 'A.TEST',
      realms: ['B.TEST'],
      principals: [{ name: 'alice', password: PASSWORD }, 'HTTP/b.localhost@B.TEST', 'HTTP/a.localhost'],
    });
  });
  after(() => kdc.stop());

  it('a service named in realm B: cross-realm TGT krbtgt/B.TEST@A.TEST, then the ticket from B', async () => {
    const creds = await Credentials.fromPassword('alice', PASSWORD, { config: kdc.clientConfig() });
    kdc.clearRequests();
    const st = await creds.getServiceTicket('HTTP/b.localhost@B.TEST');
    assert.equal(unparsePrincipal(st.server), 'HTTP/b.localhost@B.TEST');
    assert.equal(unparsePrincipal(st.client), 'alice@A.TEST');
    assert.deepEqual(
      kdc.requests.map((r) => r.server),
      ['krbtgt/B.TEST@A.TEST', 'HTTP/b.localhost@B.TEST'],
    );
    const part = openWithKeytab(kdc, 'HTTP/b.localhost@B.TEST', st.ticket);
    assert.equal(part.crealm, 'A.TEST');
    assert.ok((part.flags & TicketFlag.TRANSITED_POLICY_CHECKED) !== 0);
  });

  it('a service mapped to realm A but living in B: the KDC of A answers with a referral (RFC 6806)', async () => {
    const creds = await Credentials.fromPassword('alice', PASSWORD, { config: kdc.clientConfig() });
    kdc.clearRequests();
    // [domain_realm] maps .localhost to A.TEST, so the client asks A first.
    const st = await creds.getServiceTicket('HTTP/b.localhost');
    assert.equal(unparsePrincipal(st.server), 'HTTP/b.localhost@B.TEST');
    assert.deepEqual(
      kdc.requests.map((r) => r.server),
      ['HTTP/b.localhost@A.TEST', 'HTTP/b.localhost@B.TEST'],
    );
    assert.ok(
      creds.toCcache().credentials.some((c) => unparsePrincipal(c.server) === 'krbtgt/B.TEST@A.TEST'),
    );
  });
});

// MiniKdc against RFC 4120 and what an MIT KDC (1.20) answers to the same requests: session key
// enctype selection, the checks on the ticket a TGS-REQ presents (renewal of another server, a
// service ticket where a TGT belongs), PA-ENC-TIMESTAMP failures, the client named in TGS
// KRB-ERRORs, and a request log a hostile client cannot bloat.
const REALM = 'CHECKS.TEST';
const TGS_PASSWORD = 'tgs-checks-pw';
const HOUR = 3600_000;

const P = (name: string) => parsePrincipal(name, REALM);

function krbError(reply: Uint8Array): KrbError {
  const m = decodeKerberosMessage(reply);
  assert.equal(m.type, 'krb-error', `expected a KRB-ERROR, got ${m.type}`);
  return m.value as KrbError;
}

describe('MiniKdc: TGS checks, enctypes, pre-auth failures', () => {
  let kdc: MiniKdc;
  let creds: Credentials;
  let tgt: TgtCredential;

  before(async () => {
    kdc = await MiniKdc.start({
      realm: REALM,
      enctypes: [18, 17],
      principals: [
        { name: 'alice', password: TGS_PASSWORD },
        'HTTP/localhost',
        { name: 'HTTP/rc4only', enctypes: [23] },
      ],
    });
    creds = await Credentials.fromPassword('alice', TGS_PASSWORD, { config: kdc.clientConfig() });
    const c = creds.toCcache().credentials[0];
    assert.ok(c);
    tgt = {
      client: creds.principal,
      server: c.server,
      ticket: decodeTicket(c.ticket),
      sessionKey: makeKey(c.key.keytype, c.key.keyvalue),
    };
  });
  after(() => kdc.stop());

  it('TGS: no enctype of the client list the service has a key of → KDC_ERR_ETYPE_NOSUPP', () => {
    const now = Date.now();
    const ask = (etypes: number[]) =>
      kdc.handleRequest(
        buildTgsReq({ tgt, server: P('HTTP/rc4only'), etypes, till: new Date(now + HOUR) }, now).bytes,
      );
    // aes128 is one this KDC implements, but the service only has an RC4 key.
    assert.equal(krbError(ask([17])).errorCode, 14);
    // With RC4 in the list the intersection is RC4, and that is the session key.
    const built = buildTgsReq(
      { tgt, server: P('HTTP/rc4only'), etypes: [17, 23], till: new Date(now + HOUR) },
      now,
    );
    const rep = decodeKerberosMessage(kdc.handleRequest(built.bytes));
    assert.equal(rep.type, 'tgs-rep');
    const part = decodeEncKdcRepPart(decrypt(built.subkey, 9, rep.value.encPart.cipher));
    assert.equal(part.key.keytype, 23);
  });

  it('AS: a session key for a service is also only of an enctype that service has', () => {
    const now = Date.now();
    const key = stringToKeySync(18, TGS_PASSWORD, new TextEncoder().encode(`${REALM}alice`));
    const as = buildAsReq(
      { client: P('alice'), server: P('HTTP/rc4only'), etypes: [18, 17], lifetimeSeconds: 3600 },
      now,
      [encTimestamp(key, now)],
    );
    assert.equal(krbError(kdc.handleRequest(as.bytes)).errorCode, 14);
  });

  it('RENEW asking for another server than the ticket presented → KDC_ERR_SERVER_NOMATCH', () => {
    const now = Date.now();
    const built = buildTgsReq(
      { tgt, server: P('HTTP/localhost'), etypes: [18], till: new Date(now + HOUR), renew: true },
      now,
    );
    const err = krbError(kdc.handleRequest(built.bytes));
    assert.equal(err.errorCode, 26);
    // The same renewal for the TGT's own server goes through.
    const ok = buildTgsReq(
      { tgt, server: P(`krbtgt/${REALM}`), etypes: [18], till: new Date(now + HOUR), renew: true },
      now,
    );
    assert.equal(decodeKerberosMessage(kdc.handleRequest(ok.bytes)).type, 'tgs-rep');
  });

  it('a service ticket presented where a TGT belongs → KRB_AP_ERR_NOT_US', async () => {
    const st = await creds.getServiceTicket('HTTP/localhost');
    const now = Date.now();
    const asTgt: TgtCredential = {
      client: creds.principal,
      server: P(`krbtgt/${REALM}`),
      ticket: st.ticket,
      sessionKey: st.sessionKey,
    };
    const built = buildTgsReq(
      { tgt: asTgt, server: P('HTTP/localhost'), etypes: [18], till: new Date(now + HOUR) },
      now,
    );
    assert.equal(krbError(kdc.handleRequest(built.bytes)).errorCode, 35);
  });

  it('a TGS KRB-ERROR after the TGT is opened names its client (crealm, cname), as MIT does', () => {
    const now = Date.now();
    const built = buildTgsReq(
      { tgt, server: P('HTTP/localhost'), etypes: [18], till: new Date(now + HOUR) },
      now,
    );
    // Re-sign the authenticator for another client: KRB_AP_ERR_BADMATCH.
    const pa = built.req.padata?.[0];
    assert.ok(pa && pa.padataType === PaDataType.TGS_REQ);
    const ap = decodeApReq(pa.padataValue);
    const auth = decodeAuthenticator(decrypt(tgt.sessionKey, 7, ap.authenticator.cipher));
    auth.cname = { nameType: 1, nameString: ['mallory'] };
    ap.authenticator.cipher = encrypt(tgt.sessionKey, 7, encodeAuthenticator(auth));
    pa.padataValue = encodeApReq(ap);
    const err = krbError(kdc.handleRequest(encodeTgsReq(built.req)));
    assert.equal(err.errorCode, 36);
    assert.equal(err.crealm, REALM);
    assert.deepEqual(err.cname?.nameString, ['alice']);
    // An unknown service, likewise.
    const unknown = buildTgsReq(
      { tgt, server: P('HTTP/nowhere'), etypes: [18], till: new Date(now + HOUR) },
      now,
    );
    const e2 = krbError(kdc.handleRequest(unknown.bytes));
    assert.equal(e2.errorCode, 7);
    assert.deepEqual(e2.cname?.nameString, ['alice']);
  });

  describe('PA-ENC-TIMESTAMP that cannot be checked → KDC_ERR_PREAUTH_FAILED with the PA-ETYPE-INFO2 hint', () => {
    const cases: [string, (now: number) => Uint8Array][] = [
      // alice has AES keys only.
      [
        'in an enctype the client has no key of',
        (now) => encTimestamp(stringToKeySync(23, TGS_PASSWORD, new Uint8Array(0)), now).padataValue,
      ],
      ['not DER', () => Uint8Array.of(1, 2, 3)],
      ['encrypted under no key at all', () => encodeEncryptedData({ etype: 18, cipher: new Uint8Array(48) })],
    ];
    for (const [name, padata] of cases) {
      it(name, () => {
        const now = Date.now();
        const as = buildAsReq({ client: P('alice'), etypes: [18, 17], lifetimeSeconds: 3600 }, now, [
          { padataType: PaDataType.ENC_TIMESTAMP, padataValue: padata(now) },
        ]);
        const err = krbError(kdc.handleRequest(as.bytes));
        assert.equal(err.errorCode, 24);
        assert.ok(err.eData, 'METHOD-DATA in e-data');
        const info = decodeMethodData(err.eData).find((p) => p.padataType === PaDataType.ETYPE_INFO2);
        assert.ok(info, 'PA-ETYPE-INFO2 present');
        const [entry] = decodeEtypeInfo2(info.padataValue);
        // The hint is for the client's preferred enctype, with the principal's salt.
        assert.equal(entry?.etype, 18);
        const salt = entry?.saltBytes ?? new TextEncoder().encode(entry?.salt ?? '');
        const key: Key = stringToKeySync(18, TGS_PASSWORD, salt);
        // ... which is indeed the key that then works.
        const retry = buildAsReq({ client: P('alice'), etypes: [18, 17], lifetimeSeconds: 3600 }, now, [
          encTimestamp(key, now),
        ]);
        assert.equal(decodeKerberosMessage(kdc.handleRequest(retry.bytes)).type, 'as-rep');
      });
    }
  });

  it('the request log keeps client-controlled text clipped (a 60 KB realm does not stay 60 KB)', () => {
    kdc.clearRequests();
    const huge = `${'R'.repeat(60_000)}.TEST`;
    const as = buildAsReq(
      { client: parsePrincipal(`alice@${huge}`), etypes: [18], lifetimeSeconds: 3600 },
      Date.now(),
    );
    const err = krbError(kdc.handleRequest(encodeAsReq(as.req)));
    assert.equal(err.errorCode, 68);
    const [rec] = kdc.requests;
    assert.ok(rec);
    for (const s of [rec.client, rec.server, rec.reason]) assert.ok((s?.length ?? 0) < 1024, `${s?.length}`);
    assert.ok(rec.client?.startsWith('alice@RRRR'));
  });
});
