// Checks one recorded MIT exchange (kinit + kvno) with OUR codecs and crypto only: every
// message decodes and re-encodes to the same bytes, the password opens the AS-REP via the
// ETYPE-INFO2 salt, the TGT session key opens the TGS-REQ authenticator, whose subkey (through
// FAST's armor and strengthen keys, when MIT used FAST) opens the TGS-REP, and the exported
// long-term keys open both tickets. Throws (assert) on any mismatch;
// returns what it decrypted so callers can add their own assertions.
import assert from 'node:assert/strict';
import {
  decodeApReq,
  decodeAsRep,
  decodeAsReq,
  decodeAuthenticator,
  decodeChecksum,
  decodeEncKdcRepPart,
  decodeEncryptedData,
  decodeEncTicketPart,
  decodeEtypeInfo2,
  decodeKerberosMessage,
  decodeKrbError,
  decodeMethodData,
  decodePaEncTsEnc,
  decodeTgsRep,
  decodeTgsReq,
  type EncKdcRepPart,
  type EncTicketPart,
  encodeApReq,
  encodeAsRep,
  encodeAsReq,
  encodeAuthenticator,
  encodeEncKdcRepPart,
  encodeEncTicketPart,
  encodeKdcReqBody,
  encodeKrbError,
  encodeMethodData,
  encodePaEncTsEnc,
  encodeTgsRep,
  encodeTgsReq,
  encodeTicket,
  PaDataType,
  type PrincipalName,
} from '../../../src/asn1/index.js';
import { decrypt, type Key, makeKey, stringToKeySync, verifyChecksum } from '../../../src/crypto/index.js';
import {
  decodeKrbFastReq,
  decodeKrbFastResponse,
  decodePaFxFastReply,
  decodePaFxFastRequest,
  encodeKrbFastReq,
  encodeKrbFastResponse,
  encodePaFxFastReply,
  encodePaFxFastRequest,
  FastUsage,
  krbFxCf2,
} from './fast.js';
import type { WireFixture } from './wire.js';

/** RFC 4120 §7.5.1 key usages. */
const Usage = {
  PA_ENC_TIMESTAMP: 1,
  TICKET: 2,
  AS_REP_ENC_PART: 3,
  /** RFC 6113 §5.2 KEY_USAGE_AS_REQ: the PA-REQ-ENC-PA-REP checksum. */
  AS_REQ: 56,
  TGS_REQ_AUTH_CKSUM: 6,
  TGS_REQ_AUTHENTICATOR: 7,
  TGS_REP_SESSION_KEY: 8,
  TGS_REP_SUBKEY: 9,
} as const;

const KDC_ERR_PREAUTH_REQUIRED = 25;

export interface VerifiedWire {
  userKey: Key;
  salt: Uint8Array;
  encAsRepPart: EncKdcRepPart;
  encTgsRepPart: EncKdcRepPart;
  tgt: EncTicketPart;
  serviceTicket: EncTicketPart;
  subkey: Key;
  /** Present when MIT armored the TGS-REQ with FAST (MIT 1.20 against its own KDC always does). */
  fast?: { armorKey: Key; strengthened: boolean; finished: boolean };
}

export function principalString(p: PrincipalName, realm: string): string {
  return `${p.nameString.join('/')}@${realm}`;
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

function same(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(Buffer.from(actual).toString('hex'), Buffer.from(expected).toString('hex'), `${what} differs`);
}

/**
 * A deep copy without the decoders' `raw`/`rawReqBody` passthrough fields, so re-encoding
 * exercises the field encoders rather than replaying the bytes received.
 */
export function withoutRaw<T>(v: T): T {
  if (v instanceof Uint8Array) return v.slice() as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (Array.isArray(v)) return v.map((x: unknown) => withoutRaw(x)) as T;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== 'raw' && k !== 'rawReqBody') out[k] = withoutRaw(x);
    return out as T;
  }
  return v;
}

