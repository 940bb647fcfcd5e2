// Bun and Deno against real peers: after MIT kinit, ky + negotiate() and negotiateFetch reach
// Apache mod_auth_gssapi with mutual authentication REQUIRED; `spnego kinit -k` gets a TGT that
// MIT klist reads; the server handler under Bun.serve and Deno.serve answers curl --negotiate.
// The runtimes are the devDependencies `bun` and `deno`, running the TypeScript sources.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Apache, skipUnlessApache, startApache } from './helpers/apache.js';
import { freePort, type MitRealm, run, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REALM = 'RUNTIMES.TEST';
const skip = skipUnlessMit() || skipUnlessApache();

const RUNTIMES = {
  bun: { bin: join(ROOT, 'node_modules/.bin/bun'), args: [] as string[] },
  deno: {
    bin: join(ROOT, 'node_modules/.bin/deno'),
    args: ['run', '-A', '--sloppy-imports', '--node-modules-dir=manual'],
  },
};
const ENV = { NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' };

const CLIENT = `import ky from ${JSON.stringify(join(ROOT, 'node_modules/ky/distribution/index.js'))};
import { negotiate, negotiateFetch, REQUIRED } from ${JSON.stringify(join(ROOT, 'src/index.ts'))};
const url = process.env.TARGET_URL;
const viaKy = await ky.extend(negotiate({ mutualAuthentication: REQUIRED })).get(url).text();
const res = await negotiateFetch({ mutualAuthentication: REQUIRED })(url);
console.log(JSON.stringify({ viaKy, status: res.status, viaFetch: await res.text() }));
`;
const SERVER = (
  runtime: 'bun' | 'deno',
) => `import { negotiateHandler } from ${JSON.stringify(join(ROOT, 'src/server/index.ts'))};
const handler = negotiateHandler((_req, { negotiate }) => new Response('hi ' + negotiate.user), { keytab: process.env.HTTP_KEYTAB });
const port = Number(process.env.PORT);
${
  runtime === 'bun'
    ? "Bun.serve({ port, hostname: '127.0.0.1', fetch: handler });\nconsole.log('listening');"
    : "Deno.serve({ port, hostname: '127.0.0.1', onListen: () => console.log('listening') }, handler);"
}
`;

describe('Bun and Deno against MIT krb5, Apache and curl', { skip }, () => {
  let realm: MitRealm;
  let apache: Apache;
  let httpKeytab: string;
  before(async () => {
    for (const [name, rt] of Object.entries(RUNTIMES))
      assert.ok(existsSync(rt.bin), `${name} is a devDependency: npm ci`);
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal', 'aes128-cts-hmac-sha256-128:normal'],
      principals: [
        { name: 'alice', password: 'alice-pw' },
        { name: 'svc-batch' },
        { name: 'HTTP/localhost' },
      ],
    });
    httpKeytab = await realm.keytab('HTTP/localhost');
    apache = await startApache({ realm, keytab: httpKeytab });
    await realm.kinit('alice', 'alice-pw', realm.ccache);
    writeFileSync(join(realm.dir, 'client.ts'), CLIENT);
    writeFileSync(join(realm.dir, 'server-bun.ts'), SERVER('bun'));
    writeFileSync(join(realm.dir, 'server-deno.ts'), SERVER('deno'));
  });
  after(async () => {
    await apache?.stop();
    await realm?.stop();
  });

  for (const name of ['bun', 'deno'] as const) {
    const rt = RUNTIMES[name];

    it(`${name}: ky + negotiate() and negotiateFetch, mutual REQUIRED, against Apache`, async () => {
      const r = await run(rt.bin, [...rt.args, join(realm.dir, 'client.ts')], {
        cwd: ROOT,
        env: { ...realm.env, ...ENV, KRB5CCNAME: realm.ccache, TARGET_URL: `${apache.url}/private/` },
        timeoutMs: 60_000,
      });
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n${apache.errorLog()}`);
      assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}'), {
        viaKy: 'private\n',
        status: 200,
        viaFetch: 'private\n',
      });
    });

    it(`${name}: spnego kinit -k gets a TGT that MIT klist reads`, async () => {
      const kt = await realm.keytab('svc-batch');
      const cc = `FILE:${join(realm.dir, `cc-kinit-${name}`)}`;
      const r = await run(
        rt.bin,
        [...rt.args, join(ROOT, 'src/cli/main.ts'), 'kinit', '-k', '-t', kt, '-c', cc, 'svc-batch'],
        {
          cwd: ROOT,
          env: { ...realm.env, ...ENV },
          timeoutMs: 60_000,
        },
      );
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const klist = await realm.klist(cc);
      assert.match(klist.stdout, new RegExp(`krbtgt/${REALM}@${REALM}`));
      assert.match(klist.stdout, new RegExp(`svc-batch@${REALM}`));
    });

    it(`${name}: negotiateHandler under ${name === 'bun' ? 'Bun.serve' : 'Deno.serve'} answers curl --negotiate`, async () => {
      const port = await freePort();
      const server: ChildProcess = spawn(rt.bin, [...rt.args, join(realm.dir, `server-${name}.ts`)], {
        cwd: ROOT,
        env: { ...process.env, ...realm.env, ...ENV, HTTP_KEYTAB: httpKeytab, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      writeFileSync(join(realm.dir, `server-${name}.pid`), String(server.pid));
      try {
        let log = '';
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${name} server did not start: ${log}`)), 60_000);
          const on = (d: Buffer) => {
            log += d.toString();
            if (log.includes('listening')) {
              clearTimeout(timer);
              resolve();
            }
          };
          server.stdout?.on('data', on);
          server.stderr?.on('data', on);
          server.once('exit', (code) => reject(new Error(`${name} server exited ${code}: ${log}`)));
        });
        const curl = await run('curl', ['-sS', '--negotiate', '-u', ':', `http://localhost:${port}/`], {
          env: { ...realm.env, KRB5CCNAME: realm.ccache },
          timeoutMs: 30_000,
        });
        assert.equal(curl.code, 0, curl.stderr);
        assert.equal(curl.stdout, `hi alice@${REALM}`);
      } finally {
        server.kill();
      }
    });
  }
});
