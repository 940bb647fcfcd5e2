// The asn1 decoders' fuzz inputs, shared by the property tests (CI) and `npm run fuzz`.
import { readdirSync, readFileSync } from 'node:fs';
import * as asn1 from '../../src/asn1/index.js';
import { verifyWire } from '../interop/helpers/verify-wire.js';
import type { WireFixture } from '../interop/helpers/wire.js';

const vectors = new URL('../vectors/', import.meta.url);
const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));

/** Every TLV inside `bytes` (a real PrincipalName, EncryptedData...), as seeds for the small decoders. */
function subTlvs(bytes: Uint8Array, out: Uint8Array[], depth = 0): void {
  let off = 0;
  while (off + 2 <= bytes.length && depth < 16) {
    const start = off;
    const tag = bytes[off++] as number;
    let len = bytes[off++] as number;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 3 || off + n > bytes.length) return;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + (bytes[off++] as number);
    }
    if (off + len > bytes.length) return;
    const tlv = bytes.subarray(start, off + len);
    out.push(tlv);
    if (tag & 0x20) subTlvs(bytes.subarray(off, off + len), out, depth + 1);
    off += len;
  }
}

/** Real MIT traffic and every TLV inside it: the seeds the asn1 decoders are fuzzed from. */
export function asn1Seeds(): Uint8Array[] {
  const top: Uint8Array[] = [];
  for (const f of readdirSync(new URL('mit-wire/', vectors)).filter((n) => n.endsWith('.json'))) {
    const fx = JSON.parse(readFileSync(new URL(`mit-wire/${f}`, vectors), 'utf8')) as WireFixture;
    top.push(...fx.messages.map((m) => fromHex(m.hex)));
    // The decrypted parts too, so EncKDCRepPart, EncTicketPart and friends get real seeds.
    const v = verifyWire(fx);
    top.push(
      asn1.encodeEncKdcRepPart(v.encAsRepPart),
      asn1.encodeEncKdcRepPart(v.encTgsRepPart),
      asn1.encodeEncTicketPart(v.tgt),
      asn1.encodeEncTicketPart(v.serviceTicket),
    );
  }
  for (const f of ['mit-kdc-exchange.json', 'mit-ccache-tickets.json']) {
    const j = JSON.parse(readFileSync(new URL(`asn1/${f}`, vectors), 'utf8')) as Record<
      string,
      Record<string, string>
    >;
    for (const group of Object.values(j))
      if (typeof group === 'object')
        top.push(
          ...Object.values(group)
            .filter((h) => typeof h === 'string')
            .map(fromHex),
        );
  }
  top.push(
    asn1.encodeNegTokenInit({ mechTypes: [asn1.OID_MS_KRB5, asn1.OID_KRB5], mechToken: new Uint8Array(40) }),
    asn1.encodeNegTokenResp({
      negState: 'accept-completed',
      supportedMech: asn1.OID_KRB5,
      responseToken: new Uint8Array(30),
      mechListMIC: new Uint8Array(16),
    }),
    asn1.encodeGssToken(asn1.OID_KRB5, new Uint8Array([1, 0, 0x30, 0])),
  );
  const all: Uint8Array[] = [];
  for (const s of top) subTlvs(s, all);
  // Deduplicate by content; keep the pool varied but bounded.
  const seen = new Set<string>();
  return all.filter((s) => {
    const k = Buffer.from(s).toString('hex');
    if (seen.has(k) || s.length < 2) return false;
    seen.add(k);
    return true;
  });
}

/** Every one-argument decoder src/asn1 exports, found by name so a new one is fuzzed too. */
export function asn1Decoders(): [string, (b: Uint8Array) => unknown][] {
  const decoders: [string, (b: Uint8Array) => unknown][] = [];
  for (const [name, value] of Object.entries(asn1) as [string, unknown][]) {
    if (name.startsWith('decode') && typeof value === 'function' && value.length === 1) {
      decoders.push([name, value as (b: Uint8Array) => unknown]);
    }
  }
  return decoders;
}
