// Real MIT krb5 1.20 bytes (see test/vectors/asn1/*.json): every message must decode to what MIT
// meant and re-encode to the identical bytes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  decodeApReq,
  decodeAsRep,
  decodeAsReq,
  decodeEtypeInfo2,
  decodeKerberosMessage,
  decodeKrbError,
  decodeKrbErrorEData,
  decodeTgsRep,
  decodeTgsReq,
  decodeTicket,
  encodeApReq,
  encodeAsRep,
  encodeAsReq,
  encodeKdcReqBody,
  encodeKrbError,
  encodeTgsRep,
  encodeTgsReq,
  encodeTicket,
  flagBit,
  type KerberosMessage,
  PaDataType,
} from '../../src/asn1/index.js';
import { Asn1Error } from '../../src/errors.js';

const vec = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../vectors/asn1/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const tickets = vec('mit-ccache-tickets.json')['tickets'] as Record<string, string>;
const messages = vec('mit-kdc-exchange.json')['messages'] as Record<string, string>;
const msg = (name: string): Uint8Array => {
  const h = messages[name];
  assert.ok(h, name);
  return hex(h);
};

function reencode(m: KerberosMessage): Uint8Array {
  switch (m.type) {
    case 'as-req':
      return encodeAsReq(m.value);
    case 'as-rep':
      return encodeAsRep(m.value);
    case 'tgs-req':
      return encodeTgsReq(m.value);
    case 'tgs-rep':
      return encodeTgsRep(m.value);
    case 'krb-error':
      return encodeKrbError(m.value);
    default:
      throw new Error(`unexpected ${m.type}`);
  }
}

describe('tickets from an MIT ccache', () => {
  it('decodes the TGT', () => {
    const t = decodeTicket(hex(tickets['krbtgt']!));
    assert.equal(t.tktVno, 5);
    assert.equal(t.realm, 'EXAMPLE.TEST');
    assert.deepEqual(t.sname, { nameType: 2, nameString: ['krbtgt', 'EXAMPLE.TEST'] });
    assert.equal(t.encPart.etype, 18);
    assert.equal(t.encPart.kvno, 1);
    assert.equal(t.encPart.cipher.length, 340);
  });

  it('decodes the HTTP/localhost service ticket', () => {
    const t = decodeTicket(hex(tickets['http-localhost']!));
    assert.deepEqual(t.sname, { nameType: 1, nameString: ['HTTP', 'localhost'] });
    assert.equal(t.encPart.kvno, 2);
  });

  it('re-encodes both byte for byte, with and without the kept raw bytes', () => {
    for (const h of Object.values(tickets)) {
      const t = decodeTicket(hex(h));
      assert.equal(toHex(t.raw!), h);
      assert.equal(toHex(encodeTicket(t)), h);
      const { raw: _raw, ...fields } = t;
      assert.equal(toHex(encodeTicket(fields)), h);
    }
  });

  it('ignores a stale raw when a field was changed', () => {
    const t = decodeTicket(hex(tickets['krbtgt']!));
    const changed = { ...t, realm: 'OTHER.TEST' };
    const again = decodeTicket(encodeTicket(changed));
    assert.equal(again.realm, 'OTHER.TEST');
    assert.deepEqual(again.encPart.cipher, t.encPart.cipher);
  });

  it('rejects trailing garbage and truncation', () => {
    const b = hex(tickets['krbtgt']!);
    assert.throws(() => decodeTicket(new Uint8Array([...b, 0])), Asn1Error);
    assert.throws(() => decodeTicket(b.subarray(0, b.length - 1)), Asn1Error);
  });
});

