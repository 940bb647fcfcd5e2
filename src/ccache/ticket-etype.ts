// klist -e shows the ticket's own enctype (enc-part.etype), which only the DER Ticket holds.
// This is a deliberately tiny, tolerant DER walk: a ccache entry whose ticket does not decode
// (config entries, foreign junk) just has no ticket enctype, it does not make the cache invalid.
//
// Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1], sname [2], enc-part [3] }
// EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL, cipher [2] OCTET STRING }

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

/** The enc-part etype of a DER Ticket, or undefined when it does not decode. */
export function ticketEnctype(ticket: Uint8Array): number | undefined {
  const app = readTlv(ticket, 0, ticket.length);
  if (app === undefined || app.tag !== 0x61) return undefined;
  const seq = readTlv(ticket, app.start, app.end);
  if (seq === undefined || seq.tag !== 0x30) return undefined;
  const encPartTag = child(ticket, seq, 0xa3);
  if (encPartTag === undefined) return undefined;
  const encData = readTlv(ticket, encPartTag.start, encPartTag.end);
  if (encData === undefined || encData.tag !== 0x30) return undefined;
  const etypeTag = child(ticket, encData, 0xa0);
  if (etypeTag === undefined) return undefined;
  const int = readTlv(ticket, etypeTag.start, etypeTag.end);
  if (int === undefined || int.tag !== 0x02 || int.end === int.start || int.end - int.start > 4) return undefined;
  let v = (ticket[int.start] as number) & 0x80 ? -1 : 0;
  for (let i = int.start; i < int.end; i++) v = (v << 8) | (ticket[i] as number);
  return v;
}
