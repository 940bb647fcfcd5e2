// PBKDF2 (RFC 8018 §5.2) for string-to-key, without blocking the event loop. A KDC's
// PREAUTH_REQUIRED names the iteration count before anything is authenticated, so the cost of
// this step is the attacker's choice up to the cap. WebCrypto's deriveBits runs natively and off
// the JavaScript thread on Node, Bun and Deno; where WebCrypto is absent we fall back to
// @noble's pbkdf2Async, which yields to the event loop every few milliseconds.

import { sha1 } from '@noble/hashes/legacy.js';
import { pbkdf2 as noblePbkdf2, pbkdf2Async as noblePbkdf2Async } from '@noble/hashes/pbkdf2.js';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import type { CHash } from '@noble/hashes/utils.js';
import type { Pbkdf2Hash, Pbkdf2Step } from './types.js';

const NOBLE: Record<Pbkdf2Hash, CHash> = { 'SHA-1': sha1, 'SHA-256': sha256, 'SHA-384': sha384 };

/** The part of WebCrypto's SubtleCrypto that PBKDF2 needs (injectable for tests). */
export interface Pbkdf2Subtle {
  importKey(
    format: 'raw',
    keyData: Uint8Array<ArrayBuffer>,
    algorithm: 'PBKDF2',
    extractable: false,
    usages: ['deriveBits'],
  ): Promise<unknown>;
  deriveBits(
    algorithm: { name: 'PBKDF2'; hash: Pbkdf2Hash; salt: Uint8Array<ArrayBuffer>; iterations: number },
    key: unknown,
    length: number,
  ): Promise<ArrayBuffer>;
}

function webCrypto(): Pbkdf2Subtle | undefined {
  const subtle = (globalThis as { crypto?: { subtle?: Partial<Pbkdf2Subtle> } }).crypto?.subtle;
  return typeof subtle?.deriveBits === 'function' && typeof subtle.importKey === 'function'
    ? (subtle as Pbkdf2Subtle)
    : undefined;
}

/** Copies into a fresh ArrayBuffer-backed array, as WebCrypto's BufferSource typing wants. */
const own = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);

/**
 * Runs one PBKDF2 step without blocking: WebCrypto where present (`subtle` overrides the global,
 * `null` forces the @noble fallback).
 */
export async function pbkdf2Step(
  step: Pbkdf2Step,
  password: Uint8Array,
  subtle: Pbkdf2Subtle | null | undefined = webCrypto(),
): Promise<Uint8Array> {
  if (subtle) {
    const pw = own(password);
    try {
      const key = await subtle.importKey('raw', pw, 'PBKDF2', false, ['deriveBits']);
      const bits = await subtle.deriveBits(
        { name: 'PBKDF2', hash: step.hash, salt: own(step.salt), iterations: step.iterations },
        key,
        step.dkLen * 8,
      );
      return new Uint8Array(bits);
    } finally {
      pw.fill(0);
    }
  }
  return noblePbkdf2Async(NOBLE[step.hash], password, step.salt, { c: step.iterations, dkLen: step.dkLen });
}

/** The same step on the calling thread, for trusted parameters only (a KDC deriving its own keys). */
export function pbkdf2StepSync(step: Pbkdf2Step, password: Uint8Array): Uint8Array {
  return noblePbkdf2(NOBLE[step.hash], password, step.salt, { c: step.iterations, dkLen: step.dkLen });
}
