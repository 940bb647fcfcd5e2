import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeKerberosFlags,
  decodeKerberosTime,
  decodePrincipalName,
  decodeRealm,
  encodeKerberosFlags,
  encodeKerberosTime,
  encodeRealm,
  flagBit,
  MAX_DEPTH,
  MAX_ELEMENTS,
  parseDer,
  readInt32,
  readMicroseconds,
  readOid,
  readUInt32,
  root,
  writeInt32,
  writeInteger,
  writeOid,
  writeUInt32,
} from '../../src/asn1/index.js';
import { Asn1Error, SpnegoError } from '../../src/errors.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function rejects(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof Asn1Error, `expected Asn1Error, got ${String(err)}`);
    assert.equal(err.code, 'ASN1_DECODE');
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

describe('strict DER TLV reader', () => {
  it('parses a nested structure into views', () => {
    const n = parseDer(hex('3006 a004 0202 0102'), 'X');
    assert.equal(n.tag, 16);
    assert.equal(n.children.length, 1);
    assert.equal(n.children[0]!.cls, 2);
    assert.equal(toHex(n.children[0]!.children[0]!.content), '0102');
  });

  it('rejects an indefinite length', () => {
    rejects(() => parseDer(hex('3080 0201 05 0000'), 'X'), /indefinite/);
  });

  it('rejects a long-form length below 128', () => {
    rejects(() => parseDer(hex('0481 03 616263'), 'X'), /non-minimal length/);
  });

  it('rejects a long-form length with a leading zero octet', () => {
    const body = new Uint8Array(200);
    const bad = new Uint8Array([0x04, 0x82, 0x00, 0xc8, ...body]);
    rejects(() => parseDer(bad, 'X'), /non-minimal length/);
  });

  it('accepts a minimal long-form length', () => {
    const n = parseDer(new Uint8Array([0x04, 0x81, 0x80, ...new Uint8Array(128)]), 'X');
    assert.equal(n.content.length, 128);
  });

  it('rejects trailing bytes after the element', () => {
    rejects(() => parseDer(hex('020105 00'), 'X'), /trailing/);
  });

  it('rejects a length larger than the bytes remaining (inner and outer)', () => {
    rejects(() => parseDer(hex('0405 6162'), 'X'), /exceeds/);
    rejects(() => parseDer(hex('3004 0405 6162'), 'X'), /exceeds/);
  });

  it('rejects a 4 GiB declared length without allocating it', () => {
    const before = process.memoryUsage().arrayBuffers;
    rejects(() => parseDer(hex('04 84 ffffffff 00'), 'X'), /exceeds/);
    rejects(() => parseDer(hex('04 85 01ffffffff 00'), 'X'), /too large/);
    assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20);
  });

  it('rejects truncated input at every cut of a valid message', () => {
    const ok = hex('3009 a003 020105 a102 0500');
    parseDer(ok, 'X');
    for (let i = 0; i < ok.length; i++) rejects(() => parseDer(ok.subarray(0, i), 'X'));
  });

  it('bounds nesting depth (depth bomb)', () => {
    // 10_000 nested definite-length [0] wrappers: a recursive parser would overflow the stack.
    let bomb = hex('0500');
    for (let i = 0; i < 10_000; i++) {
      const n = bomb.length;
      const len =
        n < 128
          ? [n]
          : n < 256
            ? [0x81, n]
            : n < 65536
              ? [0x82, n >> 8, n & 0xff]
              : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
      const next = new Uint8Array(1 + len.length + n);
      next[0] = 0xa0;
      next.set(len, 1);
      next.set(bomb, 1 + len.length);
      bomb = next;
    }
    rejects(() => parseDer(bomb, 'X'), /nesting deeper/);
    // A definite-length bomb just past the limit.
    let inner = hex('0500');
    for (let i = 0; i < MAX_DEPTH + 1; i++) {
      inner = new Uint8Array([
        0x30,
        ...(inner.length < 128 ? [inner.length] : [0x81, inner.length]),
        ...inner,
      ]);
    }
    rejects(() => parseDer(inner, 'X'), /nesting deeper/);
  });

  it('bounds the number of elements', () => {
    const n = MAX_ELEMENTS + 1;
    const body = new Uint8Array(n * 2).fill(0).map((_, i) => (i % 2 === 0 ? 0x05 : 0x00));
    const len = body.length;
    const der = new Uint8Array([0x30, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff, ...body]);
    rejects(() => parseDer(der, 'X'), /more than/);
    const ok = new Uint8Array([0x30, 0x82, 0x07, 0xd0, ...body.subarray(0, 2000)]);
    assert.equal(parseDer(ok, 'X').children.length, 1000);
  });

  it('rejects BER constructed strings, EOC and primitive SEQUENCE', () => {
    rejects(() => parseDer(hex('2405 0403 616263'), 'X'), /primitive/);
    rejects(() => parseDer(hex('1000'), 'X'), /constructed/);
    rejects(() => parseDer(hex('0000'), 'X'), /end-of-contents/);
  });

  it('BOOLEAN must be 0x00 or 0xFF', () => {
    parseDer(hex('0101ff'), 'X');
    parseDer(hex('010100'), 'X');
    rejects(() => parseDer(hex('010101'), 'X'), /BOOLEAN/);
    rejects(() => parseDer(hex('01020000'), 'X'), /BOOLEAN/);
  });

  it('INTEGER must be minimal and non-empty', () => {
    rejects(() => parseDer(hex('0200'), 'X'), /empty INTEGER/);
    rejects(() => parseDer(hex('02020005'), 'X'), /non-minimal INTEGER/);
    rejects(() => parseDer(hex('0202ff80'), 'X'), /non-minimal INTEGER/);
    parseDer(hex('02020080'), 'X');
    parseDer(hex('0202ff7f'), 'X');
  });

  it('names the field path in errors', () => {
    // name-string holds an INTEGER instead of a GeneralString.
    assert.throws(
      () => decodePrincipalName(hex('300d a003 020101 a106 3004 02020100')),
      (e: unknown) => e instanceof Asn1Error && e.field === 'PrincipalName.name-string[0]',
    );
  });
});

