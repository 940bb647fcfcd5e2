// RFC 4757 §7 per-message tokens of rc4-hmac contexts (MIC 01 01, Wrap 02 01), between our
// initiator and acceptor protection states: layout, both directions, with and without
// confidentiality, sequence checks, and hostile input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OID_MS_KRB5 } from '../../src/asn1/index.js';
import { generateRandomKey, type Key } from '../../src/crypto/index.js';
import { SpnegoError } from '../../src/errors.js';
import { GssError, MessageProtection } from '../../src/krb5/gss/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const isGss = (code: string) => (e: unknown) => e instanceof GssError && e.code === code;

function pair(
  o: { acceptorKey?: Key; detection?: boolean; oid?: string; iniSeq?: number; accSeq?: number } = {},
) {
  const initiatorKey = generateRandomKey(23);
  const common = {
    initiatorKey,
    acceptorKey: o.acceptorKey,
    replayDetection: o.detection ?? true,
    sequenceDetection: o.detection ?? true,
    ...(o.oid ? { oid: o.oid } : {}),
  };
  const iniSeq = o.iniSeq ?? 100;
  const accSeq = o.accSeq ?? 7000;
  return {
    key: initiatorKey,
    ini: new MessageProtection({ ...common, isAcceptor: false, sendSeq: iniSeq, recvSeq: accSeq }),
    acc: new MessageProtection({ ...common, isAcceptor: true, sendSeq: accSeq, recvSeq: iniSeq }),
  };
}

/** The token inside its RFC 2743 framing: 60 len 06 09 <krb5 OID> then TOK_ID. */
function inner(token: Uint8Array): Uint8Array {
  assert.equal(token[0], 0x60);
  const lenBytes = (token[1] ?? 0) & 0x80 ? (token[1] ?? 0) & 0x7f : 0;
  const start = 2 + lenBytes;
  assert.equal(token[start], 0x06);
  return token.subarray(start + 2 + (token[start + 1] ?? 0));
}

