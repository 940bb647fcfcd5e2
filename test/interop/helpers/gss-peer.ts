// Drives helpers/gss-peer.py: MIT's GSS-API through Debian's python3-gssapi (/usr/bin/python3,
// not a pyenv one) as the peer of our contexts, one JSON line per operation.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const DEBIAN_PYTHON = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'gss-peer.py');

export interface PeerAnswer {
  token?: string | null;
  complete?: boolean;
  client?: string;
  msg?: string;
  conf?: boolean;
  ok?: boolean;
  error?: string;
}

export interface GssPeer {
  call(req: Record<string, unknown>): Promise<PeerAnswer>;
  stop(): void;
}

export function skipUnlessPythonGssapi(): string | false {
  if (process.env['CI'] === 'true') return false;
  if (!existsSync(DEBIAN_PYTHON)) return 'no /usr/bin/python3 (apt-get install python3-gssapi)';
  return false;
}

export function startGssPeer(args: string[], env: Record<string, string>): GssPeer {
  const child: ChildProcessWithoutNullStreams = spawn(DEBIAN_PYTHON, [SCRIPT, ...args], {
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const lines = createInterface({ input: child.stdout });
  const waiting: Array<(a: PeerAnswer) => void> = [];
  lines.on('line', (l) => waiting.shift()?.(JSON.parse(l) as PeerAnswer));
  child.on('exit', () => {
    for (const w of waiting.splice(0)) w({ error: `gss-peer.py exited: ${stderr}` });
  });
  return {
    call(req) {
      return new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin.write(`${JSON.stringify(req)}\n`);
      });
    },
    stop() {
      child.stdin.end();
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}

export const toB64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
export const fromB64 = (s: string | null | undefined): Uint8Array =>
  new Uint8Array(Buffer.from(s ?? '', 'base64'));
