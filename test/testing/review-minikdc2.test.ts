// MiniKdc against RFC 4120 and what an MIT KDC (1.20) answers to the same requests: session key
// enctype selection, the checks on the ticket a TGS-REQ presents (renewal of another server, a
// service ticket where a TGT belongs), PA-ENC-TIMESTAMP failures, the client named in TGS
// KRB-ERRORs, and a request log a hostile client cannot bloat.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  decodeApReq,
  decodeAuthenticator,
  decodeEncKdcRepPart,
  decodeEtypeInfo2,
  decodeKerberosMessage,
  decodeMethodData,
  decodeTicket,
  encodeApReq,
  encodeAsReq,
  encodeAuthenticator,
  encodeEncryptedData,
  encodeTgsReq,
  type KrbError,
  PaDataType,
} from '../../src/asn1/index.js';
import { parsePrincipal } from '../../src/ccache/principal-text.js';
import { decrypt, encrypt, type Key, makeKey, stringToKey } from '../../src/crypto/index.js';
import { buildAsReq, encTimestamp } from '../../src/krb5/as.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { buildTgsReq, type TgtCredential } from '../../src/krb5/tgs.js';
import { MiniKdc } from '../../src/testing/index.js';

const REALM = 'REVIEW.TEST';
const PASSWORD = 'review-pw';
const HOUR = 3600_000;

const P = (name: string) => parsePrincipal(name, REALM);

function krbError(reply: Uint8Array): KrbError {
  const m = decodeKerberosMessage(reply);
  assert.equal(m.type, 'krb-error', `expected a KRB-ERROR, got ${m.type}`);
  return m.value as KrbError;
}

describe('MiniKdc review 2: TGS checks, enctypes, pre-auth failures', () => {
  let kdc: MiniKdc;
  let creds: Credentials;
  let tgt: TgtCredential;

  before(async () => {
    kdc = await MiniKdc.start({
      realm: REALM,
      enctypes: [18, 17],
      principals: [
        { name: 'alice', password: PASSWORD },
        'HTTP/localhost',
        { name: 'HTTP/rc4only', enctypes: [23] },
      ],
    });
    creds = await Credentials.fromPassword('alice', PASSWORD, { config: kdc.clientConfig() });
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
    const key = stringToKey(18, PASSWORD, new TextEncoder().encode(`${REALM}alice`));
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
        (now) => encTimestamp(stringToKey(23, PASSWORD, new Uint8Array(0)), now).padataValue,
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
        const key: Key = stringToKey(18, PASSWORD, salt);
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
