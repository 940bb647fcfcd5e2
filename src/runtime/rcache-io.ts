// Synchronous file primitives for the per-host replay cache (src/server/replay-cache.ts).
// Synchronous on purpose: a record is 32 bytes in the page cache, an append and a read cost a
// few microseconds, far less than a round trip through libuv's thread pool would, and doing
// them in one stretch keeps a check-and-record free of interleaving within the process.
// Built-ins load on first use (as fs.ts), so importing this module costs nothing where there is
// no node:fs (the SASL client shares an entry with the server that defaults to this cache).
import type * as NodeCrypto from 'node:crypto';
import type * as NodeFs from 'node:fs';
import type * as NodePath from 'node:path';
import { builtin } from './builtin.js';
import { getEnv, getTempDir, getUid } from './env.js';

let fsModule: typeof NodeFs | undefined;
// Memoized: a check-and-record calls into fs several times.
const fs = (): typeof NodeFs => (fsModule ??= builtin<typeof NodeFs>('node:fs'));
const nodePath = () => builtin<typeof NodePath>('node:path');
const crypto = () => builtin<typeof NodeCrypto>('node:crypto');

/** MIT's replay cache directory: KRB5RCACHEDIR, else the OS temp dir. */
export function replayCacheDir(): string {
  return getEnv('KRB5RCACHEDIR') ?? getTempDir();
}

function isErr(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}

/**
 * Makes (or checks) a directory only this user can write: in a shared temp dir another user
 * could otherwise create it first, or plant a symlink, and read or flood our records.
 * Returns undefined when fine, else why not.
 */
export function ensurePrivateDir(path: string): string | undefined {
  try {
    fs().mkdirSync(path, { mode: 0o700 });
  } catch (e) {
    if (!isErr(e, 'EEXIST')) return `cannot create ${path}: ${(e as Error).message}`;
  }
  const st = fs().lstatSync(path);
  if (!st.isDirectory()) return `${path} is not a directory (a symlink?)`;
  // Windows has no POSIX owner or mode bits to check (stat reports fixed ones); its per-user
  // temp dir is private already.
  if (process.platform === 'win32') return undefined;
  const uid = getUid();
  if (typeof process.geteuid === 'function' && st.uid !== uid)
    return `${path} belongs to uid ${st.uid}, not this process (uid ${uid})`;
  if ((st.mode & 0o022) !== 0)
    return `${path} is writable by other users (mode ${(st.mode & 0o777).toString(8)})`;
  return undefined;
}

/** Opens (creating) a file for appending records and reading them back; never follows a symlink. */
export function openAppendFile(path: string): number {
  const { constants, openSync } = fs();
  const nofollow = constants.O_NOFOLLOW ?? 0;
  return openSync(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | nofollow, 0o600);
}

/** One write(2) at the end of the file (O_APPEND): concurrent appenders never interleave a record. */
export function appendRecord(fd: number, record: Uint8Array): number {
  return fs().writeSync(fd, record);
}

/** Reads into `buf` from `position`; the number of bytes read (0 at the end). */
export function readAt(fd: number, buf: Uint8Array, position: number): number {
  return fs().readSync(fd, buf, 0, buf.length, position);
}

export function fileSize(fd: number): number {
  return fs().fstatSync(fd).size;
}

export function closeFile(fd: number): void {
  try {
    fs().closeSync(fd);
  } catch {
    // already closed
  }
}

export function listFiles(dir: string): string[] {
  try {
    return fs().readdirSync(dir);
  } catch {
    return [];
  }
}

/** Removes a file; false when it was already gone or could not be removed. */
export function removeFileSync(path: string): boolean {
  try {
    fs().unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

export function joinPath(...parts: string[]): string {
  return nodePath().join(...parts);
}

/** Random bytes identifying this process's records. */
export function writerId(n: number): Uint8Array {
  return new Uint8Array(crypto().randomBytes(n));
}

export { getUid };