/** Re-encodes `decoded` as decoded and with its raw passthroughs removed: both must give `bytes`. */
function roundTrip<T>(encode: (v: T) => Uint8Array, decoded: T, bytes: Uint8Array, what: string): void {
  same(encode(decoded), bytes, what);
  same(encode(withoutRaw(decoded)), bytes, `${what} (fields only)`);
}

function longTermKey(fx: WireFixture, principal: string): Key {
  const k = fx.keys.find((x) => x.principal === principal);
  assert.ok(k, `fixture has no key for ${principal}`);
  return makeKey(k.enctype, hex(k.hex));
}

export function verifyWire(fx: WireFixture): VerifiedWire {
  const raw = fx.messages.map((m) => hex(m.hex));
  assert.deepEqual(
    fx.messages.map((m) => m.name),
    ['AS-REQ', 'KRB-ERROR', 'AS-REQ', 'AS-REP', 'TGS-REQ', 'TGS-REP'],
  );
  const [asReq1Bytes, errBytes, asReq2Bytes, asRepBytes, tgsReqBytes, tgsRepBytes] = raw as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  const realm = fx.realm;
  const [clientName] = fx.client.split('@') as [string];

  // --- decode + re-encode, byte for byte ---------------------------------------------------
  const asReq1 = decodeAsReq(asReq1Bytes);
  roundTrip(encodeAsReq, asReq1, asReq1Bytes, 'AS-REQ #1');
  const krbError = decodeKrbError(errBytes);
  roundTrip(encodeKrbError, krbError, errBytes, 'KRB-ERROR');
  const asReq2 = decodeAsReq(asReq2Bytes);
  roundTrip(encodeAsReq, asReq2, asReq2Bytes, 'AS-REQ #2');
  const asRep = decodeAsRep(asRepBytes);
  roundTrip(encodeAsRep, asRep, asRepBytes, 'AS-REP');
  const tgsReq = decodeTgsReq(tgsReqBytes);
  roundTrip(encodeTgsReq, tgsReq, tgsReqBytes, 'TGS-REQ');
  const tgsRep = decodeTgsRep(tgsRepBytes);
  roundTrip(encodeTgsRep, tgsRep, tgsRepBytes, 'TGS-REP');
  // The APPLICATION-tag dispatcher names each message the same way and decodes it identically.
  const dispatched = raw.map((b) => decodeKerberosMessage(b));
  assert.deepEqual(
    dispatched.map((m) => m.type.toUpperCase()),
    ['AS-REQ', 'KRB-ERROR', 'AS-REQ', 'AS-REP', 'TGS-REQ', 'TGS-REP'],
  );
  assert.deepEqual(
    dispatched.map((m) => m.value),
    [asReq1, krbError, asReq2, asRep, tgsReq, tgsRep],
  );

  // --- AS-REQ #1 and KRB-ERROR PREAUTH_REQUIRED ---------------------------------------------
  assert.equal(principalString(asReq1.reqBody.cname!, asReq1.reqBody.realm), fx.client);
  assert.equal(principalString(asReq1.reqBody.sname!, asReq1.reqBody.realm), `krbtgt/${realm}@${realm}`);
  assert.deepEqual(asReq1.reqBody.etype, [fx.enctype]);
  assert.equal(krbError.errorCode, KDC_ERR_PREAUTH_REQUIRED);
  assert.ok(krbError.eData, 'PREAUTH_REQUIRED without e-data');
  const methodData = decodeMethodData(krbError.eData);
  roundTrip(encodeMethodData, methodData, krbError.eData, 'METHOD-DATA');
  const etypeInfo2Pa = methodData.find((p) => p.padataType === PaDataType.ETYPE_INFO2);
  assert.ok(etypeInfo2Pa, `no ETYPE-INFO2 in ${methodData.map((p) => p.padataType).join(',')}`);
  assert.ok(methodData.some((p) => p.padataType === PaDataType.ENC_TIMESTAMP));
  const etypeInfo2 = decodeEtypeInfo2(etypeInfo2Pa.padataValue);
  assert.equal(etypeInfo2.length, 1);
  const entry = etypeInfo2[0]!;
  assert.equal(entry.etype, fx.enctype);

  // --- the user's key from the password and the KDC's salt ----------------------------------
  const salt = entry.saltBytes ?? new TextEncoder().encode(`${realm}${clientName}`);
  if (fx.saltType === 'norealm') assert.equal(Buffer.from(salt).toString('utf8'), clientName);
  else assert.equal(Buffer.from(salt).toString('utf8'), `${realm}${clientName}`);
  const userKey = stringToKeySync(fx.enctype, fx.password, salt, entry.s2kparams);

  // AS-REQ #2 carries PA-ENC-TIMESTAMP under that key (usage 1).
  const encTs = asReq2.padata?.find((p) => p.padataType === PaDataType.ENC_TIMESTAMP);
  assert.ok(encTs, 'second AS-REQ has no PA-ENC-TIMESTAMP');
  const encTsData = decodeEncryptedData(encTs.padataValue);
  assert.equal(encTsData.etype, fx.enctype);
  const tsPlain = decrypt(userKey, Usage.PA_ENC_TIMESTAMP, encTsData.cipher);
  const ts = decodePaEncTsEnc(tsPlain);
  roundTrip(encodePaEncTsEnc, ts, tsPlain, 'PA-ENC-TS-ENC');
  assert.ok(
    Math.abs(ts.patimestamp.getTime() - krbError.stime.getTime()) < 5 * 60_000,
    'timestamp within skew',
  );

  // --- AS-REP: enc-part under the user key (usage 3) ----------------------------------------
  assert.equal(principalString(asRep.cname, asRep.crealm), fx.client);
  assert.equal(asRep.encPart.etype, fx.enctype);
  assert.equal(asRep.ticket.encPart.etype, fx.enctype);
  const asPlain = decrypt(userKey, Usage.AS_REP_ENC_PART, asRep.encPart.cipher);
  const encAsRepPart = decodeEncKdcRepPart(asPlain);
  roundTrip(encodeEncKdcRepPart, encAsRepPart, asPlain, 'EncASRepPart');
  assert.equal(encAsRepPart.nonce, asReq2.reqBody.nonce);
  assert.equal(principalString(encAsRepPart.sname, encAsRepPart.srealm), `krbtgt/${realm}@${realm}`);
  assert.equal(encAsRepPart.key.keytype, fx.enctype);
  const tgtSessionKey = makeKey(encAsRepPart.key.keytype, encAsRepPart.key.keyvalue);

  // The TGT opens with krbtgt's long-term key and holds the same session key.
  const tgtPlain = decrypt(
    longTermKey(fx, `krbtgt/${realm}@${realm}`),
    Usage.TICKET,
    asRep.ticket.encPart.cipher,
  );
  const tgt = decodeEncTicketPart(tgtPlain);
  roundTrip(encodeEncTicketPart, tgt, tgtPlain, 'EncTicketPart (TGT)');
  assert.equal(principalString(tgt.cname, tgt.crealm), fx.client);
  same(tgt.key.keyvalue, encAsRepPart.key.keyvalue, 'TGT session key');

  // --- TGS-REQ: PA-TGS-REQ AP-REQ; authenticator under the TGT session key (usage 7) --------
  assert.equal(principalString(tgsReq.reqBody.sname!, tgsReq.reqBody.realm), fx.service);
  const paTgsReq = tgsReq.padata?.find((p) => p.padataType === PaDataType.TGS_REQ);
  assert.ok(paTgsReq, 'TGS-REQ without PA-TGS-REQ');
  const apReq = decodeApReq(paTgsReq.padataValue);
  roundTrip(encodeApReq, apReq, paTgsReq.padataValue, 'AP-REQ (PA-TGS-REQ)');
  same(apReq.ticket.encPart.cipher, asRep.ticket.encPart.cipher, 'TGT in the TGS-REQ');
  const authPlain = decrypt(tgtSessionKey, Usage.TGS_REQ_AUTHENTICATOR, apReq.authenticator.cipher);
  const authenticator = decodeAuthenticator(authPlain);
  roundTrip(encodeAuthenticator, authenticator, authPlain, 'Authenticator');
  assert.equal(principalString(authenticator.cname, authenticator.crealm), fx.client);
  // The authenticator's checksum covers the DER of req-body (usage 6), keyed with the session key.
  assert.ok(authenticator.cksum, 'TGS-REQ authenticator without checksum');
  const bodyBytes = encodeKdcReqBody(tgsReq.reqBody);
  if (tgsReq.rawReqBody !== undefined) same(bodyBytes, tgsReq.rawReqBody, 'TGS-REQ req-body');
  assert.ok(
    verifyChecksum(
      authenticator.cksum.cksumtype,
      tgtSessionKey,
      Usage.TGS_REQ_AUTH_CKSUM,
      bodyBytes,
      authenticator.cksum.checksum,
    ),
    'req-body checksum does not verify',
  );
  // MIT always sends a subkey in TGS-REQs; the KDC then encrypts the reply with it.
  assert.ok(authenticator.subkey, 'MIT kvno sent no subkey');
  const subkey = makeKey(authenticator.subkey.keytype, authenticator.subkey.keyvalue);

  // --- FAST (RFC 6113): MIT armors its TGS-REQ with the TGT once the KDC advertised FAST -----
  // The AS-REP's encrypted padata says so (PA-FX-FAST), next to PA-REQ-ENC-PA-REP, whose checksum
  // (usage 56, the reply key) covers the AS-REQ exactly as sent.
  const encPa = encAsRepPart.encryptedPaData ?? [];
  const reqEncPaRep = encPa.find((p) => p.padataType === PaDataType.REQ_ENC_PA_REP);
  if (reqEncPaRep !== undefined) {
    const ck = decodeChecksum(reqEncPaRep.padataValue);
    assert.ok(
      verifyChecksum(ck.cksumtype, userKey, Usage.AS_REQ, asReq2Bytes, ck.checksum),
      'PA-REQ-ENC-PA-REP',
    );
  }
  const paFast = tgsReq.padata?.find((p) => p.padataType === PaDataType.FX_FAST);
  let replyKey = subkey;
  let fast: VerifiedWire['fast'];
  if (paFast !== undefined) {
    assert.ok(
      encPa.some((p) => p.padataType === PaDataType.FX_FAST),
      'FAST TGS-REQ without the KDC advertising FAST',
    );
    const armored = decodePaFxFastRequest(paFast.padataValue);
    roundTrip(encodePaFxFastRequest, armored, paFast.padataValue, 'PA-FX-FAST-REQUEST');
    assert.equal(armored.armor, undefined, 'TGS FAST uses the implicit TGT armor');
    // RFC 6113 §5.4.1.1: armor key = KRB-FX-CF2(subkey, ticket session key, "subkeyarmor", "ticketarmor").
    const armorKey = krbFxCf2(subkey, tgtSessionKey, 'subkeyarmor', 'ticketarmor');
    const { reqChecksum } = armored;
    assert.ok(
      verifyChecksum(
        reqChecksum.cksumtype,
        armorKey,
        FastUsage.REQ_CHECKSUM,
        paTgsReq.padataValue,
        reqChecksum.checksum,
      ),
      'FAST req-checksum over the PA-TGS-REQ AP-REQ',
    );
    const fastReqPlain = decrypt(armorKey, FastUsage.ENC, armored.encFastReq.cipher);
    const fastReq = decodeKrbFastReq(fastReqPlain);
    roundTrip(encodeKrbFastReq, fastReq, fastReqPlain, 'KrbFastReq');
    assert.equal(fastReq.reqBody.nonce, tgsReq.reqBody.nonce);
    assert.equal(principalString(fastReq.reqBody.sname!, fastReq.reqBody.realm), fx.service);

    const paFastRep = tgsRep.padata?.find((p) => p.padataType === PaDataType.FX_FAST);
    assert.ok(paFastRep, 'FAST TGS-REQ answered without PA-FX-FAST');
    const armoredRep = decodePaFxFastReply(paFastRep.padataValue);
    roundTrip(encodePaFxFastReply, armoredRep, paFastRep.padataValue, 'PA-FX-FAST-REPLY');
    const fastRepPlain = decrypt(armorKey, FastUsage.REP, armoredRep.encFastRep.cipher);
    const fastRep = decodeKrbFastResponse(fastRepPlain);
    roundTrip(encodeKrbFastResponse, fastRep, fastRepPlain, 'KrbFastResponse');
    assert.equal(fastRep.nonce, tgsReq.reqBody.nonce);
    if (fastRep.finished !== undefined) {
      const tc = fastRep.finished.ticketChecksum;
      assert.ok(
        verifyChecksum(tc.cksumtype, armorKey, FastUsage.FINISHED, encodeTicket(tgsRep.ticket), tc.checksum),
        'KrbFastFinished ticket-checksum',
      );
      assert.equal(principalString(fastRep.finished.cname, fastRep.finished.crealm), fx.client);
    }
    // RFC 6113 §5.4.3: with a strengthen-key the reply key is KRB-FX-CF2(strengthen-key, reply key, …).
    if (fastRep.strengthenKey !== undefined) {
      const strengthen = makeKey(fastRep.strengthenKey.keytype, fastRep.strengthenKey.keyvalue);
      replyKey = krbFxCf2(strengthen, subkey, 'strengthenkey', 'replykey');
    }
    fast = {
      armorKey,
      strengthened: fastRep.strengthenKey !== undefined,
      finished: fastRep.finished !== undefined,
    };
  }

  // --- TGS-REP: enc-part under the (strengthened) subkey, usage 9 — not the session key, usage 8
  assert.equal(tgsRep.encPart.etype, fx.enctype);
  assert.throws(() => decrypt(tgtSessionKey, Usage.TGS_REP_SESSION_KEY, tgsRep.encPart.cipher));
  const tgsPlain = decrypt(replyKey, Usage.TGS_REP_SUBKEY, tgsRep.encPart.cipher);
  const encTgsRepPart = decodeEncKdcRepPart(tgsPlain);
  roundTrip(encodeEncKdcRepPart, encTgsRepPart, tgsPlain, 'EncTGSRepPart');
  assert.equal(encTgsRepPart.nonce, tgsReq.reqBody.nonce);
  assert.equal(principalString(encTgsRepPart.sname, encTgsRepPart.srealm), fx.service);
  assert.equal(encTgsRepPart.key.keytype, fx.enctype);
  assert.equal(principalString(tgsRep.cname, tgsRep.crealm), fx.client);

  // The service ticket opens with the service's long-term key and holds the same session key.
  assert.equal(principalString(tgsRep.ticket.sname, tgsRep.ticket.realm), fx.service);
  const stPlain = decrypt(longTermKey(fx, fx.service), Usage.TICKET, tgsRep.ticket.encPart.cipher);
  const serviceTicket = decodeEncTicketPart(stPlain);
  roundTrip(encodeEncTicketPart, serviceTicket, stPlain, 'EncTicketPart (service)');
  assert.equal(principalString(serviceTicket.cname, serviceTicket.crealm), fx.client);
  same(serviceTicket.key.keyvalue, encTgsRepPart.key.keyvalue, 'service session key');

  return {
    userKey,
    salt,
    encAsRepPart,
    encTgsRepPart,
    tgt,
    serviceTicket,
    subkey,
    ...(fast ? { fast } : {}),
  };
}
