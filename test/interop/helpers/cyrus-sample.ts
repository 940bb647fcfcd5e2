// Cyrus SASL's sample programs (sasl2-bin: sasl-sample-server, sasl-sample-client) as real
// SASL GSSAPI peers. They talk in lines: `S: <base64>` from the server, `C: <base64>` from the
// client; the server's first line is its mechanism list, the client's first message is
// `GSSAPI\0<initial response>`. After "Negotiation complete" the server sends one encoded
// message ('srv message 1') and the client answers with one ('client message 1').
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBinary } from './mit-realm.js';

export type SampleEvent =
  | { kind: 'S'; data: Uint8Array }
  | { kind: 'C'; data: Uint8Array }
  | { kind: 'complete' }
  | { kind: 'user'; name: string }
  | { kind: 'decoded'; text: string }
  | { kind: 'failed'; text: string };

export class SampleProcess {
  private lines: SampleEvent[] = [];
  private partial = '';
  private waiter: (() => void) | undefined;
  private log = '';
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    const onData = (d: Buffer) => {
      const text = d.toString('utf8');
      this.log += text;
      this.partial += text;
      const parts = this.partial.split('\n');
      this.partial = parts.pop() ?? '';
      for (const raw of parts) this.parse(raw);
      this.waiter?.();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString('utf8');
      this.log += text;
      if (/authentication failure|not authenticated identity|SASL\(-\d+\)|failed: -/.test(text))
        this.lines.push({ kind: 'failed', text: text.trim() });
      this.waiter?.();
    });
    child.on('exit', () => {
      this.exited = true;
      this.waiter?.();
    });
  }

  private parse(raw: string): void {
    // A prompt and the line it precedes may share a line ("Sending response...S: x").
    const m = /(?:^|\.\.\.)([SC]): ?([A-Za-z0-9+/=]*)$/.exec(raw);
    if (m) {
      const data = new Uint8Array(Buffer.from(m[2] ?? '', 'base64'));
      this.lines.push(m[1] === 'S' ? { kind: 'S', data } : { kind: 'C', data });
      return;
    }
    if (raw.includes('Negotiation complete')) this.lines.push({ kind: 'complete' });
    const user = /^Username: (.*)$/.exec(raw);
    if (user) this.lines.push({ kind: 'user', name: user[1] ?? '' });
    const dec = /recieved decoded message '(.*)'/.exec(raw);
    if (dec) this.lines.push({ kind: 'decoded', text: dec[1] ?? '' });
    if (/authentication failure/.test(raw)) this.lines.push({ kind: 'failed', text: raw });
  }

  static start(
    which: 'server' | 'client',
    args: readonly string[],
    env: Record<string, string>,
    pidDir: string,
  ): SampleProcess {
    const bin = findBinary(which === 'server' ? 'sasl-sample-server' : 'sasl-sample-client');
    if (!bin)
      throw new Error(
        `sasl-sample-${which} not found: apt-get install sasl2-bin libsasl2-modules-gssapi-mit`,
      );
    // stdbuf: the samples use stdio, which a pipe makes fully buffered.
    const child = spawn('stdbuf', ['-o0', '-e0', bin, ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    if (child.pid) writeFileSync(join(pidDir, `sasl-sample-${which}-${child.pid}.pid`), `${child.pid}\n`);
    return new SampleProcess(child);
  }

  /** The next event of one of `kinds` (others are skipped); throws on failure, exit or timeout. */
  async next<K extends SampleEvent['kind']>(
    kinds: readonly K[],
    timeoutMs = 10_000,
  ): Promise<Extract<SampleEvent, { kind: K }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.lines.length > 0) {
        const e = this.lines.shift() as SampleEvent;
        if ((kinds as readonly string[]).includes(e.kind)) return e as Extract<SampleEvent, { kind: K }>;
        if (e.kind === 'failed') throw new Error(`Cyrus sample failed: ${e.text}\n${this.log}`);
      }
      if (this.exited)
        throw new Error(`Cyrus sample exited while waiting for ${kinds.join('/')}:\n${this.log}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${kinds.join('/')}:\n${this.log}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiter = () => {
          clearTimeout(t);
          r();
        };
      });
      this.waiter = undefined;
    }
  }

  send(prefix: 'S' | 'C', data: Uint8Array): void {
    this.child.stdin?.write(`${prefix}: ${Buffer.from(data).toString('base64')}\n`);
  }

  get output(): string {
    return this.log;
  }

  stop(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

export function skipUnlessCyrusSample(): string | false {
  if (findBinary('sasl-sample-server') && findBinary('sasl-sample-client') && findBinary('stdbuf'))
    return false;
  if (process.env['CI'] === 'true') return false;
  const msg = 'sasl-sample-server/-client missing: apt-get install sasl2-bin libsasl2-modules-gssapi-mit';
  process.stderr.write(`\nSKIPPED interop: ${msg}\n`);
  return msg;
}

/** One SASL conversation with a fresh sasl-sample-server, bytes in and out (for relays). */
export interface SampleServerSession {
  step(response: Uint8Array): Promise<{ challenge: Uint8Array; done: boolean }>;
  /** The authenticated user the server printed, once done. */
  user(): Promise<string>;
  close(): void;
}

export async function openSampleServer(
  args: readonly string[],
  env: Record<string, string>,
  pidDir: string,
): Promise<SampleServerSession> {
  const p = SampleProcess.start('server', ['-m', 'GSSAPI', ...args], env, pidDir);
  await p.next(['S']); // the mechanism list
  let first = true;
  return {
    async step(response) {
      if (first) {
        const mech = new TextEncoder().encode('GSSAPI\0');
        const msg = new Uint8Array(mech.length + response.length);
        msg.set(mech);
        msg.set(response, mech.length);
        p.send('C', msg);
        first = false;
      } else p.send('C', response);
      const e = await p.next(['S', 'complete']);
      return e.kind === 'complete'
        ? { challenge: new Uint8Array(0), done: true }
        : { challenge: e.data, done: false };
    },
    async user() {
      return (await p.next(['user'])).name;
    },
    close: () => p.stop(),
  };
}
