import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ApReq,
  type Authenticator,
  decodeAdIfRelevant,
  decodeApRep,
  decodeApReq,
  decodeAuthenticator,
  decodeAuthorizationData,
  decodeChecksum,
  decodeEncApRepPart,
  decodeEncKdcRepPart,
  decodeEncKrbCredPart,
  decodeEncryptedData,
  decodeEncryptionKey,
  decodeEncTicketPart,
  decodeEtypeInfo,
  decodeEtypeInfo2,
  decodeHostAddresses,
  decodeKerberosMessage,
  decodeKrbCred,
  decodeKrbError,
  decodeKrbErrorEData,
  decodeLastReq,
  decodeMethodData,
  decodePaData,
  decodePaEncTsEnc,
  decodePaPacRequest,
  decodePrincipalName,
  decodeTgsReq,
  decodeTypedData,
  type EncKdcRepPart,
  type EncKrbCredPart,
  type EncTicketPart,
  encodeAdIfRelevant,
  encodeApRep,
  encodeApReq,
  encodeAsReq,
  encodeAuthenticator,
  encodeAuthorizationData,
  encodeChecksum,
  encodeEncApRepPart,
  encodeEncAsRepPart,
  encodeEncKdcRepPart,
  encodeEncKrbCredPart,
  encodeEncryptedData,
  encodeEncryptionKey,
  encodeEncTgsRepPart,
  encodeEncTicketPart,
  encodeEtypeInfo,
  encodeEtypeInfo2,
  encodeHostAddresses,
  encodeKrbCred,
  encodeKrbError,
  encodeLastReq,
  encodeMethodData,
  encodePaData,
  encodePaEncTsEnc,
  encodePaPacRequest,
  encodePrincipalName,
  encodeTgsReq,
  encodeTypedData,
  type KdcReq,
  type KrbError,
  NameType,
  type Ticket,
} from '../../src/asn1/index.js';
import { Asn1Error, SpnegoError } from '../../src/errors.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const T = (s: string): Date => new Date(s);

const ticket: Ticket = {
  tktVno: 5,
  realm: 'EXAMPLE.TEST',
  sname: { nameType: NameType.SRV_INST, nameString: ['krbtgt', 'EXAMPLE.TEST'] },
  encPart: { etype: 18, kvno: 2, cipher: bytes(1, 2, 3, 4) },
};

