// `spnego curl` in-process, against a node:http acceptor for the fake context.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('spnego curl output options, as curl has them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spnego-curl-out-'));
  let statuses: TestServer;
  before(async () => {
    statuses = await startServer((req, res) => {
      const status = Number(/^\/(\d{3})/.exec(req.url ?? '')?.[1] ?? 200);
      res.writeHead(status, { 'x-answer': String(status), ...(status === 302 ? { location: '/200' } : {}) });
      res.end(`body ${status}`);
    });
  });
  after(async () => {
    await statuses.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('-i prints the status line and headers, then the body', async () => {
    const r = await curl(['-i', `${ok.url}/x`]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r.stdout, /\r\nwww-authenticate: Negotiate [A-Za-z0-9+/=]+\r\n/);
    assert.match(r.stdout, /\r\n\r\nok GET HTTP@localhost/);
  });

  it('-D FILE writes the headers there, -D - to stdout; -o FILE takes the body', async () => {
    const headers = join(dir, 'headers.txt');
    const body = join(dir, 'body.txt');
    const r = await curl(['-D', headers, '-o', body, `${statuses.url}/200`]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(readFileSync(headers, 'utf8'), /^HTTP\/1\.1 200 OK\r\n[\s\S]*x-answer: 200\r\n\r\n$/);
    assert.equal(readFileSync(body, 'utf8'), 'body 200');
    assert.equal(statSync(body).mode & 0o777, 0o644);
    const toStdout = await curl(['-D', '-', `${statuses.url}/200`]);
    assert.match(toStdout.stdout, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nbody 200$/);
  });

  it('-f: no body for a status >= 400 and exit 22; a 3xx is not an error', async () => {
    const r = await curl(['-f', `${statuses.url}/404`]);
    assert.equal(r.code, 22);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /\(22\) the server answered 404/);
    const redirect = await curl(['-f', '-i', `${statuses.url}/302`]);
    assert.equal(redirect.code, 0, 'fetch follows the redirect: the final 200 is what -f judges');
    assert.match(redirect.stdout, /x-answer: 200/);
  });

  it('--fail-with-body prints the error body and exits 22', async () => {
    const r = await curl(['--fail-with-body', `${statuses.url}/500`]);
    assert.equal(r.code, 22);
    assert.equal(r.stdout, 'body 500');
  });

  it('-s mutes the error messages, -sS shows them again; the exit code stays', async () => {
    const quiet = await curl(['-s', '-f', `${statuses.url}/404`]);
    assert.equal(quiet.code, 22);
    assert.equal(quiet.stderr, '');
    const shown = await curl(['-sS', '-f', `${statuses.url}/404`]);
    assert.equal(shown.code, 22);
    assert.match(shown.stderr, /404/);
  });

  it('exit codes: 23 when the output cannot be written, 26 when -d @FILE cannot be read, 7 when refused', async () => {
    const unwritable = await curl(['-o', join(dir, 'missing-dir', 'out'), `${statuses.url}/200`]);
    assert.equal(unwritable.code, 23);
    const unreadable = await curl(['-d', `@${join(dir, 'nope.json')}`, `${statuses.url}/200`]);
    assert.equal(unreadable.code, 26);
    const closed = await startServer(() => undefined, '127.0.0.1');
    await closed.close();
    const refused = await curl([closed.url]);
    assert.equal(refused.code, 7);
  });
});
