import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function loadVectors<T>(name: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, '..', 'vectors', 'crypto', name), 'utf8')) as T;
}

import assert from 'node:assert/strict';
import {
  getEnctype,
  type Key,
  type StringToKeyOptions,
  stringToKey,
  stringToKeySync,
} from '../../src/crypto/index.js';
import { pbkdf2Step } from '../../src/crypto/pbkdf2.js';

/**
 * string-to-key by every path: `stringToKey` (WebCrypto), the @noble fallback used where
 * WebCrypto is absent, and `stringToKeySync`. They must agree; returns the key.
 */
export async function stringToKeyEveryWay(
  enctype: number,
  password: string | Uint8Array,
  salt: string | Uint8Array,
  params?: Uint8Array,
  opts: StringToKeyOptions = {},
): Promise<Key> {
  const key = await stringToKey(enctype, password, salt, params, opts);
  const sync = stringToKeySync(enctype, password, salt, params, opts);
  assert.equal(toHex(sync.bytes), toHex(key.bytes), 'synchronous path');
  const enc = new TextEncoder();
  const bytes = (v: string | Uint8Array) => (typeof v === 'string' ? enc.encode(v) : v);
  const plan = getEnctype(enctype, { allowWeak: true }).stringToKeyPlan(bytes(salt), params);
  const pw = bytes(password);
  const noble = plan.finish(plan.pbkdf2 === undefined ? pw : await pbkdf2Step(plan.pbkdf2, pw, null));
  assert.equal(toHex(noble), toHex(key.bytes), '@noble fallback path');
  return key;
}
