// Wrap tokens shaped as Windows SSPI sends them, read the way MIT reads them.
//
// RFC 4121 §4.2.5 lets a sender rotate the Wrap token's data right by RRC octets, and §4.2.4 says
// the encrypted copy of the header carries RRC = 0. Windows differs from the letter: MS-KILE
// §3.4.5.4.1 (GSS_WrapEx) rotates by RRC = 28 with confidentiality for AES (the 16-octet encrypted
// header copy plus the 12-octet HMAC, so the trailer sits right after the header) and RRC = 12
// without, and SSPI writes that RRC into the encrypted header copy as well. MIT's unwrap
// (src/lib/gssapi/krb5/unwrap.c, verify_enc_header) checks every field of the copy but RRC. The
// tokens below are MIT-made (test/vectors/gss/mit-per-message.json) and ours, re-shaped as SSPI
// shapes them: rotated, and with the RRC put into the encrypted copy (re-encrypted with the
// context key, as SSPI encrypts it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checksumSize,
  checksumTypeFor,
  decrypt,
  encrypt,
  generateRandomKey,
  type Key,
  makeKey,
} from '../../src/crypto/index.js';
import { GssError, KeyUsage, MessageProtection } from '../../src/krb5/gss/index.js';
import { mitReceiver, mitTokens } from './helpers.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const b64 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'base64'));

/** Rotates the data after the 16-octet header right by `rrc` and writes RRC into the header. */
function rotate(token: Uint8Array, rrc: number): Uint8Array {
  const body = token.subarray(16);
  const r = rrc % body.length;
  const out = new Uint8Array(token.length);
  out.set(token.subarray(0, 16));
  out.set(body.subarray(body.length - r), 16);
  out.set(body.subarray(0, body.length - r), 16 + r);
  out[6] = rrc >>> 8;
  out[7] = rrc & 0xff;
  return out;
}

/** Decrypts a sealed token, sets the encrypted header copy's RRC (and EC filler), re-encrypts. */
function sspiCopy(token: Uint8Array, key: Key, usage: number, rrc: number, extraEc = 0): Uint8Array {
  const pt = decrypt(key, usage, token.subarray(16));
  const copy = pt.slice(pt.length - 16);
  const msg = pt.subarray(0, pt.length - 16);
  const ec = ((copy[4] ?? 0) << 8) + (copy[5] ?? 0) + extraEc;
  copy[4] = ec >>> 8;
  copy[5] = ec & 0xff;
  copy[6] = rrc >>> 8;
  copy[7] = rrc & 0xff;
  const plain = new Uint8Array(msg.length + extraEc + 16);
  plain.set(msg);
  plain.set(copy, msg.length + extraEc);
  const header = token.slice(0, 16);
  header[4] = ec >>> 8;
  header[5] = ec & 0xff;
  const c = encrypt(key, usage, plain);
  const out = new Uint8Array(16 + c.length);
  out.set(header);
  out.set(c, 16);
  return out;
}

const isGss = (code: string) => (e: unknown) => e instanceof GssError && e.code === code;

describe('Wrap tokens as Windows SSPI sends them (MS-KILE §3.4.5.4.1, RFC 4121 §4.2.5)', () => {
  const vectors = mitTokens();
  for (const ctx of vectors.contexts.filter((c) => c.enctype !== 23)) {
    const key = makeKey(ctx.enctype, Buffer.from(ctx.key, 'hex'));
    const mac = checksumSize(checksumTypeFor(ctx.enctype));
    const wraps = ctx.tokens.filter((t) => t.from === 'initiator' && t.kind === 'wrap');

    it(`${ctx.service}: MIT-made sealed tokens rotated by RRC = 16 + MAC (${16 + mac}), RRC also in the encrypted copy`, () => {
      const me = mitReceiver(ctx.enctype, ctx.key, true);
      for (const t of wraps) {
        let token = b64(t.token);
        if (t.conf) token = rotate(sspiCopy(token, key, KeyUsage.INITIATOR_SEAL, 16 + mac), 16 + mac);
        else token = rotate(token, mac);
        assert.deepEqual(me.unwrap(token), { message: b64(t.msg), confidential: t.conf });
      }
    });

    it(`${ctx.service}: a non-zero RRC in the encrypted copy alone (unrotated token) is ignored, as MIT ignores it`, () => {
      const me = mitReceiver(ctx.enctype, ctx.key, true);
      const t = wraps.find((w) => w.conf)!;
      const token = sspiCopy(b64(t.token), key, KeyUsage.INITIATOR_SEAL, 28);
      assert.deepEqual(me.unwrap(token).message, b64(t.msg));
    });

    it(`${ctx.service}: DCE-style filler — EC octets of padding, RRC = EC + 16 + MAC — unwraps`, () => {
      const me = mitReceiver(ctx.enctype, ctx.key, true);
      const t = wraps.find((w) => w.conf)!;
      const rrc = 16 + 16 + mac;
      const token = rotate(sspiCopy(b64(t.token), key, KeyUsage.INITIATOR_SEAL, rrc, 16), rrc);
      assert.deepEqual(me.unwrap(token).message, b64(t.msg));
    });
  }

  it('our own AES tokens, rotated by RRC = 28 and 12 as SSPI rotates them, unwrap; other copy fields still must match', () => {
    for (const enctype of [17, 18, 19, 20, 25, 26]) {
      const ik = generateRandomKey(enctype);
      const opts = {
        initiatorKey: ik,
        acceptorKey: undefined,
        replayDetection: true,
        sequenceDetection: true,
      };
      const ini = new MessageProtection({ ...opts, isAcceptor: false, sendSeq: 1, recvSeq: 9 });
      const acc = new MessageProtection({ ...opts, isAcceptor: true, sendSeq: 9, recvSeq: 1 });
      const mac = checksumSize(checksumTypeFor(enctype));
      const sealed = rotate(
        sspiCopy(ini.wrap(enc('to a Windows peer'), true), ik, KeyUsage.INITIATOR_SEAL, 16 + mac),
        16 + mac,
      );
      assert.deepEqual(acc.unwrap(sealed).message, enc('to a Windows peer'));
      assert.deepEqual(acc.unwrap(rotate(ini.wrap(enc('integrity'), false), mac)).message, enc('integrity'));
      // The copy's EC (or sequence number) differing from the clear header is still refused.
      const t = ini.wrap(enc('x'), true);
      const pt = decrypt(ik, KeyUsage.INITIATOR_SEAL, t.subarray(16));
      pt[pt.length - 16 + 15] = (pt[pt.length - 16 + 15] ?? 0) ^ 1;
      const forged = new Uint8Array([...t.subarray(0, 16), ...encrypt(ik, KeyUsage.INITIATOR_SEAL, pt)]);
      assert.throws(() => acc.unwrap(rotate(forged, 16 + mac)), isGss('BAD_MIC'));
    }
  });
});
