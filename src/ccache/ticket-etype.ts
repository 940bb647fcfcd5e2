// klist -e shows the ticket's own enctype (enc-part.etype), which only the DER Ticket holds.
// This is a deliberately tiny, tolerant DER walk: a ccache entry whose ticket does not decode
// (config entries, foreign junk) just has no ticket enctype, it does not make the cache invalid.
//
// Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1], sname [2], enc-part [3] }
// EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL, cipher [2] OCTET STRING }
import type { Principal } from './principal-text.js';

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

function readTlv(b: Uint8Array, at: number, limit: number): Tlv | undefined {
  if (at + 2 > limit) return undefined;
  const tag = b[at] as number;
  if ((tag & 0x1f) === 0x1f) return undefined; // high tag numbers never occur here
  let len = b[at + 1] as number;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (b[p++] as number);
  }
  if (p + len > limit) return undefined;
  return { tag, start: p, end: p + len };
}

function child(b: Uint8Array, outer: Tlv, tag: number): Tlv | undefined {
  let p = outer.start;
  while (p < outer.end) {
    const t = readTlv(b, p, outer.end);
    if (t === undefined) return undefined;
    if (t.tag === tag) return t;
    p = t.end;
  }
  return undefined;
}

function readInt(b: Uint8Array, t: Tlv | undefined): number | undefined {
  if (t === undefined || t.tag !== 0x02 || t.end === t.start || t.end - t.start > 4) return undefined;
  let v = (b[t.start] as number) & 0x80 ? -1 : 0;
  for (let i = t.start; i < t.end; i++) v = (v << 8) | (b[i] as number);
  return v;
}

const text = new TextDecoder();

function readString(b: Uint8Array, t: Tlv | undefined): string | undefined {
  return t === undefined || t.tag !== 0x1b ? undefined : text.decode(b.subarray(t.start, t.end));
}

/** The parts of a DER Ticket that klist shows: its server name and enc-part etype. */
export interface TicketSummary {
  etype: number;
  server: Principal | undefined;
}

function explicit(b: Uint8Array, outer: Tlv, tag: number): Tlv | undefined {
  const wrapper = child(b, outer, tag);
  return wrapper === undefined ? undefined : readTlv(b, wrapper.start, wrapper.end);
}

function readServer(b: Uint8Array, seq: Tlv): Principal | undefined {
  const realm = readString(b, explicit(b, seq, 0xa1));
  const sname = explicit(b, seq, 0xa2);
  if (realm === undefined || sname === undefined || sname.tag !== 0x30) return undefined;
  const nameType = readInt(b, explicit(b, sname, 0xa0));
  const list = explicit(b, sname, 0xa1);
  if (nameType === undefined || list === undefined || list.tag !== 0x30) return undefined;
  const nameString: string[] = [];
  for (let p = list.start; p < list.end; ) {
    const t = readTlv(b, p, list.end);
    const s = readString(b, t);
    if (t === undefined || s === undefined) return undefined;
    nameString.push(s);
    p = t.end;
  }
  return { realm, name: { nameType, nameString } };
}

/** Summary of a DER Ticket, or undefined when it does not decode. */
export function summarizeTicket(ticket: Uint8Array): TicketSummary | undefined {
  const app = readTlv(ticket, 0, ticket.length);
  if (app === undefined || app.tag !== 0x61) return undefined;
  const seq = readTlv(ticket, app.start, app.end);
  if (seq === undefined || seq.tag !== 0x30) return undefined;
  const encData = explicit(ticket, seq, 0xa3);
  if (encData === undefined || encData.tag !== 0x30) return undefined;
  const etype = readInt(ticket, explicit(ticket, encData, 0xa0));
  if (etype === undefined) return undefined;
  return { etype, server: readServer(ticket, seq) };
}

/** The enc-part etype of a DER Ticket, or undefined when it does not decode. */
export function ticketEnctype(ticket: Uint8Array): number | undefined {
  return summarizeTicket(ticket)?.etype;
}
