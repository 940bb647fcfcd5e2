import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ContextFlag,
  decodeGssToken,
  decodeNegotiationToken,
  encodeGssToken,
  encodeMechTypeList,
  encodeNegTokenInit,
  encodeNegTokenResp,
  OID_KRB5,
  OID_KRB5_USER2USER,
  OID_MS_KRB5,
  OID_NTLMSSP,
  OID_SPNEGO,
} from '../../src/asn1/index.js';
import { Asn1Error } from '../../src/errors.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Hand-assembled from RFC 2743 §3.1 + RFC 4178 §4.2.1: SPNEGO-framed NegTokenInit offering
// Kerberos and Microsoft's Kerberos OID with an optimistic mechToken 01 02.
const INIT = hex(`
  602c 06062b0601050502
  a022 3020
    a018 3016 06092a864886f712010202 06092a864882f712010202
    a204 0402 0102`);
// negTokenResp { negState accept-completed, supportedMech krb5 }
const RESP = hex('a114 3012 a0030a0100 a10b 06092a864886f712010202');

describe('GSS-API InitialContextToken framing (RFC 2743 §3.1)', () => {
  it('frames and unframes a krb5 token whose inner part is not a TLV', () => {
    const inner = hex('0100 6e00');
    const t = encodeGssToken(OID_KRB5, inner);
    assert.equal(toHex(t), '600f06092a864886f71201020201006e00');
    assert.deepEqual(decodeGssToken(t), { oid: OID_KRB5, inner });
  });

  it('uses a long-form length for large tokens', () => {
    const inner = new Uint8Array(300).fill(0xaa);
    const t = encodeGssToken(OID_KRB5, inner);
    assert.equal(toHex(t.subarray(0, 4)), `6082${(300 + 11).toString(16).padStart(4, '0')}`);
    assert.deepEqual(decodeGssToken(t).inner, inner);
  });

  it('rejects a wrong tag, trailing bytes, truncation, bad lengths and a missing OID', () => {
    const t = encodeGssToken(OID_KRB5, hex('0100'));
    assert.throws(() => decodeGssToken(hex('300b06092a864886f712010202')), /APPLICATION 0/);
    assert.throws(() => decodeGssToken(new Uint8Array([...t, 0])), /trailing/);
    assert.throws(() => decodeGssToken(t.subarray(0, t.length - 1)), Asn1Error);
    assert.throws(() => decodeGssToken(hex('6080 06092a864886f712010202 0000')), /indefinite/);
    assert.throws(() => decodeGssToken(hex('6084ffffffff')), /exceeds/);
    assert.throws(() => decodeGssToken(hex('6003 040100')), /OBJECT IDENTIFIER/);
    assert.throws(() => decodeGssToken(hex('6003 060a2a')), Asn1Error);
    assert.throws(() => decodeGssToken(new Uint8Array(0)), Asn1Error);
  });

  it('knows the mechanism OIDs', () => {
    assert.equal(OID_SPNEGO, '1.3.6.1.5.5.2');
    assert.equal(OID_MS_KRB5, '1.2.840.48018.1.2.2');
    assert.equal(OID_KRB5_USER2USER, '1.2.840.113554.1.2.2.3');
    assert.equal(OID_NTLMSSP, '1.3.6.1.4.1.311.2.2.10');
  });
});

