import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { configFiles, isIncludableName, loadConfig, normalizePath } from '../../src/krb5/config-load.js';

const dir = mkdtempSync(join(tmpdir(), 'krb5conf-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string, name = `f${n++}.conf`): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function isConfigError(code: string, re?: RegExp) {
  return (e: unknown) =>
    e instanceof ConfigError && e.code === code && (re === undefined || re.test(e.message));
}

describe('loadConfig', () => {
  it('KRB5_CONFIG is a colon list, earlier files first; default /etc/krb5.conf', () => {
    assert.deepEqual(configFiles({ env: { KRB5_CONFIG: '/a:/b::/c' } }), ['/a', '/b', '/c']);
    assert.deepEqual(configFiles({ env: {} }), ['/etc/krb5.conf']);
    assert.deepEqual(configFiles({ env: (k) => (k === 'KRB5_CONFIG' ? '/x' : undefined) }), ['/x']);
    assert.deepEqual(configFiles({ files: ['/only'], env: { KRB5_CONFIG: '/a' } }), ['/only']);
  });

  it('missing files mean MIT defaults, not an error', async () => {
    const c = await loadConfig({ env: { KRB5_CONFIG: join(dir, 'nope.conf') } });
    assert.equal(c.libdefaults.defaultRealm, undefined);
    assert.equal(c.libdefaults.ticketLifetime, 86400);
  });

  it('earlier files take precedence; values of all files are kept in order', async () => {
    const a = file('[libdefaults]\ndefault_realm = A.ORG\n[realms]\nA.ORG = {\n kdc = a1\n}\n');
    const b = file(
      '[libdefaults]\ndefault_realm = B.ORG\nforwardable = true\n[realms]\nA.ORG = {\n kdc = a2\n}\n',
    );
    const c = await loadConfig({ env: { KRB5_CONFIG: `${a}:${join(dir, 'missing')}:${b}` } });
    assert.equal(c.libdefaults.defaultRealm, 'A.ORG');
    assert.equal(c.libdefaults.forwardable, true);
    assert.deepEqual(
      c.realms.get('A.ORG')?.kdc.map((v) => v.value),
      ['a1', 'a2'],
    );
    assert.deepEqual(c.profile.files, [a, b]);
  });

  it('a final section in an earlier file stops later files adding to it', async () => {
    const a = file('[libdefaults]*\nforwardable = false\n');
    const b = file('[libdefaults]\nforwardable = true\ndefault_realm = B\n[realms]\nB = {\n kdc = b\n}\n');
    const c = await loadConfig({ files: [a, b] });
    assert.equal(c.libdefaults.forwardable, false);
    assert.equal(c.libdefaults.defaultRealm, undefined);
    assert.equal(c.realms.get('B')?.kdc[0]?.value, 'b');
  });

  it('include reads a file in place; errors name the included file and line', async () => {
    const inc = file('[realms]\nI.ORG = {\n kdc = i:750\n}\n');
    const main = file(
      `[libdefaults]\ndefault_realm = I.ORG\ninclude ${inc}\n[domain_realm]\n.i.org = I.ORG\n`,
    );
    const c = await loadConfig({ files: [main] });
    assert.equal(c.realms.get('I.ORG')?.kdc[0]?.value, 'i:750');
    assert.equal(c.realms.get('I.ORG')?.kdc[0]?.file, inc);
    assert.equal(c.domainRealm.get('.i.org'), 'I.ORG');

    const bad = file('[a]\nok = 1\nbroken line\n');
    const main2 = file(`[x]\ninclude ${bad}\n`);
    await assert.rejects(
      loadConfig({ files: [main2] }),
      isConfigError('CONFIG_SYNTAX', new RegExp(`^${bad}:3: `)),
    );
  });

  it('a missing include target is an error naming the include line', async () => {
    const main = file(`[a]\nk = v\ninclude ${join(dir, 'absent.conf')}\n`);
    await assert.rejects(
      loadConfig({ files: [main] }),
      isConfigError('CONFIG_INCLUDE', new RegExp(`^${main}:3: include `)),
    );
    const main2 = file(`includedir ${join(dir, 'absent-dir')}\n`);
    await assert.rejects(loadConfig({ files: [main2] }), isConfigError('CONFIG_INCLUDE', /includedir/));
  });

  it('includedir reads only MIT-valid names, in sorted order', async () => {
    const d = join(dir, 'conf.d');
    mkdirSync(d);
    writeFileSync(join(d, 'b-second'), '[libdefaults]\nk = b\n');
    writeFileSync(join(d, 'a_first.conf'), '[libdefaults]\nk = a\n');
    writeFileSync(join(d, 'c.conf'), '[libdefaults]\nk = c\n');
    for (const skipped of ['.hidden.conf', 'edit~', 'x.rpmsave', 'has.dot', '.conf']) {
      writeFileSync(join(d, skipped), '[libdefaults]\nk = SKIPPED\n');
    }
    mkdirSync(join(d, 'subdir'));
    const main = file(`[libdefaults]\nk = main\nincludedir ${d}\n`);
    const c = await loadConfig({ files: [main] });
    assert.deepEqual(c.profile.getAll(['libdefaults', 'k']), ['main', 'a', 'b', 'c']);
    // A directory in KRB5_CONFIG is read the same way (MIT 1.14+).
    const c2 = await loadConfig({ env: { KRB5_CONFIG: d } });
    assert.deepEqual(c2.profile.getAll(['libdefaults', 'k']), ['a', 'b', 'c']);
  });

  it('includedir name rule', () => {
    for (const ok of ['krb5', 'a-b_c', 'x.conf', 'A1', 'realm.example.conf'])
      assert.ok(isIncludableName(ok), ok);
    for (const no of ['.x.conf', 'x~', 'a.b', 'x.conf~', 'x.rpmnew', '', '.conf'])
      assert.ok(!isIncludableName(no), no);
  });

  it('detects include loops and bounds include depth', async () => {
    const a = join(dir, 'loop-a.conf');
    const b = join(dir, 'loop-b.conf');
    writeFileSync(a, `[a]\ninclude ${b}\n`);
    writeFileSync(b, `[b]\ninclude ${dir}/./loop-a.conf\n`);
    await assert.rejects(loadConfig({ files: [a] }), isConfigError('CONFIG_INCLUDE_LOOP', /loop-a\.conf/));

    const self = file('');
    writeFileSync(self, `include ${self}\n`);
    await assert.rejects(loadConfig({ files: [self] }), isConfigError('CONFIG_INCLUDE_LOOP'));

    let next = '';
    for (let i = 0; i < 14; i++) next = file(next === '' ? '[deep]\nk = v\n' : `include ${next}\n`);
    await assert.rejects(loadConfig({ files: [next] }), isConfigError('CONFIG_INCLUDE_DEPTH'));
    const c = await loadConfig({ files: [next], limits: { maxIncludeDepth: 20 } });
    assert.equal(c.profile.get(['deep', 'k']), 'v');
  });

  it('a diamond is fine, but include fan-out bombs and huge files are refused', async () => {
    const leaf = file('[l]\nk = v\n');
    const mid = file(`include ${leaf}\ninclude ${leaf}\n`);
    const top = file(`include ${mid}\ninclude ${mid}\n`);
    const c = await loadConfig({ files: [top] });
    assert.equal(c.profile.getAll(['l', 'k']).length, 4);

    let layer = leaf;
    for (let i = 0; i < 8; i++) layer = file(`include ${layer}\n`.repeat(4));
    await assert.rejects(loadConfig({ files: [layer] }), isConfigError('CONFIG_TOO_LARGE'));

    const big = file(`[a]\n${'k = v\n'.repeat(10)}`);
    await assert.rejects(
      loadConfig({ files: [big], limits: { maxFileBytes: 20 } }),
      isConfigError('CONFIG_TOO_LARGE'),
    );
  });

  it('normalizes simple path aliases', () => {
    assert.equal(normalizePath('/etc//krb5/./a/../b.conf'), '/etc/krb5/b.conf');
    assert.equal(normalizePath('rel/x'), 'rel/x');
  });
});
