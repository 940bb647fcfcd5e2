// DOMAIN-X500-COMPRESS (RFC 4120 §3.3.3.2) as MIT's chk_trans.c expands it, and the realms a
// cross-realm path may run through ([capaths], else the realm hierarchy, as MIT's walk_rtree.c).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KerberosError } from '../../src/errors.js';
import { expandTransited, trustedPathRealms } from '../../src/krb5/gss/index.js';

const krbErr = (name: string) => (e: unknown) => e instanceof KerberosError && e.errorName === name;
const sorted = (a: string[]): string[] => [...a].sort();

describe('transited encoding (DOMAIN-X500-COMPRESS)', () => {
  // Cases transcribed from MIT krb5's src/lib/krb5/krb/transit-tests (expansion only).
  it('expands MIT transit-tests cases to the same realms', () => {
    const cases: [string, string, string, string[]][] = [
      [
        'ATHENA.MIT.EDU',
        'HACK.FOOBAR.COM',
        ',EDU,BLORT.COM,COM,',
        ['MIT.EDU', 'EDU', 'BLORT.COM', 'COM', 'FOOBAR.COM'],
      ],
      ['ATHENA.MIT.EDU', 'EDU', ',', ['MIT.EDU']],
      ['EDU', 'ATHENA.MIT.EDU', ',', ['MIT.EDU']],
      ['x', 'x', '/COM,/HP,/APOLLO, /COM/DEC', ['/COM', '/COM/HP', '/COM/HP/APOLLO', '/COM/DEC']],
      [
        'x',
        'x',
        'EDU,MIT.,ATHENA.,WASHINGTON.EDU,CS.',
        ['EDU', 'MIT.EDU', 'ATHENA.MIT.EDU', 'WASHINGTON.EDU', 'CS.WASHINGTON.EDU'],
      ],
      ['ATHENA.MIT.EDU', '/COM/HP/APOLLO', ',EDU, /COM,', ['EDU', 'MIT.EDU', '/COM', '/COM/HP']],
      ['ATHENA.MIT.EDU', 'CS.CMU.EDU', ',EDU,', ['EDU', 'MIT.EDU', 'CMU.EDU']],
      [
        'XYZZY.ATHENA.MIT.EDU',
        'XYZZY.CS.CMU.EDU',
        ',EDU,',
        ['EDU', 'MIT.EDU', 'ATHENA.MIT.EDU', 'CMU.EDU', 'CS.CMU.EDU'],
      ],
    ];
    for (const [c, s, t, want] of cases) assert.deepEqual(sorted(expandTransited(t, c, s)), sorted(want), t);
  });

  it('refuses lists that mix name styles or run past the bounds, with KRB_AP_ERR_ILL_CR_TKT', () => {
    assert.throws(
      () => expandTransited(',EDU,/COM,', 'ATHENA.MIT.EDU', '/COM/HP/APOLLO'),
      krbErr('KRB_AP_ERR_ILL_CR_TKT'),
    );
    assert.throws(() => expandTransited('A'.repeat(600), 'X', 'Y'), krbErr('KRB_AP_ERR_ILL_CR_TKT'));
    assert.throws(() => expandTransited('A,'.repeat(300), 'X', 'Y'), krbErr('KRB_AP_ERR_ILL_CR_TKT'));
    // A quoted comma is part of the name.
    assert.deepEqual(expandTransited('A\\,B', 'X', 'Y'), ['A,B']);
  });

  it('trusts the realms [capaths] names for the pair, else the hierarchy between the realms', () => {
    const capaths = new Map([['A.TEST', new Map([['B.TEST', ['MID.TEST']]])]]);
    assert.deepEqual(sorted([...trustedPathRealms('A.TEST', 'B.TEST', capaths)]), ['A.TEST', 'MID.TEST']);
    assert.deepEqual(sorted([...trustedPathRealms('A.EXAMPLE.COM', 'B.EXAMPLE.COM', undefined)]), [
      'A.EXAMPLE.COM',
      'EXAMPLE.COM',
    ]);
    assert.deepEqual(sorted([...trustedPathRealms('EXAMPLE.COM', 'OTHER.ORG', undefined)]), [
      'COM',
      'EXAMPLE.COM',
      'ORG',
    ]);
    assert.deepEqual([...trustedPathRealms('A.EXAMPLE.COM', 'EXAMPLE.COM', undefined)], ['A.EXAMPLE.COM']);
  });
});
