// Per-message token readers under fuzzing: RFC 4757 (rc4-hmac) and RFC 4121 (camellia, AES)
// MIC and Wrap tokens — ours and MIT's (test/vectors/gss/mit-per-message.json), randomly edited —
// and Camellia decryption of random ciphertexts. Each input either verifies or fails with a
// GssError / CryptoError code; never a RangeError, never more bytes out than in. Every input is a
// full cryptographic check, so a tenth of PROPERTY_RUNS cases are run per reader.
import { describe, it } from 'node:test';
import { decrypt, encrypt, generateRandomKey, type Key, makeKey } from '../../src/crypto/index.js';
import { MessageProtection } from '../../src/krb5/gss/index.js';
import { mitTokens } from '../gss/helpers.js';
import { checkDecoder, PROPERTY_RUNS } from './fuzz-helpers.js';

const RUNS = Math.max(100, Math.floor(PROPERTY_RUNS / 10));
const GSS_CODES = [
  'DEFECTIVE_TOKEN',
  'BAD_MIC',
  'DUPLICATE_TOKEN',
  'OLD_TOKEN',
  'UNSEQ_TOKEN',
  'UNSUPPORTED_PER_MESSAGE',
];
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function receiver(initiatorKey: Key, acceptorKey: Key | undefined): MessageProtection {
  return new MessageProtection({
    isAcceptor: true,
    initiatorKey,
    acceptorKey,
    sendSeq: 0,
    recvSeq: 0,
    replayDetection: true,
    sequenceDetection: true,
  });
}

describe(`per-message token readers under fuzzing (${RUNS} cases each)`, () => {
  const mit = mitTokens().contexts;
  for (const c of mit) {
    const key = makeKey(c.enctype, Buffer.from(c.key, 'hex'));
    const rc4 = c.enctype === 23;
    const fromInitiator = c.tokens.filter((t) => t.from === 'initiator');
    const seeds = fromInitiator.map((t) => Uint8Array.from(Buffer.from(t.token, 'base64')));
    const make = () => (rc4 ? receiver(key, undefined) : receiver(generateRandomKey(c.enctype), key));
    it(`MIT ${c.service} (enctype ${c.enctype}) Wrap and MIC tokens, edited`, () => {
      checkDecoder(`unwrap ${c.enctype}`, (b) => make().unwrap(b), seeds, GSS_CODES, RUNS);
      checkDecoder(`verifyMIC ${c.enctype}`, (b) => make().verifyMIC(enc('a'), b), seeds, GSS_CODES, RUNS);
    });
  }

  for (const enctype of [23, 25, 26]) {
    it(`our enctype ${enctype} tokens, edited`, () => {
      const ik = generateRandomKey(enctype);
      const ak = enctype === 23 ? undefined : generateRandomKey(enctype);
      const sender = new MessageProtection({
        isAcceptor: false,
        initiatorKey: ik,
        acceptorKey: ak,
        sendSeq: 1,
        recvSeq: 1,
        replayDetection: true,
        sequenceDetection: true,
      });
      const seeds = [
        sender.wrap(enc('fuzz me'), true),
        sender.wrap(enc('fuzz me too'), false),
        sender.wrap(new Uint8Array(0), true),
        sender.getMIC(enc('fuzz me')),
      ];
      checkDecoder(`unwrap ${enctype}`, (b) => receiver(ik, ak).unwrap(b), seeds, GSS_CODES, RUNS);
    });
  }

  for (const enctype of [25, 26]) {
    it(`Camellia decrypt (enctype ${enctype}) of edited and random ciphertexts`, () => {
      const key = generateRandomKey(enctype);
      const seeds = [enc(''), enc('a'), new Uint8Array(100)].map((p) => encrypt(key, 5, p));
      checkDecoder(`decrypt ${enctype}`, (b) => decrypt(key, 5, b), seeds, ['INTEGRITY', 'BAD_LENGTH'], RUNS);
    });
  }
});
