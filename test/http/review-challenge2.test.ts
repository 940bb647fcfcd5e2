// Review: challenge-list recovery around quoted-strings, stray auth-params, the target derived
// from the URL host, and option validation at creation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { negotiateOffer, parseChallenges } from '../../src/http/challenge.js';
import { negotiateFetch } from '../../src/http/fetch.js';
import { type NegotiateOptions, resolveOptions, targetFor } from '../../src/http/options.js';

const schemes = (h: string): string[] => parseChallenges(h).map((c) => c.scheme);

describe('review: malformed challenge elements and quoted-strings', () => {
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

describe('review: the target derived from the URL', () => {
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

describe('review: invalid options are ConfigError BAD_OPTION at creation, with a hint', () => {
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
