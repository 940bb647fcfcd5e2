// KCM: caches under Bun and Deno (the runtimes of the `bun` and `deno` devDependencies): their
// node:net Unix sockets reach a KCM daemon double run by this Node process; `spnego klist -l`
// and `klist` list and read the cache there; with the daemon gone, the typed error and its hint.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Credentials } from '../../src/krb5/credentials.js';
import { MiniKdc } from '../../src/testing/index.js';
import { KcmDaemon } from '../ccache/kcm-daemon.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;

const runtimes: { name: string; args: string[] }[] = [
  { name: 'bun', args: ['src/cli/main.ts'] },
  { name: 'deno', args: ['run', '-A', '--sloppy-imports', 'src/cli/main.ts'] },
];

/** Runs a child without blocking this process's event loop (the daemon double lives here). */
function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('KCM caches on Bun and Deno', () => {
  let kdc: MiniKdc;
  let daemon: KcmDaemon;
  let env: Record<string, string>;

  before(async () => {
    kdc = await MiniKdc.start({ realm: 'RT.TEST', principals: [{ name: 'alice', password: 'alice-pw' }] });
    daemon = await KcmDaemon.start();
    const conf = join(daemon.dir, 'krb5.conf');
    writeFileSync(
      conf,
      kdc.krb5ConfigText({ libdefaults: { kcm_socket: daemon.socketPath, default_ccache_name: 'KCM:' } }),
    );
    const config = kdc.clientConfig({ libdefaults: { kcm_socket: daemon.socketPath } });
    await (await Credentials.fromPassword('alice', 'alice-pw', { config })).save('KCM:1000');
    env = { KRB5_CONFIG: conf, KRB5CCNAME: 'KCM:', NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' };
  });
  after(async () => {
    await daemon?.stop();
    await kdc?.stop();
  });

  for (const rt of runtimes) {
    it(`${rt.name}: klist -l and klist read the KCM cache; no daemon is KCM_NO_SERVER with a hint`, async () => {
      assert.ok(existsSync(bin(rt.name)), `${rt.name} is a devDependency: run npm ci`);
      const l = await run(bin(rt.name), [...rt.args, 'klist', '-l'], env);
      assert.equal(l.code, 0, `${rt.name} exited ${l.code}: ${l.stderr}`);
      assert.match(l.stdout, /alice@RT\.TEST +KCM:1000\n/);
      const k = await run(bin(rt.name), [...rt.args, 'klist'], env);
      assert.equal(k.code, 0, k.stderr);
      assert.match(k.stdout, /Ticket cache: KCM:1000\nDefault principal: alice@RT\.TEST/);
      const none = await run(bin(rt.name), [...rt.args, 'klist', '-c', 'KCM:1000'], {
        ...env,
        KRB5_CONFIG: join(daemon.dir, 'no-daemon.conf'),
      });
      // No krb5.conf there: MIT's default socket path, where no daemon listens in the test.
      if (!existsSync('/var/run/.heim_org.h5l.kcm-socket')) {
        assert.equal(none.code, 1);
        assert.match(
          none.stderr,
          /no KCM daemon listening at \/var\/run\/\.heim_org\.h5l\.kcm-socket\nhint: /,
        );
      }
    });
  }
});