describe('basic types, hand-built DER', () => {
  it('PrincipalName', () => {
    const der = hex('3011 a003 020101 a10a 3008 1b04 75736572 1b00');
    const p = decodePrincipalName(der);
    assert.deepEqual(p, { nameType: 1, nameString: ['user', ''] });
    assert.equal(toHex(encodePrincipalName(p)), toHex(der));
  });

  it('EncryptedData with and without kvno', () => {
    const withKvno = hex('3010 a003 020112 a103 020102 a204 0402 abcd');
    const e = decodeEncryptedData(withKvno);
    assert.deepEqual(e, { etype: 18, kvno: 2, cipher: bytes(0xab, 0xcd) });
    assert.equal(toHex(encodeEncryptedData(e)), toHex(withKvno));
    const noKvno = hex('300b a003 020112 a204 0402 abcd');
    const e2 = decodeEncryptedData(noKvno);
    assert.equal('kvno' in e2, false);
    assert.equal(toHex(encodeEncryptedData(e2)), toHex(noKvno));
  });

  it('EncryptedData kvno >= 2^31 (AD RODC): signed 32-bit INTEGER both ways, as MIT and Windows', () => {
    // The bytes MIT krb5 1.20.1's encode_krb5_enc_data (libkrb5.so.3) writes for enctype 23,
    // cipher 01, and these kvnos (made with libkrb5-dev on this machine).
    const mit: [number, string][] = [
      [0x80000001, '3012a003020117a106020480000001a203040101'],
      [0xffffffff, '300fa003020117a1030201ffa203040101'],
      [0x7fffffff, '3012a003020117a10602047fffffffa203040101'],
    ];
    for (const [kvno, der] of mit) {
      assert.equal(toHex(encodeEncryptedData({ etype: 23, kvno, cipher: bytes(1) })), der, kvno.toString(16));
      assert.equal(decodeEncryptedData(hex(der)).kvno, kvno);
    }
    // The unsigned 5-octet form some encoders write still reads as the same kvno.
    assert.equal(
      decodeEncryptedData(hex('3014 a003 020117 a107 0205 0080000001 a204 0402 abcd')).kvno,
      0x80000001,
    );
    assert.throws(() => encodeEncryptedData({ etype: 23, kvno: 2 ** 32, cipher: bytes(1) }));
  });

  it('decoded octet strings are copies, not views of the input', () => {
    const der = hex('300b a003 020112 a204 0402 abcd');
    const e = decodeEncryptedData(der);
    der[der.length - 1] = 0;
    assert.deepEqual(e.cipher, bytes(0xab, 0xcd));
  });

  it('rejects unknown, duplicated and out-of-order fields', () => {
    // extra [2] in EncryptionKey
    assert.throws(
      () => decodeEncryptionKey(hex('300e a003 020112 a102 0400 a203 020101')),
      /unexpected element CONTEXT 2/,
    );
    // [1] before [0]
    assert.throws(() => decodeEncryptionKey(hex('3009 a102 0400 a003 020112')), Asn1Error);
    // duplicate [0]
    assert.throws(() => decodeEncryptionKey(hex('300e a003 020112 a003 020112 a102 0400')), Asn1Error);
    // missing required [1]
    assert.throws(() => decodeEncryptionKey(hex('3005 a003 020112')), /keyvalue: missing/);
    // [0] holding two elements
    assert.throws(
      () => decodeEncryptionKey(hex('300c a006 020112 020112 a102 0400')),
      /must hold one element/,
    );
  });

  it('EncryptionKey, Checksum, HostAddresses, AuthorizationData, AD-IF-RELEVANT, LastReq round-trip', () => {
    const key = { keytype: 18, keyvalue: new Uint8Array(32).fill(7) };
    assert.deepEqual(decodeEncryptionKey(encodeEncryptionKey(key)), key);
    const ck = { cksumtype: 0x8003, checksum: bytes(16, 0, 0, 0) };
    assert.deepEqual(decodeChecksum(encodeChecksum(ck)), ck);
    const addrs = [
      { addrType: 2, address: bytes(127, 0, 0, 1) },
      { addrType: 24, address: new Uint8Array(16) },
    ];
    assert.deepEqual(decodeHostAddresses(encodeHostAddresses(addrs)), addrs);
    assert.deepEqual(decodeHostAddresses(encodeHostAddresses([])), []);
    const ad = [{ adType: 128, adData: bytes(1, 2) }];
    assert.deepEqual(decodeAuthorizationData(encodeAuthorizationData(ad)), ad);
    assert.deepEqual(decodeAdIfRelevant(encodeAdIfRelevant(ad)), ad);
    const lr = [{ lrType: 0, lrValue: T('2026-11-28T12:18:35Z') }];
    assert.deepEqual(decodeLastReq(encodeLastReq(lr)), lr);
  });

  it('PA-DATA uses tags [1] and [2]', () => {
    const der = hex('300c a103 020113 a205 0403 010203');
    assert.deepEqual(decodePaData(der), { padataType: 19, padataValue: bytes(1, 2, 3) });
    assert.equal(toHex(encodePaData({ padataType: 19, padataValue: bytes(1, 2, 3) })), toHex(der));
    assert.deepEqual(decodeMethodData(encodeMethodData([])), []);
  });
});

