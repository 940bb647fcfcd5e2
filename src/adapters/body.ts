// Request bodies the adapters must hold whole (a second Negotiate leg re-sends them).
import { concat } from '../asn1/der.js';

/** Reads a streamed body to its end, strings as UTF-8. */
export async function collectBody(source: AsyncIterable<Uint8Array | string>): Promise<Uint8Array> {
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for await (const c of source) chunks.push(typeof c === 'string' ? encoder.encode(c) : c);
  return concat(chunks);
}