describe('SPNEGO (RFC 4178 §4.2)', () => {
  it('encodes the framed NegTokenInit', () => {
    assert.equal(
      toHex(encodeNegTokenInit({ mechTypes: [OID_KRB5, OID_MS_KRB5], mechToken: hex('0102') })),
      toHex(INIT),
    );
  });

  it('decodes a framed NegTokenInit and exposes the MechTypeList DER for the mechListMIC', () => {
    const t = decodeNegotiationToken(INIT);
    assert.equal(t.kind, 'init');
    if (t.kind !== 'init') return;
    assert.deepEqual(t.mechTypes, [OID_KRB5, OID_MS_KRB5]);
    assert.deepEqual(t.mechToken, hex('0102'));
    assert.equal(t.reqFlags, undefined);
    assert.equal(toHex(t.mechTypesDer!), toHex(encodeMechTypeList([OID_KRB5, OID_MS_KRB5])));
  });

  it('accepts an unframed NegTokenInit', () => {
    const t = decodeNegotiationToken(decodeGssToken(INIT).inner);
    assert.equal(t.kind, 'init');
  });

  it('NegTokenResp round-trips', () => {
    const t = decodeNegotiationToken(RESP);
    assert.deepEqual(t, { kind: 'resp', negState: 'accept-completed', supportedMech: OID_KRB5 });
    assert.equal(
      toHex(encodeNegTokenResp({ negState: 'accept-completed', supportedMech: OID_KRB5 })),
      toHex(RESP),
    );
    const full = {
      negState: 'request-mic' as const,
      supportedMech: OID_MS_KRB5,
      responseToken: hex('6f00'),
      mechListMIC: hex('0404'),
    };
    assert.deepEqual(decodeNegotiationToken(encodeNegTokenResp(full)), { kind: 'resp', ...full });
    assert.deepEqual(decodeNegotiationToken(encodeNegTokenResp({})), { kind: 'resp' });
    for (const s of ['accept-incomplete', 'reject'] as const) {
      assert.deepEqual(decodeNegotiationToken(encodeNegTokenResp({ negState: s })), {
        kind: 'resp',
        negState: s,
      });
    }
  });

  it('rejects an unknown negState, a framed NegTokenResp and a non-SPNEGO framing', () => {
    assert.throws(() => decodeNegotiationToken(hex('a107 3005 a0030a0104')), /negState/);
    assert.throws(() => decodeNegotiationToken(encodeGssToken(OID_SPNEGO, RESP)), /never GSS-framed/);
    assert.throws(
      () => decodeNegotiationToken(encodeGssToken(OID_KRB5, decodeGssToken(INIT).inner)),
      /not SPNEGO/,
    );
    assert.throws(() => decodeNegotiationToken(hex('a200')), /negTokenInit or/);
    assert.throws(() => decodeNegotiationToken(new Uint8Array([...RESP, 0])), /trailing/);
  });

  it('ignores unknown extension fields (the ... in RFC 4178)', () => {
    const withExt = hex('a11b 3019 a0030a0100 a10b 06092a864886f712010202 a505 0403 010203');
    assert.deepEqual(decodeNegotiationToken(withExt), {
      kind: 'resp',
      negState: 'accept-completed',
      supportedMech: OID_KRB5,
    });
  });

  it('reqFlags use the DER named-bit form (trailing zero bits dropped) and decode at any length', () => {
    const v = { mechTypes: [OID_KRB5], reqFlags: ContextFlag.MUTUAL | ContextFlag.INTEG };
    const der = encodeNegTokenInit(v);
    assert.ok(toHex(der).includes('a104030201' + '42'));
    const t = decodeNegotiationToken(der);
    assert.equal(t.kind === 'init' && t.reqFlags, (ContextFlag.MUTUAL | ContextFlag.INTEG) >>> 0);
    const z = decodeNegotiationToken(encodeNegTokenInit({ mechTypes: [OID_KRB5], reqFlags: 0 }));
    assert.equal(z.kind === 'init' && z.reqFlags, 0);
    const deleg = decodeNegotiationToken(
      encodeNegTokenInit({ mechTypes: [OID_KRB5], reqFlags: ContextFlag.DELEG }),
    );
    assert.equal(deleg.kind === 'init' && deleg.reqFlags, 0x80000000);
  });

  it('mechListMIC at [3] (RFC 4178) and NegTokenInit2 negHints at [3] with mechListMIC at [4] (MS-SPNG)', () => {
    const a = decodeNegotiationToken(encodeNegTokenInit({ mechTypes: [OID_KRB5], mechListMIC: hex('aabb') }));
    assert.ok(a.kind === 'init');
    assert.deepEqual(a.mechListMIC, hex('aabb'));
    assert.equal(a.negHints, undefined);
    const hints = { hintName: 'not_defined_in_RFC4178@please_ignore' };
    const der = encodeNegTokenInit({
      mechTypes: [OID_MS_KRB5, OID_KRB5, OID_NTLMSSP],
      negHints: hints,
      mechListMIC: hex('cc'),
    });
    assert.ok(toHex(der).includes('a3'));
    const b = decodeNegotiationToken(der);
    assert.ok(b.kind === 'init');
    assert.deepEqual(b.negHints, hints);
    assert.deepEqual(b.mechListMIC, hex('cc'));
    assert.deepEqual(b.mechTypes, [OID_MS_KRB5, OID_KRB5, OID_NTLMSSP]);
  });

  it('encodeMechTypeList is the DER SEQUENCE OF OID', () => {
    assert.equal(toHex(encodeMechTypeList([OID_KRB5])), '300b06092a864886f712010202');
    assert.equal(toHex(encodeMechTypeList([])), '3000');
  });
});
