// RFC 4121 §4.2 MIC and Wrap tokens between an initiator and an acceptor protection state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateRandomKey } from '../../src/crypto/index.js';
import { GssError, MessageProtection, TokenFlag } from '../../src/krb5/gss/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function pair(enctype: number, acceptorSubkey: boolean, detection = true) {
  const ik = generateRandomKey(enctype);
  const ak = acceptorSubkey ? generateRandomKey(enctype) : undefined;
  const common = {
    initiatorKey: ik,
    acceptorKey: ak,
    replayDetection: detection,
    sequenceDetection: detection,
  };
  return {
    ini: new MessageProtection({ ...common, isAcceptor: false, sendSeq: 100, recvSeq: 5000 }),
    acc: new MessageProtection({ ...common, isAcceptor: true, sendSeq: 5000, recvSeq: 100 }),
  };
}

const isGss = (code: string) => (e: unknown) => e instanceof GssError && e.code === code;

describe('per-message tokens (RFC 4121 §4.2)', () => {
  for (const enctype of [17, 18, 19, 20, 25, 26]) {
    for (const sub of [true, false]) {
      it(`enctype ${enctype}, ${sub ? 'acceptor subkey' : 'initiator subkey'}: MIC and Wrap both ways`, () => {
        const { ini, acc } = pair(enctype, sub);
        const mic = ini.getMIC(enc('a'));
        assert.deepEqual(
          [...mic.subarray(0, 8)],
          [4, 4, sub ? TokenFlag.ACCEPTOR_SUBKEY : 0, 255, 255, 255, 255, 255],
        );
        acc.verifyMIC(enc('a'), mic);
        const w = acc.wrap(enc('secret'), true);
        assert.equal(
          w[2],
          TokenFlag.SENT_BY_ACCEPTOR | TokenFlag.SEALED | (sub ? TokenFlag.ACCEPTOR_SUBKEY : 0),
        );
        assert.deepEqual(ini.unwrap(w), { message: enc('secret'), confidential: true });
        const plain = ini.wrap(enc('visible'), false);
        assert.ok(Buffer.from(plain).includes(Buffer.from('visible')));
        assert.deepEqual(acc.unwrap(plain), { message: enc('visible'), confidential: false });
      });
    }
  }

  it('reads Wrap tokens rotated by any RRC (as Windows sends them)', () => {
    for (const conf of [true, false]) {
      for (const rrc of [1, 28, 1000]) {
        const { ini, acc } = pair(18, true);
        const t = ini.wrap(enc('rotate me'), conf);
        const body = t.subarray(16);
        const r = rrc % body.length;
        const rotated = new Uint8Array(t.length);
        rotated.set(t.subarray(0, 16));
        rotated.set(body.subarray(body.length - r), 16);
        rotated.set(body.subarray(0, body.length - r), 16 + r);
        rotated[6] = rrc >>> 8;
        rotated[7] = rrc & 0xff;
        assert.deepEqual(acc.unwrap(rotated).message, enc('rotate me'));
      }
    }
  });

  it('refuses tampering, reflection, replays and late tokens', () => {
    const { ini, acc } = pair(18, true);
    const mic = ini.getMIC(enc('m'));
    assert.throws(() => acc.verifyMIC(enc('M'), mic), isGss('BAD_MIC'));
    const w = ini.wrap(enc('x'), true);
    const bad = w.slice();
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
    assert.throws(() => acc.unwrap(bad), isGss('BAD_MIC'));
    const integ = ini.wrap(enc('y'), false);
    const badInteg = integ.slice();
    badInteg[16] = (badInteg[16] ?? 0) ^ 1;
    assert.throws(() => acc.unwrap(badInteg), isGss('BAD_MIC'));
    // Our own token sent back to us (reflection).
    assert.throws(() => ini.unwrap(w), isGss('DEFECTIVE_TOKEN'));
    acc.unwrap(w);
    assert.throws(() => acc.unwrap(w), isGss('DUPLICATE_TOKEN'));
    const late = ini.wrap(enc('1'), true);
    acc.unwrap(ini.wrap(enc('2'), true));
    assert.throws(() => acc.unwrap(late), isGss('UNSEQ_TOKEN'));
    assert.throws(() => acc.unwrap(Uint8Array.of(5, 4, 0)), isGss('DEFECTIVE_TOKEN'));
    assert.throws(() => acc.verifyMIC(enc('m'), Uint8Array.of(4, 4)), isGss('DEFECTIVE_TOKEN'));
  });

  it('without replay/sequence detection, out-of-order tokens are accepted', () => {
    const { ini, acc } = pair(17, false, false);
    const a = ini.wrap(enc('a'), true);
    const b = ini.wrap(enc('b'), true);
    assert.deepEqual(acc.unwrap(b).message, enc('b'));
    assert.deepEqual(acc.unwrap(a).message, enc('a'));
  });

  it('an RFC 4121 token naming an rc4-hmac key is UNSUPPORTED_PER_MESSAGE, not a crash', () => {
    // An AES initiator key with an rc4-hmac acceptor subkey: the context speaks RFC 4757 tokens, so
    // an RFC 4121 token claiming the initiator's AES key is fine, but one claiming the acceptor
    // subkey names a key RFC 4121 cannot use.
    const ik = generateRandomKey(18);
    const acc = new MessageProtection({
      isAcceptor: true,
      initiatorKey: ik,
      acceptorKey: generateRandomKey(18),
      sendSeq: 0,
      recvSeq: 0,
      replayDetection: true,
      sequenceDetection: true,
    });
    const weird = new MessageProtection({
      isAcceptor: false,
      initiatorKey: generateRandomKey(23),
      acceptorKey: ik,
      sendSeq: 0,
      recvSeq: 0,
      replayDetection: true,
      sequenceDetection: true,
    });
    assert.equal(weird.tokenFormat, 'rfc4121');
    const t = acc.wrap(enc('x'), true);
    t[2] = (t[2] ?? 0) & ~TokenFlag.ACCEPTOR_SUBKEY;
    assert.throws(() => weird.unwrap(t), isGss('UNSUPPORTED_PER_MESSAGE'));
  });
});
