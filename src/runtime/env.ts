// Process environment, identity and clock: read here so the rest of the code can run (and be
// tested) without touching globals.
import { tmpdir, userInfo } from 'node:os';

export function getEnv(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** The effective uid as MIT's %{uid} expands it; 0 where the platform has none. */
export function getUid(): number {
  return typeof process.geteuid === 'function' ? process.geteuid() : 0;
}

export function getUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return getEnv('USER') ?? getEnv('USERNAME') ?? 'unknown';
  }
}

/** MIT's %{TEMP}: TMPDIR, else /tmp. */
export function getTempDir(): string {
  return getEnv('TMPDIR') ?? tmpdir();
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
