// Small byte helpers shared by the profiles. Inputs are checked at the boundary, as @noble does.
import { CryptoError } from '../errors.js';

const utf8 = new TextEncoder();

/** Strings are UTF-8 (RFC 3961 §3: passwords and salts are UTF-8 in practice, MIT does the same). */
export function toBytes(v: string | Uint8Array): Uint8Array {
  return typeof v === 'string' ? utf8.encode(v) : v;
}

/**
 * Compares in time that depends only on the lengths, so a MAC check leaks nothing about where the
 * first differing byte is. Different lengths return false at once (lengths are public).
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Key usage numbers are unsigned 32-bit (RFC 4120 §7.5.1; RFC 3961 §5.3 puts them in 4 octets). */
export function checkUsage(usage: number): void {
  if (!Number.isInteger(usage) || usage < 0 || usage > 0xffffffff) {
    throw new CryptoError('BAD_PARAMS', `key usage must be an unsigned 32-bit integer, got ${usage}`);
  }
}

/** The 5-octet derivation constant of RFC 3961 §5.3 / RFC 8009 §5: usage (big-endian) | kind. */
export function usageConstant(usage: number, kind: number): Uint8Array {
  return new Uint8Array([usage >>> 24, (usage >>> 16) & 0xff, (usage >>> 8) & 0xff, usage & 0xff, kind]);
}

/** RFC 3961 §5.3: Kc = DK(base, usage | 0x99), Ke = (… | 0xAA), Ki = (… | 0x55). */
export const KC = 0x99;
export const KE = 0xaa;
export const KI = 0x55;

/**
 * PBKDF2 iteration count from s2kparams (RFC 3962 §4: four octets, unsigned big-endian).
 * RFC 3962 reads 00000000 as 2^32; like MIT we refuse it, and refuse counts of 2^24 or more (MIT's
 * MAX_ITERATION_COUNT), so a spoofed KDC reply cannot make us spin for hours.
 */
export const MAX_PBKDF2_ITERATIONS = 0x1000000 - 1;

export function pbkdf2Iterations(params: Uint8Array | undefined, defaultCount: number): number {
  if (params === undefined) return defaultCount;
  if (params.length !== 4) {
    throw new CryptoError('BAD_PARAMS', `s2kparams must be 4 octets, got ${params.length}`);
  }
  const count = ((params[0]! << 24) | (params[1]! << 16) | (params[2]! << 8) | params[3]!) >>> 0;
  if (count === 0 || count > MAX_PBKDF2_ITERATIONS) {
    throw new CryptoError(
      'BAD_PARAMS',
      `PBKDF2 iteration count ${count} is out of range 1..${MAX_PBKDF2_ITERATIONS}`,
      {
        hint: 'the KDC sent absurd string-to-key parameters (etype-info2 s2kparams); check the principal in the KDC',
      },
    );
  }
  return count;
}

export function checkKeyLength(bytes: Uint8Array, expected: number, what: string): void {
  if (bytes.length !== expected) {
    throw new CryptoError('BAD_LENGTH', `${what} key must be ${expected} bytes, got ${bytes.length}`);
  }
}
