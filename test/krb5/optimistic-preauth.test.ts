// Optimistic pre-authentication: with a keytab the first AS-REQ already carries PA-ENC-TIMESTAMP
// (one AS round trip instead of two); a refusal falls back to the ordinary exchange exactly
// once; a key the KDC refused is never sent again (each refusal is a failed logon to AD's
// lockout count); passwords never stamp before the KDC has named the salt.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  decodeAsReq,
  decodeEncryptedData,
  encodeEtypeInfo2,
  encodeKrbError,
  encodeMethodData,
  MessageType,
  type PaData,
  PaDataType,
} from '../../src/asn1/index.js';
import { NameType } from '../../src/asn1/types.js';
import { type Keytab, parseKeytab } from '../../src/ccache/keytab.js';
import { generateRandomKey } from '../../src/crypto/index.js';
import { KerberosError } from '../../src/errors.js';
import { Credentials, parseConfig } from '../../src/krb5/index.js';
import { MiniKdc } from '../../src/testing/index.js';

const REALM = 'OPTIMISTIC.TEST';
const AES256 = 18;
const AES128 = 17;

interface Sent {
  padata: readonly PaData[];
  /** The enctype of the PA-ENC-TIMESTAMP, if one was sent. */
  stampEtype: number | undefined;
}

/** A transport into `kdc` that records every AS-REQ; `answer` may replace the KDC's reply. */
function recording(kdc: MiniKdc, answer?: (n: number, req: Uint8Array) => Uint8Array | undefined) {
  const sent: Sent[] = [];
  return {
    sent,
    transport: {
      send: async (_realm: string, req: Uint8Array) => {
        if (req[0] === 0x6a) {
          const padata = decodeAsReq(req).padata ?? [];
          const ts = padata.find((p) => p.padataType === PaDataType.ENC_TIMESTAMP);
          sent.push({ padata, stampEtype: ts ? decodeEncryptedData(ts.padataValue).etype : undefined });
        }
        return answer?.(sent.length, req) ?? kdc.handleRequest(req);
      },
    },
  };
}

function krbError(code: number, padata?: PaData[]): Uint8Array {
  return encodeKrbError({
    pvno: 5,
    msgType: MessageType.KRB_ERROR,
    stime: new Date(Math.floor(Date.now() / 1000) * 1000),
    susec: 0,
    errorCode: code,
    realm: REALM,
    sname: { nameType: NameType.SRV_INST, nameString: ['krbtgt', REALM] },
    ...(padata ? { eData: encodeMethodData(padata) } : {}),
  });
}

const etypeInfo2 = (etype: number): PaData => ({
  padataType: PaDataType.ETYPE_INFO2,
  padataValue: encodeEtypeInfo2([{ etype }]),
});