describe('INTEGER ranges', () => {
  const dec = (b: string) => root(hex(b), 'n');
  it('Int32 bounds', () => {
    assert.equal(readInt32(dec('020480000000')), -2147483648);
    assert.equal(readInt32(dec('02047fffffff')), 2147483647);
    rejects(() => readInt32(dec('02050080000000')), /Int32 out of range/);
    rejects(() => readInt32(dec('0205ff7fffffff')), /Int32 out of range/);
  });

  it('UInt32 takes MIT 5-octet form and wraps negative (AD kvno) to uint32', () => {
    assert.equal(readUInt32(dec('020500ffffffff')), 0xffffffff);
    assert.equal(readUInt32(dec('020500f0000000')), 0xf0000000);
    assert.equal(readUInt32(dec('0201ff')), 0xffffffff);
    assert.equal(readUInt32(dec('020480000000')), 0x80000000);
    rejects(() => readUInt32(dec('0205010000000000'.slice(0, 14))), /UInt32 out of range/);
    rejects(() => readUInt32(dec('0209010000000000000000')), /out of range/);
  });

  it('Microseconds 0..999999', () => {
    assert.equal(readMicroseconds(dec('02030f423f')), 999999);
    rejects(() => readMicroseconds(dec('02030f4240')), /Microseconds/);
    rejects(() => readMicroseconds(dec('0201ff')), /Microseconds/);
  });

  it('encodes minimal two-complement INTEGERs and checks ranges', () => {
    const cases: [number, string][] = [
      [0, '020100'],
      [127, '02017f'],
      [128, '02020080'],
      [256, '02020100'],
      [-1, '0201ff'],
      [-128, '020180'],
      [-129, '0202ff7f'],
      [0xffffffff, '020500ffffffff'],
      [-2147483648, '020480000000'],
    ];
    for (const [v, h] of cases) assert.equal(toHex(writeInteger(v)), h, String(v));
    assert.throws(
      () => writeInt32(2 ** 31),
      (e: unknown) => e instanceof SpnegoError && e.code === 'ASN1_ENCODE',
    );
    assert.throws(
      () => writeUInt32(-1),
      (e: unknown) => e instanceof SpnegoError && e.code === 'ASN1_ENCODE',
    );
    assert.throws(
      () => writeInteger(1.5),
      (e: unknown) => e instanceof SpnegoError && e.code === 'ASN1_ENCODE',
    );
  });
});

