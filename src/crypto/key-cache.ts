// Per-key caches of derived keys (RFC 3961 §5.3 Kc/Ke/Ki are a pure function of base key and
// usage, so deriving them once per key+usage instead of once per message saves 2-6 block
// encryptions or HMACs per call), plus keyed-HMAC instances whose ipad/opad state is precomputed.
import { hmac } from '@noble/hashes/hmac.js';
import type { CHash } from '@noble/hashes/utils.js';
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

type Hmac = ReturnType<typeof hmac.create>;
type HmacWork = Parameters<Hmac['_cloneInto']>[0];

/** HMAC with a fixed key: the padded-key hash state is computed once and cloned per message. */
export class KeyedHmac {
  readonly #base: Hmac;
  readonly #out: Uint8Array;
  #work: HmacWork;
  constructor(hash: CHash, key: Uint8Array) {
    this.#base = hmac.create(hash, key);
    this.#out = new Uint8Array(this.#base.outputLen);
  }
  /** HMAC over `a | b`, truncated to `outLen` bytes (a fresh array). */
  mac(outLen: number, a: Uint8Array, b?: Uint8Array): Uint8Array {
    // Reusing one working instance is safe: everything here is synchronous.
    const h = this.#base._cloneInto(this.#work);
    this.#work = h;
    h.update(a);
    if (b !== undefined) h.update(b);
    h.digestInto(this.#out);
    return this.#out.slice(0, outLen);
  }
}
