// Per-key caches of derived keys (RFC 3961 §5.3 Kc/Ke/Ki are a pure function of base key and
// usage, so deriving them once per key+usage instead of once per message saves 2-6 block
// encryptions or HMACs per call), plus keyed-HMAC instances whose ipad/opad state is precomputed.
import { hmac } from '@noble/hashes/hmac.js';
import type { CHash } from '@noble/hashes/utils.js';
import { nativeHmac } from '../runtime/native-aes.js';
import type { Key } from './types.js';
import { constantTimeEqual } from './util.js';

/** Usages remembered per key; usage numbers in real use are few (RFC 4120 §7.5.1 lists ~30). */
const MAX_USAGES_PER_KEY = 32;

interface Entry<S> {
  readonly enctype: number;
  readonly snapshot: Uint8Array;
  readonly state: S;
}

/**
 * Keyed on the key's `bytes` array (weakly, so entries go with the key), which also lets two Key
 * objects wrapping the same decoded array share work. A snapshot of the bytes guards against a
 * caller that overwrites the array in place (e.g. to wipe it): the stale entry is then rebuilt.
 */
export class KeyStateCache<S> {
  readonly #map = new WeakMap<Uint8Array, Entry<S>>();
  readonly #make: (bytes: Uint8Array) => S;
  constructor(make: (bytes: Uint8Array) => S) {
    this.#make = make;
  }
  get(key: Key): S {
    const e = this.#map.get(key.bytes);
    if (e !== undefined && e.enctype === key.enctype && constantTimeEqual(e.snapshot, key.bytes))
      return e.state;
    const snapshot = key.bytes.slice();
    const state = this.#make(snapshot);
    this.#map.set(key.bytes, { enctype: key.enctype, snapshot, state });
    return state;
  }
}

/** A bounded usage → derived-value map: when full, the oldest usage is forgotten. */
export class UsageMap<V> {
  readonly #map = new Map<number, V>();
  get(usage: number, make: () => V): V {
    let v = this.#map.get(usage);
    if (v === undefined) {
      v = make();
      if (this.#map.size >= MAX_USAGES_PER_KEY) {
        const oldest = this.#map.keys().next().value;
        if (oldest !== undefined) this.#map.delete(oldest);
      }
      this.#map.set(usage, v);
    }
    return v;
  }
}

/** The hashes our HMACs use, by name, for a native backend. */
export type HmacHash = 'md5' | 'sha1' | 'sha256' | 'sha384';

/**
 * HMAC from the platform (node:crypto, src/runtime/native-aes.ts) where there is one: long inputs
 * go through it, short ones stay in @noble/hashes (a native call costs more than it saves there).
 */
export interface HmacBackend {
  hmac(hash: HmacHash, key: Uint8Array, a: Uint8Array, b?: Uint8Array): Uint8Array;
}

let hmacBackend: HmacBackend | undefined = nativeHmac();
const HMAC_BACKEND_MIN = 512;

/** Sets (or, with undefined, removes) the native HMAC used for long inputs. */
export function setHmacBackend(b: HmacBackend | undefined): void {
  hmacBackend = b;
}

function hashName(hash: CHash): HmacHash | undefined {
  switch (`${hash.outputLen}/${hash.blockLen}`) {
    case '16/64':
      return 'md5';
    case '20/64':
      return 'sha1';
    case '32/64':
      return 'sha256';
    case '48/128':
      return 'sha384';
    default:
      return undefined;
  }
}

type Hmac = ReturnType<typeof hmac.create>;
type HmacWork = Parameters<Hmac['_cloneInto']>[0];

/** HMAC with a fixed key: the padded-key hash state is computed once and cloned per message. */
export class KeyedHmac {
  readonly #base: Hmac;
  readonly #out: Uint8Array;
  #work: HmacWork;
  readonly #key: Uint8Array;
  readonly #hash: HmacHash | undefined;
  constructor(hash: CHash, key: Uint8Array) {
    this.#base = hmac.create(hash, key);
    this.#out = new Uint8Array(this.#base.outputLen);
    this.#key = key.slice();
    this.#hash = hashName(hash);
  }
  /** HMAC over `a | b`, truncated to `outLen` bytes (a fresh array). */
  mac(outLen: number, a: Uint8Array, b?: Uint8Array): Uint8Array {
    if (hmacBackend && this.#hash && a.length + (b?.length ?? 0) >= HMAC_BACKEND_MIN)
      return hmacBackend.hmac(this.#hash, this.#key, a, b).slice(0, outLen);
    // Reusing one working instance is safe: everything here is synchronous.
    const h = this.#base._cloneInto(this.#work);
    this.#work = h;
    h.update(a);
    if (b !== undefined) h.update(b);
    h.digestInto(this.#out);
    return this.#out.slice(0, outLen);
  }
}