describe('KerberosTime', () => {
  it('round-trips YYYYMMDDHHMMSSZ', () => {
    const der = hex('180f 32303236313132383132313833355a');
    const d = decodeKerberosTime(der);
    assert.equal(d.toISOString(), '2026-11-28T12:18:35.000Z');
    assert.equal(toHex(encodeKerberosTime(d)), toHex(der));
  });

  it('truncates milliseconds on encode (whole seconds only)', () => {
    const enc = encodeKerberosTime(new Date('2026-01-02T03:04:05.999Z'));
    assert.equal(Buffer.from(enc.subarray(2)).toString(), '20260102030405Z');
  });

  it('rejects fractional seconds, local time, offsets and bad calendar values', () => {
    const t = (s: string) => {
      const b = Buffer.from(s);
      return new Uint8Array([0x18, b.length, ...b]);
    };
    rejects(() => decodeKerberosTime(t('20260102030405.5Z')), /YYYYMMDDHHMMSSZ/);
    rejects(() => decodeKerberosTime(t('20260102030405')), /YYYYMMDDHHMMSSZ/);
    rejects(() => decodeKerberosTime(t('20260102030405+0100')), /YYYYMMDDHHMMSSZ/);
    rejects(() => decodeKerberosTime(t('2026010203040Z')), /YYYYMMDDHHMMSSZ/);
    rejects(() => decodeKerberosTime(t('2026013203040 Z'.replace(' ', '5'))), /calendar/);
    rejects(() => decodeKerberosTime(t('20260230000000Z')), /calendar/);
    rejects(() => decodeKerberosTime(t('20261302030405Z')), /calendar/);
    rejects(() => decodeKerberosTime(t('20260102246060Z')), /calendar/);
    rejects(() => decodeKerberosTime(t('2026O102030405Z')), /non-digit/);
  });

  it('rejects an invalid Date on encode', () => {
    assert.throws(
      () => encodeKerberosTime(new Date(Number.NaN)),
      (e: unknown) => e instanceof SpnegoError && e.code === 'ASN1_ENCODE',
    );
  });
});

describe('KerberosFlags', () => {
  it('encodes 32 bits with 0 unused like MIT; RFC bit n is 1 << (31 - n)', () => {
    // forwardable(1) | renewable(8) | initial(9) | pre-authent(10) = 0x40e10000 per MIT ccache
    const v = (flagBit(1) | flagBit(8) | flagBit(9) | flagBit(10)) >>> 0;
    assert.equal(v, 0x40e00000);
    assert.equal(toHex(encodeKerberosFlags(v)), '03050040e00000');
    assert.equal(decodeKerberosFlags(hex('03050040e00000')), 0x40e00000);
    assert.equal(toHex(encodeKerberosFlags(0x80000000)), '03050080000000');
  });

  it('pads shorter and truncates longer bit strings', () => {
    assert.equal(decodeKerberosFlags(hex('03020040')), 0x40000000);
    assert.equal(decodeKerberosFlags(hex('030100')), 0);
    assert.equal(decodeKerberosFlags(hex('0307 00 01020304 0506')), 0x01020304);
  });

  it('rejects bad unused-bit counts and non-zero padding bits', () => {
    rejects(() => decodeKerberosFlags(hex('0300')), /empty BIT STRING/);
    rejects(() => decodeKerberosFlags(hex('030108')), /unused/);
    rejects(() => decodeKerberosFlags(hex('030107')), /unused/);
    rejects(() => decodeKerberosFlags(hex('03020141')), /padding/);
  });
});

describe('KerberosString (GeneralString)', () => {
  it('writes UTF-8 bytes verbatim and decodes them', () => {
    const enc = encodeRealm('ÉXAMPLE.TEST');
    assert.equal(toHex(enc), `1b0d${Buffer.from('ÉXAMPLE.TEST').toString('hex')}`);
    assert.equal(decodeRealm(enc), 'ÉXAMPLE.TEST');
  });

  it('rejects invalid UTF-8 with Asn1Error', () => {
    rejects(() => decodeRealm(hex('1b02c328')), /UTF-8/);
    rejects(() => decodeRealm(hex('1b01ff')), /UTF-8/);
  });

  it('does not strip a leading BOM', () => {
    assert.equal(decodeRealm(hex('1b04efbbbf41')), '\ufeffA');
  });

  it('rejects other string types in its place', () => {
    rejects(() => decodeRealm(hex('0c0141')), /expected UNIVERSAL 27/);
  });
});

describe('OBJECT IDENTIFIER', () => {
  it('round-trips and matches known DER', () => {
    assert.equal(toHex(writeOid('1.2.840.113554.1.2.2')), '06092a864886f712010202');
    assert.equal(toHex(writeOid('1.3.6.1.5.5.2')), '06062b0601050502');
    assert.equal(readOid(root(hex('06092a864886f712010202'), 'o')), '1.2.840.113554.1.2.2');
    assert.equal(readOid(root(hex('060a2b06010401823702020a'), 'o')), '1.3.6.1.4.1.311.2.2.10');
  });

  it('rejects non-minimal arcs, truncation and empty content', () => {
    rejects(() => readOid(root(hex('0603 2a8001'), 'o')), /non-minimal/);
    rejects(() => readOid(root(hex('0602 2a86'), 'o')), /truncated/);
    rejects(() => readOid(root(hex('0600'), 'o')), /empty/);
  });

  it('refuses malformed dotted strings on encode', () => {
    for (const bad of ['', '1', '1.', '3.1', '1.40', '1.2.03', 'a.b']) {
      assert.throws(
        () => writeOid(bad),
        (e: unknown) => e instanceof SpnegoError && e.code === 'ASN1_ENCODE',
        bad,
      );
    }
  });
});
