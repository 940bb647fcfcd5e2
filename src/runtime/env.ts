// Process environment, identity and clock: read here so the rest of the code can run (and be
// tested) without touching globals.
import type * as NodeOs from 'node:os';
import { builtin } from './builtin.js';

const os = () => builtin<typeof NodeOs>('node:os');

export function getEnv(name: string): string | undefined {
  // Edge runtimes have no `process` (or one without env): no variable is set there.
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  return v === undefined || v === '' ? undefined : v;
}

/** The effective uid as MIT's %{uid} expands it; 0 where the platform has none. */
export function getUid(): number {
  const p = (globalThis as { process?: { geteuid?: () => number } }).process;
  return typeof p?.geteuid === 'function' ? p.geteuid() : 0;
}

export function getUsername(): string {
  try {
    return os().userInfo().username;
  } catch {
    return getEnv('USER') ?? getEnv('USERNAME') ?? 'unknown';
  }
}

/** MIT's %{TEMP}: TMPDIR, else /tmp. */
export function getTempDir(): string {
  return getEnv('TMPDIR') ?? os().tmpdir();
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
