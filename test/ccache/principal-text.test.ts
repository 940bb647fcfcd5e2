import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePrincipal, principalsEqual, unparsePrincipal } from '../../src/ccache/principal-text.js';
import { CredentialsError } from '../../src/errors.js';

test('unparse escapes / @ \\ and control characters in components and realm, as MIT', () => {
  const p = {
    realm: 'A/B@C',
    name: { nameType: 1, nameString: ['x/y', 'a@b', 'c\\d', 'e\tf\ng\b\0', 'g:h'] },
  };
  assert.equal(unparsePrincipal(p), 'x\\/y/a\\@b/c\\\\d/e\\tf\\ng\\b\\0/g:h@A\\/B\\@C');
});

test('parse is the inverse of unparse', () => {
  for (const comps of [['user'], ['HTTP', 'host.example'], ['a/b', '@', '\\', '\t\n\b\0', ''], ['x', '']]) {
    const p = { realm: 'R@/\\', name: { nameType: 1, nameString: comps } };
    const again = parsePrincipal(unparsePrincipal(p));
    assert.deepEqual(again.name.nameString, comps);
    assert.equal(again.realm, p.realm);
  }
});

test('krbtgt/REALM gets NT-SRV-INST, other names NT-PRINCIPAL', () => {
  assert.equal(parsePrincipal('krbtgt/A@A').name.nameType, 2);
  assert.equal(parsePrincipal('HTTP/h@A').name.nameType, 1);
  assert.equal(parsePrincipal('krbtgt@A').name.nameType, 1);
});

test('default realm fills in a missing realm; no realm at all is an error', () => {
  assert.equal(parsePrincipal('user', 'EXAMPLE.TEST').realm, 'EXAMPLE.TEST');
  for (const bad of ['user', 'a@', 'a@b@c', 'trailing\\']) {
    assert.throws(
      () => parsePrincipal(bad),
      (e: unknown) => e instanceof CredentialsError && e.code === 'PRINCIPAL_NAME',
    );
  }
});

test('principalsEqual ignores name types but not realm or components', () => {
  const a = parsePrincipal('krbtgt/X@X');
  assert.ok(principalsEqual(a, { realm: 'X', name: { nameType: 1, nameString: ['krbtgt', 'X'] } }));
  assert.ok(!principalsEqual(a, parsePrincipal('krbtgt/X@Y')));
  assert.ok(!principalsEqual(a, parsePrincipal('krbtgt/X/Z@X')));
});
