// Hostile WWW-Authenticate values: the inputs and check shared by the property test (CI) and
// `npm run fuzz`.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SPNEGOExchangeError } from '../../src/errors.js';
import { negotiateOffer, parseChallenges } from '../../src/http/challenge.js';

/** Real-looking header values: several schemes, quoting, token68 padding, joined headers. */
export const challengeSeeds = [
  'Negotiate',
  'Negotiate YIIBXwYJKoZIhvcSAQICAQBuggFOMIIBSqADAgEFoQMCAQ6iBwMFACAAAACjggFh',
  'Basic realm="a, b", charset=UTF-8',
  'Basic realm="x", Negotiate YWJj==, Bearer realm=r, error="invalid_token" , NTLM',
  'Negotiate oRQwEqADCgEAoQsGCSqGSIb3EgECAg==, Negotiate oRQwEqADCgEAoQsGCSqGSIb3EgECAg==',
  'Digest realm="r", qop="auth,auth-int", nonce="abc\\"def", opaque=xyz, Negotiate',
  ', ,Negotiate  ,\tBasic realm=r',
];

// Characters that steer the parser: separators, quoting, escapes, base64 and token characters.
const steering = fc.constantFrom(
  ',',
  ' ',
  '\t',
  '"',
  '\\',
  '=',
  '==',
  'Negotiate',
  'Negotiate ',
  'Basic realm=',
  'a',
  'Z',
  '0',
  '+',
  '/',
  '-',
  '.',
  '~',
  '(',
  ';',
  '\u00e9',
  '\u0000',
);

const edit = fc.record({
  at: fc.nat(),
  cut: fc.integer({ min: 0, max: 6 }),
  insert: fc.string({ unit: steering, maxLength: 4 }),
});

/** Random steering text, or a seed header with up to five edits. */
export const challengeInput: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc.string({ unit: fc.oneof(steering, fc.string({ maxLength: 1 })), maxLength: 120 }),
    weight: 1,
  },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...challengeSeeds), fc.array(edit, { minLength: 1, maxLength: 5 }))
      .map(([s, es]) =>
        es.reduce((t, e) => {
          const at = t.length === 0 ? 0 : e.at % (t.length + 1);
          return t.slice(0, at) + e.insert + t.slice(at + e.cut);
        }, s),
      ),
    weight: 3,
  },
);

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The check for one value: parseChallenges returns well-formed challenges (schemes are tokens,
 * token68 has its grammar); negotiateOffer returns or throws SPNEGOExchangeError, nothing else.
 */
export function challengeCheck(value: string): void {
  for (const c of parseChallenges(value)) {
    assert.match(c.scheme, TCHAR, 'scheme is a token');
    if (c.token68 !== undefined) assert.match(c.token68, /^[A-Za-z0-9\-._~+/]+=*$/, 'token68 grammar');
    for (const [name] of c.params) assert.match(name, TCHAR, 'auth-param name is a token');
  }
  try {
    const offer = negotiateOffer(value);
    assert.equal(typeof offer.offered, 'boolean');
  } catch (e) {
    if (!(e instanceof SPNEGOExchangeError)) {
      throw new Error(`negotiateOffer threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
  }
}
