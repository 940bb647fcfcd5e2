import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { ProfileSection, parseProfile, parseProfileInto } from '../../src/krb5/profile.js';

function syntaxErrorAt(text: string, where: string): void {
  assert.throws(
    () => parseProfile(text, { path: 'k.conf' }),
    (e: unknown) =>
      e instanceof ConfigError && e.code === 'CONFIG_SYNTAX' && e.message.startsWith(`k.conf:${where}:`),
  );
}

describe('profile syntax (MIT krb5.conf "Structure")', () => {
  it('reads sections, relations and nested subsections', () => {
    const p = parseProfile(
      '[libdefaults]\n  default_realm = EXAMPLE.COM\n[realms]\n  EXAMPLE.COM = {\n    kdc = a\n    sub = {\n      x = 1\n    }\n  }\n',
    );
    assert.equal(p.get(['libdefaults', 'default_realm']), 'EXAMPLE.COM');
    assert.equal(p.get(['realms', 'EXAMPLE.COM', 'kdc']), 'a');
    assert.equal(p.get(['realms', 'EXAMPLE.COM', 'sub', 'x']), '1');
    assert.deepEqual(p.sectionNames(['realms']), ['EXAMPLE.COM']);
  });

  it('keeps every value of a repeated key, in order, with its line', () => {
    const p = parseProfile('[r]\nk = 1\nother = x\nk = 2\n[r]\nk = 3\n', { path: 'f' });
    assert.deepEqual(p.getAll(['r', 'k']), ['1', '2', '3']);
    assert.deepEqual(
      p.getValues(['r', 'k']).map((v) => `${v.file}:${v.line}`),
      ['f:2', 'f:4', 'f:6'],
    );
  });

  it('treats # and ; as comments only at the start of a line (after blanks)', () => {
    const p = parseProfile('[a]\n  # c\n\t; c\nk = v # not a comment\n');
    assert.equal(p.get(['a', 'k']), 'v # not a comment');
    assert.deepEqual(p.relationNames(['a']), ['k']);
  });

  it('trims blanks around unquoted values; quoted values keep them and honour escapes', () => {
    const p = parseProfile('[a]\nk =    spaced value   \t\nq = "  a\\tb\\nc\\\\d\\"e"  ignored\nu = "open\n');
    assert.equal(p.get(['a', 'k']), 'spaced value');
    assert.equal(p.get(['a', 'q']), '  a\tb\nc\\d"e');
    assert.equal(p.get(['a', 'u']), 'open');
  });

  it('ignores everything before the first line starting with [', () => {
    const p = parseProfile('junk without equals\nmodule x:y\n  [indented]\nk = v\n[s]\nk = w\n');
    assert.deepEqual(p.sectionNames([]), ['s']);
    assert.equal(p.get(['s', 'k']), 'w');
  });

  it('accepts `name =` with { on the next line, and CRLF line ends', () => {
    const p = parseProfile('[realms]\r\nR = \r\n  {\r\n kdc = h\r\n }\r\n');
    assert.equal(p.get(['realms', 'R', 'kdc']), 'h');
  });

  it('`{` followed by text is an ordinary value, as in MIT', () => {
    assert.equal(parseProfile('[a]\nR = { x\n').get(['a', 'R']), '{ x');
  });

  it('a file may end inside an open block, as MIT allows', () => {
    const p = parseProfile('[realms]\nR = {\n kdc = h\n');
    assert.equal(p.get(['realms', 'R', 'kdc']), 'h');
  });

  it('reports syntax errors with file:line', () => {
    syntaxErrorAt('[a]\nno equals here\n', '2');
    syntaxErrorAt('[a]\n= value\n', '2');
    syntaxErrorAt('[a]\nfoo bar = x\n', '2');
    syntaxErrorAt('[a]\nk = v\n}\n', '3');
    syntaxErrorAt('[a\n', '1');
    syntaxErrorAt('[a] trailing\n', '1');
    syntaxErrorAt('[a]\nR = {\n[b]\n', '3');
    syntaxErrorAt('[a]\nR =\nk = v\n', '3');
  });

  it('bounds block nesting', () => {
    const deep = `[a]\n${'k = {\n'.repeat(40)}`;
    syntaxErrorAt(deep, '34');
  });

  it('a final section ignores later blocks of the same name', () => {
    const p = parseProfile('[libdefaults]*\nx = 1\n[libdefaults]\nx = 2\ny = 3\n');
    assert.deepEqual(p.getAll(['libdefaults', 'x']), ['1']);
    assert.equal(p.get(['libdefaults', 'y']), undefined);
  });

  it('a final relation (`name* = v`) takes no later values', () => {
    const p = parseProfile('[a]\nk* = 1\nk = 2\nj = 1\nj* = 2\nj = 3\n');
    assert.deepEqual(p.getAll(['a', 'k']), ['1']);
    assert.deepEqual(p.getAll(['a', 'j']), ['1', '2']);
  });

  it('final subsections, by `name* = {` or `}*`, across files too', () => {
    const root = new ProfileSection();
    parseProfileInto(root, '[realms]\nA* = {\n kdc = a1\n}\nB = {\n kdc = b1\n}*\nC = {\n kdc = c1\n}\n', {
      path: 'one',
    });
    parseProfileInto(root, '[realms]\nA = {\n kdc = a2\n}\nB = {\n kdc = b2\n}\nC = {\n kdc = c2\n}\n', {
      path: 'two',
    });
    const s = root.sections.get('realms');
    assert.deepEqual(
      s?.sections
        .get('A')
        ?.values('kdc')
        .map((v) => v.value),
      ['a1'],
    );
    assert.deepEqual(
      s?.sections
        .get('B')
        ?.values('kdc')
        .map((v) => v.value),
      ['b1'],
    );
    assert.deepEqual(
      s?.sections
        .get('C')
        ?.values('kdc')
        .map((v) => v.value),
      ['c1', 'c2'],
    );
  });

  it('include lines need a resolver; pure parsing says so with a typed error', () => {
    assert.throws(
      () => parseProfile('include /etc/x.conf\n', { path: 'p' }),
      (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG_INCLUDE' && e.message.startsWith('p:1:'),
    );
    // Only at the very start of a line: indented, it is an ordinary (bad) line.
    syntaxErrorAt('[a]\n  include /x\n', '2');
  });

  it('included text is parsed in place with its own state, sharing the root', () => {
    const p = parseProfile('[a]\nk = 1\ninclude /inc\nk = 3\n', {
      path: 'main',
      resolveInclude: (kind, target) => {
        assert.equal(kind, 'include');
        assert.equal(target, '/inc');
        return [{ path: '/inc', text: 'orphan = ignored\n[a]\nk = 2\n[b]\nz = 1\n' }];
      },
    });
    // Back in the parent, the current section is still [a].
    assert.deepEqual(p.getAll(['a', 'k']), ['1', '2', '3']);
    assert.equal(p.get(['b', 'z']), '1');
    assert.equal(p.get(['a', 'orphan']), undefined);
  });
});
