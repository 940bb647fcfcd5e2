import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultCcacheName, expandCcacheParameters, parseCcacheName } from '../../src/ccache/resolve.js';
import { CredentialsError } from '../../src/errors.js';

const expansion = { uid: 1000, euid: 1001, username: 'alice', tempDir: '/var/tmp' };
const noEnv = () => undefined;

test('KRB5CCNAME wins over default_ccache_name and is not expanded', () => {
  const env = (n: string) => (n === 'KRB5CCNAME' ? 'FILE:/x/%{uid}' : undefined);
  assert.equal(defaultCcacheName({ env, defaultCcacheName: 'DIR:/y', expansion }), 'FILE:/x/%{uid}');
});

test('default_ccache_name is expanded; without it MIT’s built-in FILE:/tmp/krb5cc_%{uid}', () => {
  assert.equal(
    defaultCcacheName({
      env: noEnv,
      defaultCcacheName: 'FILE:%{TEMP}/cc_%{username}_%{euid}_%{USERID}%{null}',
      expansion,
    }),
    'FILE:/var/tmp/cc_alice_1001_1000',
  );
  assert.equal(defaultCcacheName({ env: noEnv, expansion }), 'FILE:/tmp/krb5cc_1000');
});

test('the real process uid is the default %{uid}', () => {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  assert.equal(expandCcacheParameters('%{uid}'), String(uid));
});

test('unknown or installation-specific parameters are refused', () => {
  for (const s of ['%{LIBDIR}/x', '%{nope}']) {
    assert.throws(
      () => expandCcacheParameters(s, expansion),
      (e: unknown) => e instanceof CredentialsError && e.code === 'CCACHE_NAME',
    );
  }
});

test('names split into type and residual; a bare path is FILE', () => {
  assert.deepEqual(parseCcacheName('/tmp/cc'), { type: 'FILE', residual: '/tmp/cc' });
  assert.deepEqual(parseCcacheName('FILE:/tmp/a:b'), { type: 'FILE', residual: '/tmp/a:b' });
  assert.deepEqual(parseCcacheName('DIR:/run/cc'), { type: 'DIR', residual: '/run/cc' });
  assert.deepEqual(parseCcacheName('DIR::/run/cc/tktX'), { type: 'DIR', residual: ':/run/cc/tktX' });
  assert.deepEqual(parseCcacheName('MEMORY:t'), { type: 'MEMORY', residual: 't' });
});

test('KEYRING:, API: and unknown types say how to use a FILE cache instead (KCM: is read)', () => {
  assert.deepEqual(parseCcacheName('KCM:'), { type: 'KCM', residual: '' });
  for (const n of ['KEYRING:persistent:1000', 'API:x', 'WHAT:x']) {
    assert.throws(
      () => parseCcacheName(n),
      (e: unknown) =>
        e instanceof CredentialsError &&
        e.code === 'CCACHE_TYPE_UNSUPPORTED' &&
        (e.hint ?? '').includes('export KRB5CCNAME=FILE:/tmp/krb5cc_$(id -u)'),
    );
  }
});
