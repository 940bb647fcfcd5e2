// File access for credential stores and config. The only module (with its siblings in
// src/runtime) allowed to import `node:` built-ins, so protocol code stays portable.
import type * as NodeCrypto from 'node:crypto';
import type * as NodeFs from 'node:fs';
import type * as NodePath from 'node:path';
import { builtin } from './builtin.js';

const fs = () => builtin<typeof NodeFs>('node:fs');
const nodePath = () => builtin<typeof NodePath>('node:path');
const crypto = () => builtin<typeof NodeCrypto>('node:crypto');

export interface FileStat {
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
  mode: number;
  isFile: boolean;
  isDirectory: boolean;
}

/** Reads a whole file, or returns undefined when it does not exist. Other errors propagate. */
export async function readFileIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    const buf = await fs().promises.readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

export async function readFile(path: string): Promise<Uint8Array> {
  const buf = await fs().promises.readFile(path);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export async function readTextFile(path: string): Promise<string> {
  return fs().promises.readFile(path, 'utf8');
}

export async function statFile(path: string): Promise<FileStat | undefined> {
  try {
    const s = await fs().promises.stat(path);
    return {
      size: s.size,
      mtimeMs: s.mtimeMs,
      ino: s.ino,
      dev: s.dev,
      mode: s.mode,
      isFile: s.isFile(),
      isDirectory: s.isDirectory(),
    };
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return undefined;
    throw e;
  }
}

export async function listDir(path: string): Promise<string[]> {
  return (await fs().promises.readdir(path)).sort();
}

export async function removeFile(path: string): Promise<boolean> {
  try {
    await fs().promises.unlink(path);
    return true;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return false;
    throw e;
  }
}

export async function makeDir(path: string, mode = 0o700): Promise<void> {
  await fs().promises.mkdir(path, { recursive: true, mode });
}

/**
 * Atomic replace: write a temp file in the same directory, fsync it, rename it over `path`,
 * then fsync the directory. A reader (or MIT klist) sees the old file or the new one, never a
 * half-written one. The temp file is removed if anything fails.
 */
export async function writeFileAtomic(path: string, data: Uint8Array, mode = 0o600): Promise<void> {
  const dir = nodePath().dirname(path);
  const tmp = nodePath().join(
    dir,
    `.${nodePath().basename(path)}.${crypto().randomBytes(6).toString('hex')}.tmp`,
  );
  const fh = await fs().promises.open(
    tmp,
    fs().constants.O_WRONLY | fs().constants.O_CREAT | fs().constants.O_EXCL,
    mode,
  );
  try {
    try {
      await fh.writeFile(data);
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs().promises.rename(tmp, path);
  } catch (e) {
    await fs()
      .promises.unlink(tmp)
      .catch(() => undefined);
    throw e;
  }
  try {
    const dh = await fs().promises.open(dir, fs().constants.O_RDONLY);
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself is already atomic.
  }
}

/**
 * Deno without `--allow-write` (or with it for other paths): node:fs refuses with a `NotCapable`
 * error (`PermissionDenied` before Deno 2) naming the flag.
 */
export function isWritePermissionDenied(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  return e.name === 'NotCapable' || e.name === 'PermissionDenied' || /--allow-write\b/.test(e.message);
}

export function isErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}