describe('pre-authentication payloads', () => {
  it('PA-ENC-TS-ENC', () => {
    const v = { patimestamp: T('2026-01-02T03:04:05Z'), pausec: 123456 };
    const der = encodePaEncTsEnc(v);
    assert.equal(toHex(der), `301aa011180f${Buffer.from('20260102030405Z').toString('hex')}a105020301e240`);
    assert.deepEqual(decodePaEncTsEnc(der), v);
    const noUsec = { patimestamp: T('2026-01-02T03:04:05Z') };
    assert.deepEqual(decodePaEncTsEnc(encodePaEncTsEnc(noUsec)), noUsec);
  });

  it('ETYPE-INFO2 keeps salt bytes, even when they are not UTF-8', () => {
    const info = [{ etype: 18, salt: 'EXAMPLE.TESTuser', s2kparams: bytes(0, 0, 0x10, 0) }, { etype: 23 }];
    const dec = decodeEtypeInfo2(encodeEtypeInfo2(info));
    assert.equal(dec[0]!.salt, 'EXAMPLE.TESTuser');
    assert.deepEqual(dec[0]!.saltBytes, new TextEncoder().encode('EXAMPLE.TESTuser'));
    assert.deepEqual(dec[0]!.s2kparams, bytes(0, 0, 0x10, 0));
    assert.deepEqual(dec[1], { etype: 23 });
    // Latin-1 salt bytes from a misconfigured KDC: not UTF-8, must survive untouched.
    const raw = hex('300f 300d a003 020117 a106 1b04 41e94242');
    const d = decodeEtypeInfo2(raw);
    assert.deepEqual(d[0]!.saltBytes, hex('41e94242'));
    assert.equal(d[0]!.salt, 'A\ufffdBB');
    assert.equal(toHex(encodeEtypeInfo2(d)), toHex(raw));
  });

  it('ETYPE-INFO (old form, salt as OCTET STRING)', () => {
    const v = [{ etype: 23, salt: bytes(0x61) }, { etype: 3 }];
    assert.deepEqual(decodeEtypeInfo(encodeEtypeInfo(v)), v);
  });

  it('KERB-PA-PAC-REQUEST matches the MS-KILE encoding', () => {
    assert.equal(toHex(encodePaPacRequest({ includePac: true })), '3005a0030101ff');
    assert.deepEqual(decodePaPacRequest(hex('3005a003010100')), { includePac: false });
    assert.throws(() => decodePaPacRequest(hex('3005a003010101')), /BOOLEAN/);
  });
});

describe('KDC messages', () => {
  const req: KdcReq = {
    pvno: 5,
    msgType: 12,
    padata: [{ padataType: 1, padataValue: bytes(0x6e, 0x00) }],
    reqBody: {
      kdcOptions: 0x40810010,
      realm: 'EXAMPLE.TEST',
      sname: { nameType: 2, nameString: ['HTTP', 'localhost'] },
      from: T('2026-01-01T00:00:00Z'),
      till: T('2026-01-02T00:00:00Z'),
      rtime: T('2026-01-08T00:00:00Z'),
      nonce: 0x7fffffff,
      etype: [18, 17],
      addresses: [{ addrType: 2, address: bytes(10, 0, 0, 1) }],
      encAuthorizationData: { etype: 18, cipher: bytes(9) },
      additionalTickets: [ticket],
    },
  };

  it('TGS-REQ with every optional field round-trips, exposing the raw req-body', () => {
    const der = encodeTgsReq(req);
    const d = decodeTgsReq(der);
    const { rawReqBody, ...rest } = d;
    assert.ok(rawReqBody);
    assert.equal(toHex(der).includes(toHex(rawReqBody)), true);
    assert.equal(rest.reqBody.additionalTickets?.[0]?.realm, 'EXAMPLE.TEST');
    assert.equal(toHex(encodeTgsReq(d)), toHex(der));
    assert.equal(d.reqBody.nonce, 0x7fffffff);
  });

  it('AS-REQ and TGS-REQ differ only in the APPLICATION tag', () => {
    const a = encodeAsReq(req);
    const t = encodeTgsReq(req);
    assert.equal(a[0], 0x6a);
    assert.equal(t[0], 0x6c);
    assert.deepEqual(a.subarray(1), t.subarray(1));
  });

  it('EncKdcRepPart: both APPLICATION 25 and 26 decode; appTag is kept', () => {
    const part: EncKdcRepPart = {
      key: { keytype: 18, keyvalue: new Uint8Array(32) },
      lastReq: [{ lrType: 0, lrValue: T('2026-01-01T00:00:00Z') }],
      nonce: 0xfffffff0,
      keyExpiration: T('2027-01-01T00:00:00Z'),
      flags: 0x40e10000,
      authtime: T('2026-01-01T00:00:00Z'),
      starttime: T('2026-01-01T00:00:01Z'),
      endtime: T('2026-01-01T10:00:00Z'),
      renewTill: T('2026-01-08T00:00:00Z'),
      srealm: 'EXAMPLE.TEST',
      sname: { nameType: 2, nameString: ['krbtgt', 'EXAMPLE.TEST'] },
      caddr: [{ addrType: 2, address: bytes(127, 0, 0, 1) }],
      encryptedPaData: [{ padataType: 165, padataValue: bytes(1) }],
    };
    const as = encodeEncAsRepPart(part);
    const tgs = encodeEncTgsRepPart(part);
    assert.equal(as[0], 0x79);
    assert.equal(tgs[0], 0x7a);
    const d25 = decodeEncKdcRepPart(as);
    const d26 = decodeEncKdcRepPart(tgs);
    assert.deepEqual(d25, { ...part, appTag: 25 });
    assert.deepEqual(d26, { ...part, appTag: 26 });
    assert.equal(toHex(encodeEncKdcRepPart(d26)), toHex(tgs));
    const minimal: EncKdcRepPart = {
      key: part.key,
      lastReq: [],
      nonce: 1,
      flags: 0,
      authtime: part.authtime,
      endtime: part.endtime,
      srealm: 'R',
      sname: part.sname,
    };
    assert.deepEqual(decodeEncKdcRepPart(encodeEncAsRepPart(minimal)), { ...minimal, appTag: 25 });
    assert.throws(
      () => decodeEncKdcRepPart(encodeEncApRepPart({ ctime: part.authtime, cusec: 0 })),
      Asn1Error,
    );
  });

  it('EncTicketPart round-trips', () => {
    const etp: EncTicketPart = {
      flags: 0x50e10000,
      key: { keytype: 17, keyvalue: new Uint8Array(16).fill(1) },
      crealm: 'EXAMPLE.TEST',
      cname: { nameType: 1, nameString: ['user'] },
      transited: { trType: 1, contents: new Uint8Array(0) },
      authtime: T('2026-01-01T00:00:00Z'),
      endtime: T('2026-01-01T10:00:00Z'),
      authorizationData: [{ adType: 1, adData: encodeAdIfRelevant([{ adType: 128, adData: bytes(0) }]) }],
    };
    const der = encodeEncTicketPart(etp);
    assert.equal(der[0], 0x63);
    assert.deepEqual(decodeEncTicketPart(der), etp);
  });
});

