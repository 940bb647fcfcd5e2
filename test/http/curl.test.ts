// `spnego curl` in-process, against a node:http acceptor for the fake context.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { curlCommand } from '../../src/cli/curl.js';
import { acceptor, fakeFactory, readAuthorization, startServer, type TestServer } from './helpers.js';

let ok: TestServer;
let noMutual: TestServer;
before(async () => {
  ok = await startServer(acceptor());
  noMutual = await startServer(acceptor({ finalToken: () => undefined }));
});
after(async () => {
  await ok.close();
  await noMutual.close();
});

async function curl(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const factory = fakeFactory();
  const code = await curlCommand(
    argv,
    { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
    { contextFactory: factory },
  );
  return { code, stdout, stderr, factory };
}

describe('spnego curl', () => {
  it('prints the body and exits 0 on 2xx', async () => {
    const r = await curl([`${ok.url}/x`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ok GET HTTP@localhost ');
    assert.equal(r.stderr, '');
  });

  it('-d posts form data, -X overrides the method, -H adds headers', async () => {
    const r = await curl(['-d', 'a=1', '-d', 'b=2', '-H', 'X-Test: yes', `${ok.url}/p`]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'ok POST HTTP@localhost a=1&b=2');
    const last = ok.requests.at(-1);
    assert.equal(last?.headers['x-test'], 'yes');
    assert.equal(last?.headers['content-type'], 'application/x-www-form-urlencoded');
    const put = await curl(['-X', 'put', '-d', 'z', `${ok.url}/p`]);
    assert.equal(put.stdout, 'ok PUT HTTP@localhost z');
  });

  it('-v shows the Negotiate steps on stderr, never a token', async () => {
    const r = await curl(['-v', '--mutual', 'required', '--target', 'HTTP', `${ok.url}/v`]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /> GET http:\/\/localhost:\d+\/v\n/);
    assert.match(r.stderr, /< 401 Unauthorized/);
    assert.match(r.stderr, /401 from http:\/\/localhost:\d+: Negotiate/);
    assert.match(r.stderr, /target HTTP@localhost/);
    assert.match(r.stderr, /initial token \(\d+ bytes, sha256:/);
    assert.match(r.stderr, /with Authorization: Negotiate/);
    assert.match(r.stderr, /mutual authentication of http:\/\/localhost:\d+ verified \(200\)/);
    const token = ok.requests.at(-1)?.headers.authorization?.slice(10) ?? 'missing';
    assert.ok(!r.stderr.includes(token));
  });

  it('--opportunistic and --delegate reach the context', async () => {
    const before = ok.requests.length;
    const r = await curl(['--opportunistic', '--delegate', ok.url]);
    assert.equal(r.code, 0);
    assert.equal(ok.requests.length - before, 1);
    assert.equal(readAuthorization(ok.requests.at(-1)?.headers.authorization)?.delegate, 'true');
  });

  it('--mutual required on an unauthenticated 200 fails with the typed error and exit 1', async () => {
    const r = await curl(['--mutual', 'required', noMutual.url]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /MutualAuthenticationError MUTUAL_AUTH_MISSING: .*\nhint: /);
    assert.equal((await curl(['--mutual', 'optional', noMutual.url])).code, 0);
  });

  it('exits 22 on an HTTP error and 2 on bad usage', async () => {
    const failing = await startServer((_req, res) => {
      res.writeHead(404);
      res.end('nope');
    });
    try {
      const r = await curl([failing.url]);
      assert.equal(r.code, 22);
      assert.equal(r.stdout, 'nope');
    } finally {
      await failing.close();
    }
    assert.equal((await curl([])).code, 2);
    assert.equal((await curl(['--mutual', 'sometimes', ok.url])).code, 2);
    assert.equal((await curl(['-H', 'novalue', ok.url])).code, 2);
    assert.equal((await curl(['ftp://x/'])).code, 2);
    assert.equal((await curl(['--bogus', ok.url])).code, 2);
  });
});
