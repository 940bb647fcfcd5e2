// Random bytes for confounders, subkeys, nonces and sequence numbers. Node's Web Crypto
// getRandomValues costs several microseconds per call whatever the size, and a single token
// needs four or five small draws, so we draw 4 KiB at a time from the CSPRNG and hand out
// slices; every byte handed out is zeroed in the pool, so none is ever given twice.
const POOL_BYTES = 4096;
let pool: Uint8Array<ArrayBuffer> = new Uint8Array(0);
let offset = 0;

export function randomBytes(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0) throw new Error(`randomBytes: bad length ${n}`);
  if (n > POOL_BYTES / 4) {
    const out = new Uint8Array(n);
    fill(out);
    return out;
  }
  if (offset + n > pool.length) {
    pool = new Uint8Array(POOL_BYTES);
    fill(pool);
    offset = 0;
  }
  const out = pool.slice(offset, offset + n);
  pool.fill(0, offset, offset + n);
  offset += n;
  return out;
}

/** A uniformly random unsigned 32-bit integer. */
export function randomUint32(): number {
  const b = randomBytes(4);
  return ((b[0] ?? 0) * 0x1000000 + ((b[1] ?? 0) << 16) + ((b[2] ?? 0) << 8) + (b[3] ?? 0)) >>> 0;
}

function fill(buf: Uint8Array<ArrayBuffer>): void {
  // getRandomValues accepts at most 65536 bytes per call.
  for (let i = 0; i < buf.length; i += 65536) globalThis.crypto.getRandomValues(buf.subarray(i, i + 65536));
}
