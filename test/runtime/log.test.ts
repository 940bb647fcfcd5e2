import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLog, debugEnabled, describeBytes } from '../../src/runtime/log.js';

test('DEBUG patterns enable namespaces as the debug package does', () => {
  assert.equal(debugEnabled('spnego:http', 'spnego*', undefined), true);
  assert.equal(debugEnabled('spnego', 'spnego*', undefined), true);
  assert.equal(debugEnabled('spnego:krb5', 'spnego:http', undefined), false);
  assert.equal(debugEnabled('spnego:krb5', 'other,spnego:krb5', undefined), true);
  assert.equal(debugEnabled('spnego:krb5', 'spnego*,-spnego:krb5', undefined), false);
  assert.equal(debugEnabled('spnego:http', '*', undefined), true);
  assert.equal(debugEnabled('spnego:http', undefined, 'net,spnego'), true);
  assert.equal(debugEnabled('spnego:http', undefined, 'net'), false);
  assert.equal(debugEnabled('spnego:http', '*:http', undefined), true);
  assert.equal(debugEnabled('spnego:krb5', '*:http', undefined), false);
});

test('a wildcard pattern over a long namespace is matched in linear time', () => {
  const ns = `spnego:${'a'.repeat(50_000)}`;
  const pattern = `${'*a'.repeat(2_000)}b`;
  const t0 = performance.now();
  assert.equal(debugEnabled(ns, pattern, undefined), false);
  assert.ok(performance.now() - t0 < 2000);
});

test('a user logger receives namespaced messages', () => {
  const seen: string[] = [];
  const log = createLog('spnego:krb5', { debug: (m) => seen.push(m) });
  assert.equal(log.enabled, true);
  log('TGS-REQ for HTTP/web@EXAMPLE.TEST');
  assert.deepEqual(seen, ['spnego:krb5 TGS-REQ for HTTP/web@EXAMPLE.TEST']);
});

test('describeBytes gives the length and a short hash, never the content', () => {
  const secret = new TextEncoder().encode('YIIBsecret-token-content');
  const d = describeBytes(secret);
  assert.match(d, /^24 bytes, sha256:[0-9a-f]{8}$/);
  assert.ok(!d.includes('secret'));
  assert.notEqual(d, describeBytes(new TextEncoder().encode('YIIBsecret-token-contenu')));
});