describe('optimistic pre-authentication with a keytab', () => {
  let kdc: MiniKdc;
  let config: ReturnType<typeof parseConfig>;
  before(async () => {
    kdc = await MiniKdc.start({
      realm: REALM,
      principals: [
        'robot',
        'HTTP/localhost',
        { name: 'alice', password: 'alice-pw' },
        { name: 'old', enctypes: [AES128] },
      ],
    });
    config = parseConfig(kdc.krb5Config);
  });
  after(() => kdc.stop());

  it('the first AS-REQ carries PA-ENC-TIMESTAMP in the strongest key: one AS round trip', async () => {
    const { sent, transport } = recording(kdc);
    kdc.clearRequests();
    const creds = await Credentials.fromKeytab('robot', parseKeytab(kdc.keytabFor('robot')), {
      config,
      transport,
    });
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.stampEtype, AES256);
    assert.deepEqual(
      kdc.requests.map((r) => [r.type, r.errorCode]),
      [['AS-REQ', undefined]],
    );
    await creds.getServiceTicket('HTTP/localhost');
  });

  it('optimisticPreauth: false asks first (PREAUTH_REQUIRED, then the stamp)', async () => {
    const { sent, transport } = recording(kdc);
    kdc.clearRequests();
    await Credentials.fromKeytab('robot', parseKeytab(kdc.keytabFor('robot')), {
      config,
      transport,
      optimisticPreauth: false,
    });
    assert.deepEqual(
      sent.map((s) => s.stampEtype),
      [undefined, AES256],
    );
    assert.deepEqual(
      kdc.requests.map((r) => r.errorCode),
      [25, undefined],
    );
  });

  it('a password never stamps before the KDC names the salt', async () => {
    const { sent, transport } = recording(kdc);
    await Credentials.fromPassword('alice', 'alice-pw', { config, transport });
    assert.deepEqual(
      sent.map((s) => s.stampEtype),
      [undefined, AES256],
    );
  });

  it('PREAUTH_FAILED naming another enctype: stamped again in that one, once', async () => {
    // The keytab holds an AES-256 key the KDC does not have for `old` (only AES-128).
    const kt = parseKeytab(kdc.keytabFor('old'));
    const aes128 = kt.entries[0];
    assert.ok(aes128 && aes128.key.keytype === AES128);
    const extra = generateRandomKey(AES256);
    const both: Keytab = {
      version: 2,
      entries: [{ ...aes128, key: { keytype: AES256, keyvalue: extra.bytes } }, aes128],
    };
    const { sent, transport } = recording(kdc);
    kdc.clearRequests();
    const creds = await Credentials.fromKeytab('old', both, { config, transport });
    assert.equal(creds.principal.name.nameString.join('/'), 'old');
    assert.deepEqual(
      sent.map((s) => s.stampEtype),
      [AES256, AES128],
    );
    assert.deepEqual(
      kdc.requests.map((r) => r.errorCode),
      [24, undefined],
    );
  });

  it('a stale keytab key (the principal was re-keyed) is refused once and never sent again', async () => {
    const staleKeytab = parseKeytab(kdc.keytabFor('robot'));
    kdc.addPrincipal('robot'); // new random keys, kvno + 1
    const { sent, transport } = recording(kdc);
    kdc.clearRequests();
    await assert.rejects(
      Credentials.fromKeytab('robot', staleKeytab, { config, transport }),
      (e: unknown) =>
        e instanceof KerberosError &&
        e.errorName === 'KDC_ERR_PREAUTH_FAILED' &&
        /export it again/.test(e.hint ?? ''),
    );
    assert.equal(sent.length, 1);
    assert.deepEqual(
      kdc.requests.map((r) => r.errorCode),
      [24],
    );
  });

  it('ETYPE_NOSUPP without hints: the ordinary exchange follows (no pre-auth, then the named key)', async () => {
    const { sent, transport } = recording(kdc, (n) => (n === 1 ? krbError(14) : undefined));
    await Credentials.fromKeytab('robot', parseKeytab(kdc.keytabFor('robot')), { config, transport });
    assert.deepEqual(
      sent.map((s) => s.stampEtype),
      [AES256, undefined, AES256],
    );
  });

  it('PREAUTH_FAILED without hints, then the KDC names the same enctype: no second stamp in that key', async () => {
    const { sent, transport } = recording(kdc, (n) => (n === 1 ? krbError(24) : undefined));
    await assert.rejects(
      Credentials.fromKeytab('robot', parseKeytab(kdc.keytabFor('robot')), { config, transport }),
      (e: unknown) => e instanceof KerberosError && e.errorName === 'KDC_ERR_PREAUTH_FAILED',
    );
    assert.deepEqual(
      sent.map((s) => s.stampEtype),
      [AES256, undefined],
    );
  });

  it('the fallback happens once: a KDC refusing every stamp ends in its error after two', async () => {
    const { sent, transport } = recording(kdc, (n) => krbError(24, [etypeInfo2(n === 1 ? AES128 : AES256)]));
    await assert.rejects(
      Credentials.fromKeytab('robot', parseKeytab(kdc.keytabFor('robot')), { config, transport }),
      (e: unknown) => e instanceof KerberosError && e.errorName === 'KDC_ERR_PREAUTH_FAILED',
    );
    assert.deepEqual(
      sent.map((s) => s.stampEtype),
      [AES256, AES128],
    );
  });

  it('PREAUTH_REQUIRED naming another enctype after the stamp: stamped in that one', async () => {
    const { sent, transport } = recording(kdc, (n) =>
      n === 1
        ? krbError(25, [
            etypeInfo2(AES128),
            { padataType: PaDataType.ENC_TIMESTAMP, padataValue: new Uint8Array(0) },
          ])
        : undefined,
    );
    await Credentials.fromKeytab('robot', parseKeytab(kdc.keytabFor('robot')), { config, transport });
    assert.deepEqual(
      sent.map((s) => s.stampEtype),
      [AES256, AES128],
    );
  });
});
