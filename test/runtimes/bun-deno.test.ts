// The product runs on Node, Bun and Deno. The whole demo — MiniKdc (KDC over TCP/UDP sockets),
// the Negotiate server, ky + negotiate() with mutual authentication — runs under Bun and Deno
// from the TypeScript sources, using the runtimes shipped in the `bun` and `deno` npm packages.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;

const runtimes: { name: string; args: string[] }[] = [
  { name: 'bun', args: ['src/cli/main.ts', 'demo'] },
  // Deno resolves our `.js` specifiers to the `.ts` sources with --sloppy-imports.
  { name: 'deno', args: ['run', '-A', '--sloppy-imports', 'src/cli/main.ts', 'demo'] },
];

describe('the demo on other runtimes', () => {
  for (const rt of runtimes) {
    it(`${rt.name}: KDC, server and client all work, mutual authentication verified`, () => {
      assert.ok(existsSync(bin(rt.name)), `${rt.name} is a devDependency: run npm ci`);
      const r = spawnSync(bin(rt.name), rt.args, {
        cwd: root,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
      });
      assert.equal(r.status, 0, `${rt.name} exited ${r.status}: ${r.stderr}`);
      assert.match(r.stdout, /krbtgt\/DEMO\.TEST@DEMO\.TEST {2}enctype aes256-cts-hmac-sha1-96/);
      assert.match(r.stdout, /mutual authentication of http:\/\/localhost:\d+ verified \(200\)/);
      assert.match(r.stdout, /server replied: Hello, alice@DEMO\.TEST!/);
    });
  }
});
