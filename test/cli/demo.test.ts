// `npm run demo` is the README's first command: it must run with nothing installed, print every
// step (KDC, server, TGT, service ticket, the verified AP-REP) and exit 0.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { demoCommand } from '../../src/cli/demo.js';

test('demoCommand prints each step and exits 0', async () => {
  let out = '';
  let err = '';
  const code = await demoCommand([], {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
  });
  assert.equal(code, 0, err);
  for (const s of ['[1]', '[2]', '[3]', '[4]', '[5]', '[6]']) assert.ok(out.includes(s), `step ${s} missing`);
  assert.match(out, /without credentials: 401/);
  assert.match(out, /krbtgt\/DEMO\.TEST@DEMO\.TEST {2}enctype aes256-cts-hmac-sha1-96/);
  assert.match(out, /HTTP\/localhost@DEMO\.TEST {2}enctype/);
  assert.match(out, /mutual authentication of http:\/\/localhost:\d+ verified \(200\)/);
  assert.match(out, /server replied: Hello, alice@DEMO\.TEST!/);
  assert.doesNotMatch(out, /correct horse/, 'the password is never printed');
});

test('npm run demo (the README command) exits 0', () => {
  const r = spawnSync('npm', ['run', '--silent', 'demo'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\[6\] done/);
});
