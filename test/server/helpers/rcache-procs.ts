// Server processes for the multi-process replay tests (test/server/replay-processes.test.ts and
// the Redis interop test): start rcache-server.ts, mint a header, read a status.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { base64Encode } from '../../../src/spnego/base64.js';
import { createInitiatorContext } from '../../../src/spnego/index.js';
import type { Minted } from '../../gss/helpers.js';

const SERVER = fileURLToPath(new URL('./rcache-server.ts', import.meta.url));

export interface Proc {
  child: ChildProcess;
  url: string;
}

export function startServer(keytab: string, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER, keytab, ...extra], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) =>
      resolve({ child, url: `http://127.0.0.1:${Number(d.toString().trim())}/` }),
    );
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
}

export async function stopServer(p: Proc | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null) return;
  const gone = new Promise((resolve) => p.child.once('exit', resolve));
  p.child.kill('SIGTERM');
  await gone;
}

export async function header(m: Minted): Promise<string> {
  const ctx = await createInitiatorContext({
    credentials: m.credentials,
    target: 'HTTP/localhost@GSS.TEST',
    mutual: true,
  });
  const first = await ctx.step();
  assert.ok(first.token);
  return `Negotiate ${base64Encode(first.token)}`;
}

export async function status(url: string, authorization: string): Promise<number> {
  const res = await fetch(url, { headers: { Authorization: authorization } });
  await res.arrayBuffer();
  return res.status;
}
