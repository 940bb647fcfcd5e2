// Terminal access for the CLI: reading a password from stdin (one line when piped, a prompt
// without echo on a TTY), and the host name kinit -k defaults to. Kept here because only
// src/runtime may touch `process` streams and `node:` modules.
import { hostname } from 'node:os';

export function stdinIsTty(): boolean {
  return process.stdin.isTTY === true;
}

export function hostName(): string {
  return hostname();
}

/** Longest password line we accept: a pipe of garbage must not grow without bound. */
const MAX_LINE = 64 * 1024;

/** Reads one line (without its end of line) from piped stdin; '' when stdin is empty. */
export function readStdinLine(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stdin = process.stdin;
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onError);
      stdin.pause();
      const text = Buffer.concat(chunks).toString('utf8');
      const nl = text.search(/\r?\n/);
      resolve(nl < 0 ? text : text.slice(0, nl));
    };
    const onData = (c: Buffer): void => {
      chunks.push(c);
      size += c.length;
      if (c.includes(0x0a) || size > MAX_LINE) finish();
    };
    const onEnd = (): void => finish();
    const onError = (e: Error): void => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      reject(e);
    };
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', onError);
    stdin.resume();
  });
}

/**
 * Prompts on stderr and reads a line from the TTY with echo off (raw mode), handling
 * backspace, Ctrl-C (rejects) and Ctrl-D (ends the line), as getpass does.
 */
export function promptPassword(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode?.(true);
    let line = '';
    const done = (err?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (c: Buffer): void => {
      for (const ch of c.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          done();
          return;
        }
        if (ch === '\u0003') {
          done(new Error('interrupted'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else if (line.length < MAX_LINE) line += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}
