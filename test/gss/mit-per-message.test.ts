// Per-message tokens made by MIT krb5 1.20's GSS-API (python3-gssapi initiator and acceptor, see
// scripts/vectors/mit-gss-tokens.py): RFC 4757 tokens of an rc4-hmac context, RFC 4121 tokens of
// aes256 and camellia256 contexts. Our MessageProtection, given the context key MIT reported,
// verifies every MIC and unwraps every Wrap token, in both directions, with sequence checking on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GssError } from '../../src/krb5/gss/index.js';
import { mitTokens, mitReceiver as receiver } from './helpers.js';

const vectors = mitTokens();
const b64 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'base64'));

describe('MIT-made per-message tokens', () => {
  it('the vectors hold rc4-hmac, aes256 and camellia256 contexts with tokens both ways', () => {
    assert.deepEqual(
      vectors.contexts.map((c) => c.enctype),
      [23, 18, 26],
    );
    for (const c of vectors.contexts) assert.equal(c.tokens.length, 24);
  });

  for (const c of vectors.contexts) {
    it(`${c.service} (enctype ${c.enctype}): every MIC verifies and every Wrap unwraps, in order, both directions`, () => {
      const ours = {
        initiator: receiver(c.enctype, c.key, true),
        acceptor: receiver(c.enctype, c.key, false),
      };
      assert.equal(ours.initiator.tokenFormat, c.enctype === 23 ? 'rfc4757' : 'rfc4121');
      for (const t of c.tokens) {
        const me = ours[t.from];
        if (t.kind === 'mic') me.verifyMIC(b64(t.msg), b64(t.token));
        else assert.deepEqual(me.unwrap(b64(t.token)), { message: b64(t.msg), confidential: t.conf });
      }
    });

    it(`${c.service}: a replayed MIT token and a tampered one are refused`, () => {
      const me = receiver(c.enctype, c.key, true);
      const first = c.tokens.find((t) => t.from === 'initiator' && t.kind === 'wrap' && t.conf)!;
      me.unwrap(b64(first.token));
      assert.throws(
        () => me.unwrap(b64(first.token)),
        (e: unknown) => e instanceof GssError && e.code === 'DUPLICATE_TOKEN',
      );
      const later = c.tokens.filter((t) => t.from === 'initiator' && t.kind === 'mic').at(-1)!;
      const bad = b64(later.token);
      bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0x80;
      assert.throws(
        () => me.verifyMIC(b64(later.msg), bad),
        (e: unknown) => e instanceof GssError && e.code === 'BAD_MIC',
      );
    });
  }
});