describe('AP and KRB-ERROR / KRB-CRED messages', () => {
  it('AP-REQ embeds the ticket verbatim', () => {
    const ap: ApReq = {
      pvno: 5,
      msgType: 14,
      apOptions: 0x20000000,
      ticket,
      authenticator: { etype: 18, cipher: bytes(1, 2) },
    };
    const der = encodeApReq(ap);
    assert.equal(der[0], 0x6e);
    const d = decodeApReq(der);
    assert.deepEqual(
      { ...d, ticket: { ...d.ticket, raw: undefined } },
      { ...ap, ticket: { ...ticket, raw: undefined } },
    );
    assert.equal(toHex(encodeApReq(d)), toHex(der));
    assert.equal(decodeKerberosMessage(der).type, 'ap-req');
  });

  it('Authenticator with the GSS 0x8003 checksum', () => {
    const a: Authenticator = {
      authenticatorVno: 5,
      crealm: 'EXAMPLE.TEST',
      cname: { nameType: 1, nameString: ['user'] },
      cksum: { cksumtype: 0x8003, checksum: new Uint8Array(24) },
      cusec: 999999,
      ctime: T('2026-01-01T00:00:00Z'),
      subkey: { keytype: 18, keyvalue: new Uint8Array(32) },
      seqNumber: 0xffffffff,
      authorizationData: [{ adType: 1, adData: bytes(0x30, 0x00) }],
    };
    const der = encodeAuthenticator(a);
    assert.equal(der[0], 0x62);
    assert.deepEqual(decodeAuthenticator(der), a);
    const { cksum: _c, subkey: _s, seqNumber: _n, authorizationData: _a, ...min } = a;
    assert.deepEqual(decodeAuthenticator(encodeAuthenticator(min)), min);
    assert.throws(
      () => encodeAuthenticator({ ...a, cusec: 1_000_000 }),
      (e: unknown) => e instanceof SpnegoError,
    );
  });

  it('AP-REP and EncAPRepPart', () => {
    const rep = { pvno: 5, msgType: 15, encPart: { etype: 18, cipher: bytes(5) } };
    const der = encodeApRep(rep);
    assert.equal(der[0], 0x6f);
    assert.deepEqual(decodeApRep(der), rep);
    assert.equal(decodeKerberosMessage(der).type, 'ap-rep');
    const part = {
      ctime: T('2026-01-01T00:00:00Z'),
      cusec: 5,
      subkey: { keytype: 18, keyvalue: bytes(1) },
      seqNumber: 7,
    };
    const pd = encodeEncApRepPart(part);
    assert.equal(pd[0], 0x7b);
    assert.deepEqual(decodeEncApRepPart(pd), part);
    assert.deepEqual(decodeEncApRepPart(encodeEncApRepPart({ ctime: part.ctime, cusec: 0 })), {
      ctime: part.ctime,
      cusec: 0,
    });
  });

  it('KRB-ERROR with every field', () => {
    const e: KrbError = {
      pvno: 5,
      msgType: 30,
      ctime: T('2026-01-01T00:00:00Z'),
      cusec: 1,
      stime: T('2026-01-01T00:00:01Z'),
      susec: 2,
      errorCode: 25,
      crealm: 'EXAMPLE.TEST',
      cname: { nameType: 1, nameString: ['user'] },
      realm: 'EXAMPLE.TEST',
      sname: { nameType: 2, nameString: ['krbtgt', 'EXAMPLE.TEST'] },
      eText: 'Additional pre-authentication required',
      eData: encodeMethodData([{ padataType: 2, padataValue: new Uint8Array(0) }]),
    };
    const der = encodeKrbError(e);
    assert.equal(der[0], 0x7e);
    assert.deepEqual(decodeKrbError(der), e);
  });

  it('decodeKrbErrorEData recognises METHOD-DATA, TYPED-DATA, KERB-ERROR-DATA and raw', () => {
    const md = decodeKrbErrorEData(encodeMethodData([{ padataType: 19, padataValue: bytes(1) }]));
    assert.equal(md.kind, 'method-data');
    const typed = encodeTypedData([{ dataType: 1, dataValue: bytes(2) }, { dataType: 3 }]);
    assert.deepEqual(decodeTypedData(typed), [{ dataType: 1, dataValue: bytes(2) }, { dataType: 3 }]);
    assert.deepEqual(decodeKrbErrorEData(typed), {
      kind: 'typed-data',
      typedData: [{ dataType: 1, dataValue: bytes(2) }, { dataType: 3 }],
    });
    // MS-KILE KERB-ERROR-DATA: data-type 3 (KERB_ERR_TYPE_EXTENDED) with an NTSTATUS blob.
    assert.deepEqual(decodeKrbErrorEData(hex('300f a103 020103 a208 0406 0000000c0000')), {
      kind: 'kerb-error-data',
      dataType: 3,
      dataValue: hex('0000000c0000'),
    });
    assert.deepEqual(decodeKrbErrorEData(hex('0401ff')), { kind: 'raw', bytes: hex('0401ff') });
    assert.deepEqual(decodeKrbErrorEData(hex('3080')), { kind: 'raw', bytes: hex('3080') });
    assert.throws(() => decodeTypedData(hex('3000')), /must not be empty/);
  });

  it('KRB-CRED and EncKrbCredPart (delegation)', () => {
    const cred = { pvno: 5, msgType: 22, tickets: [ticket], encPart: { etype: 0, cipher: bytes(1) } };
    const der = encodeKrbCred(cred);
    assert.equal(der[0], 0x76);
    const d = decodeKrbCred(der);
    assert.equal(d.tickets.length, 1);
    assert.equal(toHex(encodeKrbCred(d)), toHex(der));
    assert.equal(decodeKerberosMessage(der).type, 'krb-cred');
    const part: EncKrbCredPart = {
      ticketInfo: [
        {
          key: { keytype: 18, keyvalue: new Uint8Array(32) },
          prealm: 'EXAMPLE.TEST',
          pname: { nameType: 1, nameString: ['user'] },
          flags: 0x60a10000,
          authtime: T('2026-01-01T00:00:00Z'),
          starttime: T('2026-01-01T00:00:00Z'),
          endtime: T('2026-01-01T10:00:00Z'),
          renewTill: T('2026-01-02T00:00:00Z'),
          srealm: 'EXAMPLE.TEST',
          sname: { nameType: 2, nameString: ['krbtgt', 'EXAMPLE.TEST'] },
          caddr: [],
        },
        { key: { keytype: 17, keyvalue: new Uint8Array(16) } },
      ],
      nonce: 42,
      timestamp: T('2026-01-01T00:00:00Z'),
      usec: 7,
      sAddress: { addrType: 2, address: bytes(1, 2, 3, 4) },
      rAddress: { addrType: 2, address: bytes(5, 6, 7, 8) },
    };
    const pd = encodeEncKrbCredPart(part);
    assert.equal(pd[0], 0x7d);
    assert.deepEqual(decodeEncKrbCredPart(pd), part);
    assert.deepEqual(decodeEncKrbCredPart(encodeEncKrbCredPart({ ticketInfo: [] })), { ticketInfo: [] });
  });
});