describe('rc4-hmac per-message tokens (RFC 4757 §7)', () => {
  it('an rc4-hmac context speaks RFC 4757 tokens; an acceptor subkey of the same enctype is ignored as MIT does', () => {
    assert.equal(pair().ini.tokenFormat, 'rfc4757');
    const { ini, acc } = pair({ acceptorKey: generateRandomKey(23) });
    assert.equal(ini.tokenFormat, 'rfc4757');
    acc.verifyMIC(enc('m'), ini.getMIC(enc('m')));
    // An AES acceptor subkey replaces an rc4 initiator key, and RFC 4121 tokens follow.
    assert.equal(pair({ acceptorKey: generateRandomKey(18) }).ini.tokenFormat, 'rfc4121');
  });

  it('MIC: 01 01, SGN_ALG 11 00, filler FF FF FF FF, 24 octets; verified both ways', () => {
    const { ini, acc } = pair();
    const m = ini.getMIC(enc('hello'));
    const t = inner(m);
    assert.equal(t.length, 24);
    assert.deepEqual([...t.subarray(0, 8)], [1, 1, 0x11, 0, 0xff, 0xff, 0xff, 0xff]);
    acc.verifyMIC(enc('hello'), m);
    const back = acc.getMIC(enc(''));
    ini.verifyMIC(enc(''), back);
  });

  it('Wrap with confidentiality: SEAL_ALG 10 00, confounder + data + one pad octet, data not in clear', () => {
    const { ini, acc } = pair();
    const secret = enc('a secret that must not show');
    const w = ini.wrap(secret, true);
    const t = inner(w);
    assert.deepEqual([...t.subarray(0, 8)], [2, 1, 0x11, 0, 0x10, 0, 0xff, 0xff]);
    assert.equal(t.length, 24 + 8 + secret.length + 1);
    assert.ok(!Buffer.from(w).includes(Buffer.from('secret')));
    assert.deepEqual(acc.unwrap(w), { message: secret, confidential: true });
    const reply = acc.wrap(enc('reply'), true);
    assert.deepEqual(ini.unwrap(reply), { message: enc('reply'), confidential: true });
  });

  it('Wrap without confidentiality: SEAL_ALG FF FF, data in clear after the confounder, pad 01', () => {
    const { ini, acc } = pair();
    const w = acc.wrap(enc('visible'), false);
    const t = inner(w);
    assert.deepEqual([...t.subarray(0, 8)], [2, 1, 0x11, 0, 0xff, 0xff, 0xff, 0xff]);
    assert.equal(Buffer.from(t.subarray(32, 39)).toString(), 'visible');
    assert.equal(t[t.length - 1], 1);
    assert.deepEqual(ini.unwrap(w), { message: enc('visible'), confidential: false });
    assert.deepEqual(acc.unwrap(ini.wrap(new Uint8Array(0), false)), {
      message: new Uint8Array(0),
      confidential: false,
    });
  });

  it('frames tokens with the mechanism OID the context used (the Microsoft alias too); unframed tokens are read as MIT reads them', () => {
    const { ini, acc } = pair({ oid: OID_MS_KRB5 });
    const m = ini.getMIC(enc('x'));
    // 1.2.840.48018.1.2.2: 06 09 2a 86 48 82 f7 12 01 02 02
    assert.deepEqual([...m.subarray(2, 13)], [6, 9, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 1, 2, 2]);
    acc.verifyMIC(enc('x'), m);
    acc.verifyMIC(enc('y'), inner(ini.getMIC(enc('y'))));
    assert.deepEqual(acc.unwrap(inner(ini.wrap(enc('z'), true))).message, enc('z'));
  });

  it('tampering anywhere, a wrong key, or a reflected token is refused with a typed error', () => {
    const { ini, acc } = pair();
    const w = ini.wrap(enc('payload'), true);
    const offset = w.length - inner(w).length;
    for (let i = offset + 8; i < w.length; i++) {
      const bad = w.slice();
      bad[i] = (bad[i] ?? 0) ^ 0x01;
      assert.throws(() => acc.unwrap(bad), isGss('BAD_MIC'), `octet ${i}`);
    }
    const mic = ini.getMIC(enc('m'));
    assert.throws(() => acc.verifyMIC(enc('M'), mic), isGss('BAD_MIC'));
    // Our own tokens sent back to us: the direction octets give them away.
    assert.throws(() => ini.verifyMIC(enc('m'), mic), isGss('DEFECTIVE_TOKEN'));
    assert.throws(() => ini.unwrap(w), isGss('DEFECTIVE_TOKEN'));
    const other = pair();
    assert.throws(() => other.acc.unwrap(w), isGss('BAD_MIC'));
  });

  it('sequence numbers: replays and late tokens are refused, out of order accepted without detection', () => {
    const { ini, acc } = pair();
    const a = ini.wrap(enc('a'), true);
    const b = ini.getMIC(enc('b'));
    acc.verifyMIC(enc('b'), b);
    assert.throws(() => acc.unwrap(a), isGss('UNSEQ_TOKEN'));
    assert.throws(() => acc.verifyMIC(enc('b'), b), isGss('DUPLICATE_TOKEN'));
    const loose = pair({ detection: false });
    const x = loose.ini.wrap(enc('x'), false);
    const y = loose.ini.wrap(enc('y'), false);
    assert.deepEqual(loose.acc.unwrap(y).message, enc('y'));
    assert.deepEqual(loose.acc.unwrap(x).message, enc('x'));
  });

  it('the 32-bit sequence number wraps to 0 after 2^32 - 1 (as MIT masks it), and the checks follow it', () => {
    const { ini, acc } = pair({ iniSeq: 0xfffffffe });
    const tokens = [1, 2, 3, 4].map((n) => ini.getMIC(enc(String(n))));
    acc.verifyMIC(enc('1'), tokens[0]!);
    acc.verifyMIC(enc('2'), tokens[1]!);
    acc.verifyMIC(enc('4'), tokens[3]!); // seq 1: after the wrap, skipping 0
    assert.throws(() => acc.verifyMIC(enc('4'), tokens[3]!), isGss('DUPLICATE_TOKEN'));
    assert.throws(() => acc.verifyMIC(enc('3'), tokens[2]!), isGss('UNSEQ_TOKEN'));
    assert.throws(() => acc.verifyMIC(enc('1'), tokens[0]!), isGss('DUPLICATE_TOKEN'));
  });

  it('padding longer than the plaintext is a bad checksum, not an exception', () => {
    const { key, acc } = pair();
    const { ini } = {
      ini: new MessageProtection({
        isAcceptor: false,
        initiatorKey: key,
        acceptorKey: undefined,
        sendSeq: 100,
        recvSeq: 7000,
        replayDetection: true,
        sequenceDetection: true,
      }),
    };
    const w = ini.wrap(enc('ab'), false);
    const bad = w.slice();
    bad[bad.length - 1] = 200;
    assert.throws(() => acc.unwrap(bad), isGss('BAD_MIC'));
  });

  it('truncated, empty, oversized-length and random tokens fail with GssError codes, never a RangeError', () => {
    const { ini, acc } = pair();
    const w = ini.wrap(enc('some data'), true);
    const m = ini.getMIC(enc('some data'));
    const inputs: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.of(0x60),
      Uint8Array.of(2, 1),
      Uint8Array.of(0x60, 0x84, 0xff, 0xff, 0xff, 0xff),
    ];
    for (let n = 0; n < w.length; n += 3) inputs.push(w.subarray(0, n));
    for (let n = 0; n < m.length; n += 2) inputs.push(m.subarray(0, n));
    for (let i = 0; i < 300; i++) inputs.push(crypto.getRandomValues(new Uint8Array(1 + (i % 64))));
    for (const t of inputs) {
      for (const op of [() => acc.unwrap(t), () => acc.verifyMIC(enc('some data'), t)]) {
        assert.throws(
          op,
          (e: unknown) => e instanceof SpnegoError && typeof (e as SpnegoError).code === 'string',
        );
      }
    }
    // A MIC presented as a Wrap token (and the reverse) is defective.
    assert.throws(() => acc.unwrap(m), isGss('DEFECTIVE_TOKEN'));
    assert.throws(() => acc.verifyMIC(enc('x'), w), isGss('DEFECTIVE_TOKEN'));
  });
});