describe('MIT KDC exchange', () => {
  it('every captured message re-encodes to identical bytes', () => {
    for (const [name, h] of Object.entries(messages)) {
      const m = decodeKerberosMessage(hex(h));
      assert.equal(toHex(reencode(m)), h, name);
    }
  });

  it('AS-REQ without pre-authentication', () => {
    const r = decodeAsReq(msg('as-req-no-preauth'));
    assert.equal(r.pvno, 5);
    assert.equal(r.msgType, 10);
    assert.deepEqual(
      r.padata?.map((p) => p.padataType),
      [150, PaDataType.REQ_ENC_PA_REP],
    );
    const b = r.reqBody;
    assert.deepEqual(b.cname, { nameType: 1, nameString: ['user'] });
    assert.equal(b.realm, 'EXAMPLE.TEST');
    assert.deepEqual(b.sname, { nameType: 2, nameString: ['krbtgt', 'EXAMPLE.TEST'] });
    assert.ok(b.etype.includes(18) && b.etype.includes(17));
    assert.ok(b.nonce >= 0 && b.nonce < 2 ** 31, 'MIT nonces are 31-bit');
    assert.equal(b.kdcOptions, flagBit(27), 'MIT kinit asks for RENEWABLE-OK only');
    assert.equal(b.till.getUTCMilliseconds(), 0);
    assert.equal(toHex(encodeKdcReqBody(b)), toHex(r.rawReqBody!));
  });

  it('KRB-ERROR PREAUTH_REQUIRED carries METHOD-DATA with ETYPE-INFO2', () => {
    const e = decodeKrbError(msg('krb-error-preauth-required'));
    assert.equal(e.errorCode, 25);
    assert.equal(e.realm, 'EXAMPLE.TEST');
    assert.deepEqual(e.sname.nameString, ['krbtgt', 'EXAMPLE.TEST']);
    assert.equal(e.stime.getUTCMilliseconds(), 0);
    assert.ok(e.eData);
    const ed = decodeKrbErrorEData(e.eData);
    assert.equal(ed.kind, 'method-data');
    if (ed.kind !== 'method-data') return;
    const types = ed.methodData.map((p) => p.padataType);
    assert.deepEqual(types, [
      PaDataType.FX_FAST,
      PaDataType.ETYPE_INFO2,
      PaDataType.ENC_TIMESTAMP,
      PaDataType.FX_COOKIE,
    ]);
    const info = decodeEtypeInfo2(ed.methodData[1]!.padataValue);
    assert.equal(info[0]!.etype, 18);
    assert.equal(info[0]!.salt, 'EXAMPLE.TESTuser');
    assert.equal(Buffer.from(info[0]!.saltBytes!).toString(), 'EXAMPLE.TESTuser');
  });

  it('KRB-ERROR principal-unknown errors', () => {
    assert.equal(decodeKrbError(msg('krb-error-c-principal-unknown')).errorCode, 6);
    const s = decodeKrbError(msg('krb-error-s-principal-unknown'));
    assert.equal(s.errorCode, 7);
    assert.equal(s.msgType, 30);
    assert.equal(decodeKrbError(msg('krb-error-preauth-failed')).errorCode, 24);
  });

  it('AS-REQ with PA-ENC-TIMESTAMP, and the AS-REP', () => {
    const r = decodeAsReq(msg('as-req-enc-timestamp'));
    const ts = r.padata?.find((p) => p.padataType === PaDataType.ENC_TIMESTAMP);
    assert.ok(ts && ts.padataValue.length > 0);
    const rep = decodeAsRep(msg('as-rep-preauth'));
    assert.equal(rep.msgType, 11);
    assert.equal(rep.crealm, 'EXAMPLE.TEST');
    assert.deepEqual(rep.cname, { nameType: 1, nameString: ['user'] });
    assert.deepEqual(rep.ticket.sname.nameString, ['krbtgt', 'EXAMPLE.TEST']);
    assert.equal(rep.encPart.etype, 18);
  });

  it('TGS-REQ carries an AP-REQ in PA-TGS-REQ that round-trips', () => {
    const r = decodeTgsReq(msg('tgs-req'));
    assert.equal(r.msgType, 12);
    assert.deepEqual(r.reqBody.sname, { nameType: 1, nameString: ['HTTP', 'localhost'] });
    const pa = r.padata?.find((p) => p.padataType === PaDataType.TGS_REQ);
    assert.ok(pa);
    const ap = decodeApReq(pa.padataValue);
    assert.equal(ap.msgType, 14);
    assert.deepEqual(ap.ticket.sname.nameString, ['krbtgt', 'EXAMPLE.TEST']);
    assert.equal(toHex(encodeApReq(ap)), toHex(pa.padataValue));
    const rep = decodeTgsRep(msg('tgs-rep'));
    assert.equal(rep.msgType, 13);
    assert.deepEqual(rep.ticket.sname.nameString, ['HTTP', 'localhost']);
  });

  it('decodeKerberosMessage dispatches on the APPLICATION tag', () => {
    assert.equal(decodeKerberosMessage(msg('as-req-first')).type, 'as-req');
    assert.equal(decodeKerberosMessage(msg('as-rep-preauth')).type, 'as-rep');
    assert.equal(decodeKerberosMessage(msg('tgs-req-2')).type, 'tgs-req');
    assert.equal(decodeKerberosMessage(msg('tgs-rep-2')).type, 'tgs-rep');
    assert.equal(decodeKerberosMessage(msg('krb-error-preauth-failed')).type, 'krb-error');
    assert.throws(() => decodeKerberosMessage(hex('7f1f00')), Asn1Error);
    assert.throws(() => decodeKerberosMessage(hex('3000')), Asn1Error);
    assert.throws(() => decodeKerberosMessage(hex('7b00')), /APPLICATION 27/);
  });

  it('typed decoders refuse the wrong message', () => {
    assert.throws(() => decodeAsRep(msg('tgs-rep')), Asn1Error);
    assert.throws(() => decodeTgsReq(msg('as-req-first')), Asn1Error);
    assert.throws(() => decodeKrbError(msg('as-rep-preauth')), Asn1Error);
  });
});
