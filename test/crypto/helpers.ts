import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function loadVectors<T>(name: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, '..', 'vectors', 'crypto', name), 'utf8')) as T;
}
