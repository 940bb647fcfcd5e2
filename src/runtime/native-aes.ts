// The platform's AES-CBC and HMAC (node:crypto, found with process.getBuiltinModule so that nothing is
// imported where node: built-ins do not exist: Workers, Vercel Edge). Node, Bun and Deno have
// it; elsewhere this is undefined and the pure-JS AES is used.
import type * as NodeCrypto from 'node:crypto';

export interface NativeAesCbc {
  encrypt(key: Uint8Array, blocks: Uint8Array): Uint8Array;
  decrypt(key: Uint8Array, blocks: Uint8Array): Uint8Array;
}

const ZERO_IV = new Uint8Array(16);

function algorithm(key: Uint8Array): string {
  return key.length === 16 ? 'aes-128-cbc' : 'aes-256-cbc';
}

function joined(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (b.length === 0) return new Uint8Array(a.buffer, a.byteOffset, a.length);
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function nodeCrypto(): typeof NodeCrypto | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    const c = proc?.getBuiltinModule?.('node:crypto') as typeof NodeCrypto | undefined;
    return c && typeof c.createCipheriv === 'function' && typeof c.createHmac === 'function' ? c : undefined;
  } catch {
    return undefined;
  }
}

export interface NativeHmac {
  hmac(
    hash: 'md5' | 'sha1' | 'sha256' | 'sha384',
    key: Uint8Array,
    a: Uint8Array,
    b?: Uint8Array,
  ): Uint8Array;
}

export function nativeHmac(): NativeHmac | undefined {
  const crypto = nodeCrypto();
  if (!crypto) return undefined;
  return {
    hmac(hash, key, a, b) {
      const h = crypto.createHmac(hash, key).update(a);
      if (b !== undefined) h.update(b);
      const d = h.digest();
      return new Uint8Array(d.buffer, d.byteOffset, d.length);
    },
  };
}

export function nativeAesCbc(): NativeAesCbc | undefined {
  const crypto = nodeCrypto();
  if (!crypto) return undefined;
  return {
    encrypt(key, blocks) {
      const ci = crypto.createCipheriv(algorithm(key), key, ZERO_IV);
      ci.setAutoPadding(false);
      return joined(ci.update(blocks), ci.final());
    },
    decrypt(key, blocks) {
      const de = crypto.createDecipheriv(algorithm(key), key, ZERO_IV);
      de.setAutoPadding(false);
      return joined(de.update(blocks), de.final());
    },
  };
}
