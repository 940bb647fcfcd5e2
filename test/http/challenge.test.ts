// RFC 7235 challenge lists and the Negotiate offer in them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, SPNEGOExchangeError } from '../../src/errors.js';
import { negotiateOffer, parseChallenges } from '../../src/http/challenge.js';
import { negotiateFetch } from '../../src/http/fetch.js';
import { type NegotiateOptions, resolveOptions, targetFor } from '../../src/http/options.js';
import { base64Decode, base64Encode } from '../../src/spnego/base64.js';

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
      // Quote-aware recovery after a malformed element.
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

// Challenge-list recovery around quoted-strings, stray auth-params, the target derived
// from the URL host, and option validation at creation.
const schemes = (h: string): string[] => parseChallenges(h).map((c) => c.scheme);

describe('malformed challenge elements and quoted-strings', () => {
  it('a comma inside a quoted-string in a skipped element does not start a challenge', () => {
    // The quoted text is a parameter value; the token in it was not sent as a Negotiate challenge.
    const injected = [
      'Basic realm="x" extra="a, Negotiate YWJj, b"',
      'Foo "a, Negotiate YWJj", Bar',
      '"x, Negotiate YWJj"',
      'Basic realm=x"y, Negotiate YWJj"',
    ];
    for (const h of injected) {
      assert.equal(negotiateOffer(h).offered, false, h);
      assert.ok(!schemes(h).some((s) => s.toLowerCase() === 'negotiate'), h);
    }
    assert.deepEqual(schemes('Foo "a, Negotiate YWJj", Bar'), ['Foo', 'Bar']);
    // A real challenge after the skipped element is still found, token and all.
    const after = negotiateOffer('Foo "a, b" junk, Negotiate YWJj');
    assert.equal(after.offered, true);
    assert.deepEqual(after.token, new TextEncoder().encode('abc'));
  });

  it('a stray auth-param (name "=" value) after a token68 challenge is not a challenge', () => {
    assert.deepEqual(schemes('Negotiate YWJj, realm="x"'), ['Negotiate']);
    assert.deepEqual(schemes('Bearer abc==, negotiate=yes'), ['Bearer']);
    assert.equal(negotiateOffer('Bearer abc==, negotiate=yes').offered, false);
    assert.equal(negotiateOffer('Bearer abc==, Negotiate = "x"').offered, false);
    // …while `Negotiate` with a padded token68 is still a challenge.
    assert.equal(parseChallenges('Negotiate YQ==, Basic realm="r"')[0]?.token68, 'YQ==');
  });
});

describe('the target derived from the URL', () => {
  it('drops the trailing dot of a fully qualified host, as MIT krb5_sname_to_principal does', () => {
    assert.equal(targetFor('HTTP', new URL('http://www.example.com./'), true), 'HTTP@www.example.com');
    assert.equal(targetFor('HTTP', new URL('https://WWW.Example.COM.:8443/x'), true), 'HTTP@www.example.com');
    // After a redirect to another origin the service is asked for at the new host, also without the dot.
    assert.equal(
      targetFor('HTTP/web.example.com@EXAMPLE.COM', new URL('http://other.example.net./'), false),
      'HTTP@other.example.net',
    );
  });

  it('never puts the port in the target, and unwraps IPv6 literals', () => {
    assert.equal(targetFor('HTTP', new URL('http://web.example.com:8080/'), true), 'HTTP@web.example.com');
    assert.equal(targetFor('svc', new URL('http://[::1]:8080/'), true), 'svc@::1');
    assert.equal(targetFor('HTTP', new URL('http://127.0.0.1:81/'), true), 'HTTP@127.0.0.1');
  });
});

describe('invalid options are ConfigError BAD_OPTION at creation, with a hint', () => {
  const isBadOption = (e: unknown): boolean =>
    e instanceof ConfigError && e.code === 'BAD_OPTION' && typeof e.hint === 'string' && e.hint.length > 0;

  const invalid: Array<[string, unknown]> = [
    ['targetName: number', { targetName: 42 }],
    ['targetName: plain object', { targetName: {} }],
    [
      'targetName: principal without components',
      { targetName: { realm: 'R', name: { nameType: 2, nameString: [] } } },
    ],
    ['targetName: "HTTP@" (no host)', { targetName: 'HTTP@' }],
    ['targetName: two "@"', { targetName: 'HTTP@a@b' }],
    ['targetName: "HTTP/" (empty host)', { targetName: 'HTTP/' }],
    ['targetName: empty realm', { targetName: 'HTTP/host@' }],
    ['opportunisticAuth: "false"', { opportunisticAuth: 'false' }],
    ['sanitizeMutualErrorResponse: 0', { sanitizeMutualErrorResponse: 0 }],
    ['delegate: "yes"', { delegate: 'yes' }],
  ];

  it('resolveOptions refuses each of them', () => {
    for (const [what, o] of invalid) {
      assert.throws(() => resolveOptions(o as NegotiateOptions), isBadOption, what);
    }
    assert.throws(() => resolveOptions(null as unknown as NegotiateOptions), isBadOption, 'null options');
  });

  it('negotiateFetch refuses them when created, before any request', () => {
    let called = 0;
    const fetchImpl = async (): Promise<Response> => {
      called++;
      return new Response('');
    };
    for (const [what, o] of invalid) {
      assert.throws(() => negotiateFetch(o as NegotiateOptions, fetchImpl), isBadOption, what);
    }
    assert.equal(called, 0);
  });

  it('still accepts every documented targetName form', () => {
    for (const targetName of [
      'HTTP',
      'HTTP@web.example.com',
      'HTTP@::1',
      'HTTP/web.example.com',
      'HTTP/web.example.com@EXAMPLE.COM',
      'MSSQLSvc/db.example.com:1433@EXAMPLE.COM',
      { realm: 'EXAMPLE.COM', name: { nameType: 2, nameString: ['HTTP', 'web.example.com'] } },
    ]) {
      const r = resolveOptions({ targetName } as NegotiateOptions);
      assert.deepEqual(r.targetName, targetName);
    }
    const r = resolveOptions({ opportunisticAuth: true, sanitizeMutualErrorResponse: false });
    assert.equal(r.opportunistic, true);
    assert.equal(r.sanitize, false);
  });
});
