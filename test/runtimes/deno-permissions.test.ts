// Deno's permission model: without --allow-write, tickets cannot be written back to the ccache.
// The client keeps working from memory and says so once (a warning, not a debug line), not once
// per ticket. The README's permission sets are the ones used here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Credentials } from '../../src/krb5/credentials.js';
import { MiniKdc } from '../../src/testing/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const deno = `${root}node_modules/.bin/deno`;

function run(
  file: string,
  args: string[],
  options: { cwd: string; timeout: number; env: NodeJS.ProcessEnv },
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { ...options, encoding: 'utf8' }, (error, stdout, stderr) => {
      const status = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ status, stdout, stderr });
    });
  });
}

describe('Deno without --allow-write', () => {
  let kdc: MiniKdc;
  let dir: string;
  before(async () => {
    kdc = await MiniKdc.start({
      principals: [{ name: 'alice', password: 'pw' }, 'HTTP/localhost', 'HTTP/other'],
    });
    dir = mkdtempSync(join(tmpdir(), 'spnego-deno-perm-'));
    await kdc.writeKrb5Conf(join(dir, 'krb5.conf'));
    const alice = await Credentials.fromPassword('alice', 'pw', { config: kdc.clientConfig() });
    await alice.save(`FILE:${join(dir, 'cc')}`);
    writeFileSync(
      join(dir, 'client.ts'),
      `import { Credentials } from ${JSON.stringify(join(root, 'src/krb5/index.ts'))};
const c = await Credentials.fromCcache();
await c.getServiceTicket('HTTP/localhost');
await c.getServiceTicket('HTTP/other');
console.log('two service tickets');
`,
    );
  });
  after(async () => {
    await kdc.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gets its tickets and warns once that they stay in memory', async () => {
    assert.ok(existsSync(deno), 'deno is a devDependency: run npm ci');
    // Asynchronous: the KDC answering Deno runs in this process.
    const r = await run(
      deno,
      [
        'run',
        '--sloppy-imports',
        '--node-modules-dir=manual',
        '--allow-read',
        '--allow-net',
        '--allow-env',
        join(dir, 'client.ts'),
      ],
      {
        cwd: root,
        timeout: 120_000,
        env: {
          ...process.env,
          NO_COLOR: '1',
          DENO_NO_UPDATE_CHECK: '1',
          KRB5_CONFIG: join(dir, 'krb5.conf'),
          KRB5CCNAME: `FILE:${join(dir, 'cc')}`,
          DEBUG: '',
        },
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /two service tickets/);
    const warnings = r.stderr.split('\n').filter((l) => /warning: could not write tickets back/.test(l));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0] ?? '', /--allow-write/);
  });
});
