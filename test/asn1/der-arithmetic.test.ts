// OBJECT IDENTIFIER arcs and INTEGER content octets: src/asn1/der.ts converts them itself (no
// runtime ASN.1 library). Checked against X.690's own examples, the OIDs the package uses, exact
// big values, and — as a property — against asn1js (a devDependency only) wherever asn1js is
// exact (arcs and integers within 2^53).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as asn1js from 'asn1js';
import fc from 'fast-check';
import {
  bigIntegerContent,
  MAX_OID_ARC_OCTETS,
  oidContent,
  oidFromContent,
  readInteger,
  readOid,
  root,
  writeInteger,
  writeOid,
} from '../../src/asn1/index.js';
import { Asn1Error, SpnegoError } from '../../src/errors.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const isDecodeError = (e: unknown): boolean => e instanceof Asn1Error && e.code === 'ASN1_DECODE';
const isEncodeError = (e: unknown): boolean => e instanceof SpnegoError && e.code === 'ASN1_ENCODE';

describe('OBJECT IDENTIFIER arcs', () => {
  it('X.690 §8.19.5 example: {2 100 3} is 06 03 81 34 03', () => {
    assert.equal(toHex(writeOid('2.100.3')), '0603813403');
    assert.equal(readOid(root(hex('0603813403'), 'o')), '2.100.3');
  });

  it('encodes the OIDs the package uses as MIT and Windows send them', () => {
    // Bytes as they appear in MIT krb5 (gssapi_krb5.c, spnego_mech.c) and MS-NLMP.
    const known: [string, string][] = [
      ['1.2.840.113554.1.2.2', '2a864886f712010202'], // krb5 mechanism (RFC 1964)
      ['1.2.840.48018.1.2.2', '2a864882f712010202'], // Microsoft's legacy krb5 OID
      ['1.3.6.1.5.5.2', '2b0601050502'], // SPNEGO (RFC 4178)
      ['1.3.6.1.4.1.311.2.2.10', '2b06010401823702020a'], // NTLMSSP
      ['1.2.840.113554.1.2.2.3', '2a864886f71201020203'], // krb5 user-to-user
      ['1.3.6.1.5.2.5', '2b0601050205'], // GSS_KRB5_NT_PRINCIPAL_NAME family
      ['1.2.840.113554.1.2.1.1', '2a864886f71201020101'], // GSS_C_NT_USER_NAME
    ];
    for (const [oid, content] of known) {
      assert.equal(toHex(oidContent(oid)), content, oid);
      assert.equal(oidFromContent(hex(content), 'o'), oid, oid);
    }
  });

  it('splits the first subidentifier into the first two arcs (0, 1, 2.x with x ≥ 40)', () => {
    assert.equal(oidFromContent(hex('00'), 'o'), '0.0');
    assert.equal(oidFromContent(hex('27'), 'o'), '0.39');
    assert.equal(oidFromContent(hex('28'), 'o'), '1.0');
    assert.equal(oidFromContent(hex('4f'), 'o'), '1.39');
    assert.equal(oidFromContent(hex('50'), 'o'), '2.0');
    assert.equal(oidFromContent(hex('8837'), 'o'), '2.999');
    assert.equal(toHex(oidContent('2.999')), '8837');
    assert.equal(toHex(oidContent('0.0')), '00');
  });

  it('is exact beyond 2^53 (the 128-bit UUID arcs of 2.25, X.667)', () => {
    const uuidOid = '2.25.329800735698586629295641978511506172918';
    const c = oidContent(uuidOid);
    assert.equal(toHex(c), '6983f09da7ebcfdee0c7a1a7b2c0948cc8f9d776');
    assert.equal(oidFromContent(c, 'o'), uuidOid);
    const big = '1.2.9007199254740993'; // 2^53 + 1: a double would round it
    assert.equal(oidFromContent(oidContent(big), 'o'), big);
    assert.equal(toHex(oidContent('1.2.18446744073709551615')), '2a81ffffffffffffffff7f');
    const huge = `2.${(2n ** 64n).toString()}`;
    assert.equal(oidFromContent(oidContent(huge), 'o'), huge);
  });

  it(`refuses an arc longer than ${MAX_OID_ARC_OCTETS} octets on both sides`, () => {
    const long = `2a${'ff'.repeat(MAX_OID_ARC_OCTETS)}7f`;
    assert.throws(
      () => oidFromContent(hex(long), 'o'),
      (e: unknown) => isDecodeError(e) && /too large/.test(String(e)),
    );
    const fits = `2a${'ff'.repeat(MAX_OID_ARC_OCTETS - 1)}7f`;
    assert.match(oidFromContent(hex(fits), 'o'), /^1\.2\.\d+$/);
    assert.throws(() => oidContent(`1.2.${'9'.repeat(50)}`), isEncodeError);
  });

  it('rejects non-minimal arcs anywhere, truncation and empty content', () => {
    for (const bad of ['80', '8001', '2a8001', '2a06808101', '2a86', '2aff', '']) {
      assert.throws(() => oidFromContent(hex(bad), 'o'), isDecodeError, bad);
    }
  });

  it("property: our encoding is asn1js's, and decoding inverts it (arcs within 2^53)", () => {
    const oidArb = fc
      .tuple(
        fc.constantFrom(0, 1, 2),
        fc.nat({ max: 2 ** 40 }),
        fc.array(fc.oneof(fc.nat({ max: 200 }), fc.nat({ max: Number.MAX_SAFE_INTEGER })), { maxLength: 12 }),
      )
      .map(([a, b, rest]) => [a, a < 2 ? b % 40 : b, ...rest].join('.'));
    fc.assert(
      fc.property(oidArb, (oid) => {
        const ours = oidContent(oid);
        const ref = new Uint8Array(new asn1js.ObjectIdentifier({ value: oid }).valueBlock.toBER(false));
        assert.equal(toHex(ours), toHex(ref), oid);
        assert.equal(oidFromContent(ours, 'o'), oid);
        const dec = new asn1js.ObjectIdentifier();
        dec.valueBlock.fromBER(ours, 0, ours.length);
        assert.equal(dec.valueBlock.toString(), oid);
      }),
      { numRuns: RUNS },
    );
  });

  it('property: exact round trip for arcs of any size up to the bound', () => {
    const arc = fc.bigInt({ min: 0n, max: 2n ** 139n });
    fc.assert(
      fc.property(fc.constantFrom(0n, 1n, 2n), arc, fc.array(arc, { maxLength: 6 }), (a, b, rest) => {
        const second = a < 2n ? b % 40n : b;
        const oid = [a, second, ...rest].join('.');
        assert.equal(oidFromContent(oidContent(oid), 'o'), oid);
      }),
      { numRuns: RUNS },
    );
  });

  it('property: any content either decodes to an OID that re-encodes to the same bytes, or is an Asn1Error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        let s: string;
        try {
          s = oidFromContent(bytes, 'o');
        } catch (e) {
          assert.ok(isDecodeError(e), String(e));
          return;
        }
        assert.equal(toHex(oidContent(s)), toHex(bytes));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('INTEGER content octets', () => {
  it("X.690 §8.3 minimal two's complement, small and big, positive and negative", () => {
    const cases: [bigint, string][] = [
      [0n, '00'],
      [127n, '7f'],
      [128n, '0080'],
      [-128n, '80'],
      [-129n, 'ff7f'],
      [256n, '0100'],
      [2n ** 32n, '0100000000'],
      [-(2n ** 40n), 'ff0000000000'],
      [2n ** 53n - 1n, '1fffffffffffff'],
      [-(2n ** 53n - 1n), 'e0000000000001'],
      [2n ** 63n, '008000000000000000'],
      [-(2n ** 63n), '8000000000000000'],
      [2n ** 64n, '010000000000000000'],
      [-(2n ** 64n), 'ff0000000000000000'],
    ];
    for (const [v, h] of cases) assert.equal(toHex(bigIntegerContent(v)), h, String(v));
  });

  it('writeInteger beyond 32 bits: safe integers only; the reader takes up to 6 octets back', () => {
    for (const v of [2 ** 32, -(2 ** 31) - 1, 2 ** 40 + 5, -(2 ** 47), 2 ** 47 - 1]) {
      assert.equal(readInteger(root(writeInteger(v), 'i')), v, String(v));
    }
    assert.equal(toHex(writeInteger(Number.MAX_SAFE_INTEGER)), '02071fffffffffffff');
    assert.equal(toHex(writeInteger(Number.MIN_SAFE_INTEGER)), '0207e0000000000001');
    assert.throws(() => readInteger(root(writeInteger(2 ** 48), 'i')), isDecodeError);
    assert.throws(() => writeInteger(2 ** 53), isEncodeError);
  });

  it('property: matches asn1js for every safe integer and bigint', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }), fc.bigInt({ min: -300n, max: 300n })),
        (v) => {
          const ours = bigIntegerContent(v);
          assert.equal(toHex(ours), toHex(asn1js.Integer.fromBigInt(v).valueBlock.valueHexView), String(v));
        },
      ),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (v) => {
        const content = writeInteger(v).subarray(2);
        assert.equal(toHex(content), toHex(asn1js.Integer.fromBigInt(v).valueBlock.valueHexView), String(v));
      }),
      { numRuns: RUNS },
    );
  });
});
