// RFC 7235 challenge lists and the Negotiate offer in them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SPNEGOExchangeError } from '../../src/errors.js';
import { base64Decode, base64Encode } from '../../src/http/base64.js';
import { negotiateOffer, parseChallenges } from '../../src/http/challenge.js';

describe('parseChallenges', () => {
  it('reads a bare scheme, a token68 and auth-params', () => {
    assert.deepEqual(parseChallenges('Negotiate'), [{ scheme: 'Negotiate', params: [] }]);
    assert.deepEqual(parseChallenges('Negotiate YWJj'), [
      { scheme: 'Negotiate', token68: 'YWJj', params: [] },
    ]);
    assert.deepEqual(parseChallenges('Negotiate YWI='), [
      { scheme: 'Negotiate', token68: 'YWI=', params: [] },
    ]);
    assert.deepEqual(parseChallenges('Basic realm="a, b", charset=UTF-8'), [
      {
        scheme: 'Basic',
        params: [
          ['realm', 'a, b'],
          ['charset', 'UTF-8'],
        ],
      },
    ]);
  });

  it('splits comma-separated challenges, telling params from the next scheme', () => {
    const c = parseChallenges(
      'Basic realm="x", Negotiate YWJj==, Bearer realm=r, error="invalid_token" , NTLM',
    );
    assert.deepEqual(
      c.map((x) => [x.scheme, x.token68 ?? null, x.params]),
      [
        ['Basic', null, [['realm', 'x']]],
        ['Negotiate', 'YWJj==', []],
        [
          'Bearer',
          null,
          [
            ['realm', 'r'],
            ['error', 'invalid_token'],
          ],
        ],
        ['NTLM', null, []],
      ],
    );
  });

  it('handles empty list elements, tabs, escapes in quoted strings and BWS around =', () => {
    const c = parseChallenges(' ,, Digest\trealm = "a\\"b" ,  ,Negotiate');
    assert.deepEqual(c, [
      { scheme: 'Digest', params: [['realm', 'a"b']] },
      { scheme: 'Negotiate', params: [] },
    ]);
  });

  it('skips malformed pieces up to the next comma and keeps the rest', () => {
    const c = parseChallenges('Foo bar baz, "oops", Basic realm="unterminated, Negotiate');
    assert.deepEqual(
      c.map((x) => x.scheme),
      ['Foo', 'Basic'],
    );
    assert.deepEqual(parseChallenges('Foo bar baz, Negotiate YQ==').at(-1), {
      scheme: 'Negotiate',
      token68: 'YQ==',
      params: [],
    });
  });
});

describe('negotiateOffer', () => {
  it('finds Negotiate case-insensitively across joined headers, with or without a token', () => {
    assert.deepEqual(negotiateOffer('Basic realm="x", negotiate'), { offered: true });
    const o = negotiateOffer('Basic realm="x", NEGOTIATE YWJj');
    assert.equal(o.offered, true);
    assert.deepEqual(o.token, new TextEncoder().encode('abc'));
    assert.deepEqual(negotiateOffer('Basic realm="Negotiate"'), { offered: false });
    assert.deepEqual(negotiateOffer(null), { offered: false });
    assert.deepEqual(negotiateOffer('NegotiateX abc'), { offered: false });
  });

  it('bad base64 is a typed SPNEGOExchangeError, never a crash', () => {
    for (const bad of [
      'Negotiate a',
      'Negotiate ab-c',
      'Negotiate abc_',
      'Negotiate ab===',
      'Negotiate a.b~',
      'Negotiate Y===',
      'Negotiate YQ===',
    ]) {
      assert.throws(
        () => negotiateOffer(bad),
        (e: unknown) => e instanceof SPNEGOExchangeError && e.code === 'BAD_TOKEN_ENCODING',
        bad,
      );
    }
  });

  it('refuses two different Negotiate tokens, accepts the same one twice', () => {
    assert.throws(
      () => negotiateOffer('Negotiate YWJj, Negotiate YWJk'),
      (e: unknown) => e instanceof SPNEGOExchangeError && e.code === 'AMBIGUOUS_CHALLENGE',
    );
    assert.equal(negotiateOffer('Negotiate YWJj, Negotiate YWJj').token?.length, 3);
  });

  it('parses a 1 MB adversarial header in linear time (generous bound)', () => {
    const MB = 1 << 20;
    const fill = (unit: string): string => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);
    const inputs = [
      fill(','),
      fill(' '),
      fill('a'),
      fill('a='),
      fill('='),
      fill('/'),
      fill('a, '),
      fill('x=y, '),
      fill('x ='),
      `Basic realm="${fill('\\"')}`,
      `Negotiate ${fill('A')}`,
      `Basic ${fill('a=b,')}`,
      fill('Negotiate ,'),
      fill('"'),
      // Quote-aware recovery after a malformed element (review-challenge2).
      fill('a "'),
      `Foo ${fill('"\\')}`,
      fill('x"a,"'),
      `Foo x${fill('",')}`,
    ];
    for (const input of inputs) {
      const t0 = performance.now();
      try {
        negotiateOffer(input);
      } catch (e) {
        assert.ok(e instanceof SPNEGOExchangeError, String(e));
      }
      const ms = performance.now() - t0;
      assert.ok(ms < 2000, `${JSON.stringify(input.slice(0, 20))}…: ${ms.toFixed(0)} ms`);
    }
  });
});

describe('base64', () => {
  it('round-trips every length and decodes unpadded input', () => {
    const bytes = new Uint8Array(300).map((_, i) => (i * 37 + 11) & 0xff);
    for (let n = 0; n < 40; n++) {
      const b = bytes.subarray(0, n);
      const text = base64Encode(b);
      assert.equal(text, Buffer.from(b).toString('base64'));
      assert.deepEqual(base64Decode(text), b);
      assert.deepEqual(base64Decode(text.replace(/=+$/, '')), b);
    }
  });
});
