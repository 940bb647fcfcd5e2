// The `spnego` CLI as a user of MIT's tools drives it: getopt-style arguments (combined short
// flags, attached values, `--`), kinit with an empty stdin, and `spnego curl` explaining why it
// got a 401 (the typed error and its hint) or why the connection failed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isConfigEntry, readCcache } from '../../src/ccache/ccache.js';
import { curlCommand } from '../../src/cli/curl.js';
import { kdestroyCommand } from '../../src/cli/kdestroy.js';
import { type KinitIo, kinitCommand } from '../../src/cli/kinit.js';
import { klistCommand } from '../../src/cli/klist.js';
import { negotiateMiddleware, type RequestLike } from '../../src/server/index.js';
import { MiniKdc } from '../../src/testing/index.js';

const REALM = 'CLI2.TEST';
const PASSWORD = 'alice password 2';
const dir = mkdtempSync(join(tmpdir(), 'spnego-cli2-'));
const main = join(import.meta.dirname, '../../src/cli/main.ts');
let kdc: MiniKdc;
let server: Server;
let serverUrl: string;
let krb5Conf: string;
let aliceKeytab: string;
let n = 0;
const newCache = (): string => join(dir, `cc-${++n}`);

before(async () => {
  kdc = await MiniKdc.start({
    realm: REALM,
    principals: [{ name: 'alice', password: PASSWORD }, 'HTTP/localhost'],
  });
  krb5Conf = await kdc.writeKrb5Conf(join(dir, 'krb5.conf'));
  aliceKeytab = await kdc.writeKeytab(join(dir, 'alice.keytab'), 'alice');
  const mw = negotiateMiddleware({ keytab: kdc.keytabFor('HTTP/localhost') });
  server = createServer((req, res) => {
    mw(req as unknown as RequestLike, res, (err?: unknown) => {
      if (err) {
        res.statusCode = 500;
        res.end();
        return;
      }
      res.end(`hello ${(req as unknown as RequestLike).remoteUser} ${req.method}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://localhost:${(server.address() as AddressInfo).port}`;
  // spnego curl loads the ccache and krb5.conf as a user's shell gives them.
  process.env.KRB5_CONFIG = krb5Conf;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await kdc.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Cmd = (argv: string[], io: KinitIo) => Promise<number>;

async function run(cmd: Cmd, argv: string[], env: Record<string, string> = {}, password = PASSWORD) {
  let out = '';
  let err = '';
  const code = await cmd(argv, {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    env: (name) => env[name] ?? (name === 'KRB5_CONFIG' ? krb5Conf : undefined),
    config: kdc.clientConfig(),
    readPassword: async () => password,
  });
  return { code, out, err };
}

async function tgtOf(cache: string) {
  const cc = await readCcache(cache);
  const tgt = cc.credentials.find((c) => !isConfigEntry(c));
  assert.ok(tgt, 'the cache holds a ticket');
  return { cc, tgt };
}

describe('getopt-style arguments, as MIT kinit/klist/kdestroy take them', () => {
  it('kinit -kt KEYTAB PRINCIPAL (combined short flags) gets a TGT from the keytab', async () => {
    const cache = newCache();
    const r = await run(kinitCommand, ['-kt', aliceKeytab, '-c', cache, 'alice']);
    assert.equal(r.code, 0, r.err);
    const { cc } = await tgtOf(cache);
    assert.equal(cc.defaultPrincipal.name.nameString.join('/'), 'alice');
  });

  it('kinit -l1h30m (attached value) and -- before the principal', async () => {
    const cache = newCache();
    const r = await run(kinitCommand, [`-c${cache}`, '-l1h30m', '--', 'alice']);
    assert.equal(r.code, 0, r.err);
    const { tgt } = await tgtOf(cache);
    assert.equal(tgt.endTime - tgt.startTime, 90 * 60);
  });

  it('kinit: an unknown flag inside a group, a missing value, two principals are usage errors (2)', async () => {
    for (const argv of [['-kx', 'alice'], ['-c'], ['alice', 'bob'], ['-l']]) {
      const r = await run(kinitCommand, argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.err, /^spnego kinit: .*\nusage: /, argv.join(' '));
      assert.equal(r.out, '');
    }
  });

  it('klist -efc CACHE and klist -- CACHE list the cache; klist -x is a usage error', async () => {
    const cache = newCache();
    assert.equal((await run(kinitCommand, ['-c', cache, 'alice'])).code, 0);
    for (const argv of [
      ['-efc', cache],
      ['--', cache],
      ['--json', `-c${cache}`],
    ]) {
      const r = await run(klistCommand, argv);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      assert.match(r.out, new RegExp(`krbtgt/${REALM}@${REALM}`));
    }
    const bad = await run(klistCommand, ['-x']);
    assert.equal(bad.code, 2);
    assert.equal(bad.out, '');
    assert.match(bad.err, /-- 'x'/);
  });

  it('kdestroy -qc CACHE destroys it quietly', async () => {
    const cache = newCache();
    assert.equal((await run(kinitCommand, ['-c', cache, 'alice'])).code, 0);
    const r = await run(kdestroyCommand, ['-qc', cache]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.equal(existsSync(cache), false);
  });
});

describe('kinit reading the password', () => {
  it('an empty password (empty stdin) is refused before any AS-REQ, with a hint', async () => {
    const cache = newCache();
    const before = kdc.requests.length;
    const r = await run(kinitCommand, ['-c', cache, 'alice'], {}, '');
    assert.equal(r.code, 1);
    assert.equal(kdc.requests.length, before, 'no attempt reached the KDC');
    assert.match(r.err, /password/);
    assert.match(r.err, /\nhint: /);
    assert.equal(existsSync(cache), false);
  });

  it('spnego kinit < /dev/null (a real empty pipe) exits 1 without contacting the KDC', async () => {
    const before = kdc.requests.length;
    // Asynchronously: the MiniKdc answering the child lives in this process's event loop.
    const child = spawn(process.execPath, ['--import', 'tsx', main, 'kinit', 'alice'], {
      env: { ...process.env, KRB5_CONFIG: krb5Conf, KRB5CCNAME: `FILE:${newCache()}` },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.stdin.end();
    const [status] = (await once(child, 'close')) as [number | null];
    assert.equal(status, 1, stderr);
    assert.equal(kdc.requests.length, before, 'no attempt reached the KDC');
    assert.match(stderr, /password.*\nhint: /);
  });
});

describe('spnego curl', () => {
  async function curl(argv: string[], ccache: string) {
    process.env.KRB5CCNAME = `FILE:${ccache}`;
    let out = '';
    let err = '';
    const code = await curlCommand(argv, {
      stdout: (t) => {
        out += t;
      },
      stderr: (t) => {
        err += t;
      },
    });
    return { code, out, err };
  }

  it('takes combined and attached short options and -- before the URL', async () => {
    const cache = newCache();
    assert.equal((await run(kinitCommand, ['-c', cache, 'alice'])).code, 0);
    const r = await curl(['-sXPUT', '-dx=1', '--', `${serverUrl}/p`], cache);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `hello alice@${REALM} PUT`);
  });

  it('a 401 caused by a local Kerberos failure prints the typed error and its hint (exit 22)', async () => {
    const missing = await curl([`${serverUrl}/x`], join(dir, 'no-such-ccache'));
    assert.equal(missing.code, 22);
    assert.match(missing.err, /CredentialsError \w+: .*no-such-ccache/);
    assert.match(missing.err, /\nhint: .*kinit/);

    const cache = newCache();
    assert.equal((await run(kinitCommand, ['-c', cache, 'alice'])).code, 0);
    const unknown = await curl(['--target', 'HTTP/nosuchhost', `${serverUrl}/x`], cache);
    assert.equal(unknown.code, 22);
    assert.match(unknown.err, /KerberosError KDC_ERR_S_PRINCIPAL_UNKNOWN: /);
    assert.match(unknown.err, /\nhint: /);
  });

  it('a connection failure names its cause, not just "fetch failed"', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await curl([`http://127.0.0.1:${port}/`], newCache());
    assert.equal(r.code, 7, "curl's exit code for a refused connection");
    assert.match(r.err, /ECONNREFUSED/);
  });
});

describe('spnego (main)', () => {
  it('without a command is a usage error: usage on stderr, nothing on stdout, exit 2', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', main], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /usage: spnego <command>/);
  });
});
