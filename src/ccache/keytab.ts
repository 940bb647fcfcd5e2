// MIT FILE keytab (see specs/mit-keytab-file-format.rst): read 0x0501 and 0x0502, write 0x0502.
// Records are framed by a signed 32-bit length: negative = a hole left by a deleted entry,
// zero = end of file. A record may be longer than its entry; when at least 4 spare bytes
// follow, they hold a 32-bit kvno (MIT >= 1.14) that overrides the 8-bit one unless zero.
import type { EncryptionKey } from '../asn1/types.js';
import { NameType } from '../asn1/types.js';
import { CredentialsError } from '../errors.js';
import { writeFileAtomic } from '../runtime/fs.js';
import { ByteReader, ByteWriter, decodeText, encodeText, readCredentialFile } from './bytes.js';
import { type Principal, parsePrincipal } from './principal-text.js';

export interface KeytabEntry {
  principal: Principal;
  /** Seconds since the epoch when the key was written. */
  timestamp: number;
  /** Effective key version: the 32-bit one when present and non-zero, else the 8-bit one. */
  kvno: number;
  key: EncryptionKey;
}

export interface Keytab {
  /** 1 or 2 as read; we always write 2. */
  version: number;
  entries: KeytabEntry[];
}

export function parseKeytab(bytes: Uint8Array): Keytab {
  if (bytes.length < 2 || bytes[0] !== 5 || (bytes[1] !== 1 && bytes[1] !== 2)) {
    throw new CredentialsError('KEYTAB_FORMAT', 'not an MIT keytab (expected 0x0501 or 0x0502)', {
      hint: 'create the keytab with kadmin ktadd or ktutil',
    });
  }
  const version = bytes[1] as number;
  const r = new ByteReader(bytes.subarray(2), version === 1, 'KEYTAB_FORMAT', 'keytab');
  const entries: KeytabEntry[] = [];
  while (r.remaining >= 4) {
    const len = r.i32('record length');
    if (len === 0) break;
    if (len < 0) {
      r.skip(-len, 'deleted-entry hole');
      continue;
    }
    entries.push(readEntry(r.sub(len, 'keytab record'), version));
  }
  // A file ending in fewer than 4 bytes is what MIT leaves after a crash mid-append; it stops
  // reading there too, so so do we.
  return { version, entries };
}

function readData(r: ByteReader, field: string): Uint8Array {
  return r.take(r.u16(`${field} length`), field);
}

function readEntry(r: ByteReader, version: number): KeytabEntry {
  let count = r.u16('component count');
  if (version === 1) {
    if (count === 0) r.fail('v1 principal with no realm');
    count -= 1;
  }
  r.count(count + 1, 2, 'principal component');
  const realm = decodeText(readData(r, 'realm'));
  const nameString: string[] = [];
  for (let i = 0; i < count; i++) nameString.push(decodeText(readData(r, 'component')));
  const nameType = version === 1 ? NameType.UNKNOWN : r.i32('name type');
  const timestamp = r.u32('timestamp');
  let kvno = r.u8('kvno');
  // MIT reads the enctype as a signed 16-bit value (negative Microsoft enctypes).
  const keytype = (r.u16('enctype') << 16) >> 16;
  const keyvalue = readData(r, 'key');
  if (r.remaining >= 4) {
    const kvno32 = r.u32('32-bit kvno');
    if (kvno32 !== 0) kvno = kvno32;
  }
  return {
    principal: { realm, name: { nameType, nameString } },
    timestamp,
    kvno,
    key: { keytype, keyvalue },
  };
}

export function serializeKeytab(entries: readonly KeytabEntry[]): Uint8Array {
  const w = new ByteWriter(64 + entries.length * 96);
  w.u8(5).u8(2);
  for (const e of entries) {
    const at = w.length;
    w.u32(0); // record length, patched below
    const comps = e.principal.name.nameString;
    if (comps.length > MAX_16) tooLong('principal components');
    w.u16(comps.length);
    writeData(w, encodeText(e.principal.realm));
    for (const s of comps) writeData(w, encodeText(s));
    w.u32(e.principal.name.nameType).u32(e.timestamp);
    w.u8(e.kvno & 0xff).u16(e.key.keytype);
    writeData(w, e.key.keyvalue);
    w.u32(e.kvno);
    w.setU32(at, w.length - at - 4);
  }
  return w.finish();
}

function writeData(w: ByteWriter, b: Uint8Array): void {
  if (b.length > MAX_16) tooLong('field');
  w.u16(b.length).bytes(b);
}

// MIT reads counts and lengths as signed 16-bit and stops at a negative one (KRB5_KT_END):
// anything longer would hide this entry and every later one from MIT tools.
const MAX_16 = 0x7fff;

function tooLong(what: string): never {
  throw new CredentialsError('KEYTAB_FORMAT', `keytab ${what} longer than ${MAX_16} cannot be written`);
}

export async function readKeytab(path: string): Promise<Keytab> {
  const bytes = await readCredentialFile(path, 'keytab');
  if (bytes === undefined) {
    throw new CredentialsError('KEYTAB_NOT_FOUND', `no keytab at FILE:${path}`, {
      hint: 'check the path, or set KRB5_KTNAME / KRB5_CLIENT_KTNAME',
    });
  }
  return parseKeytab(bytes);
}

/** Atomic replace, mode 0600: keys are secrets. */
export async function writeKeytab(path: string, entries: readonly KeytabEntry[]): Promise<void> {
  await writeFileAtomic(path, serializeKeytab(entries), 0o600);
}

export interface KeytabQuery {
  /** Components, e.g. `['HTTP', 'localhost']` or the text `HTTP/localhost`. */
  principal: string[] | string;
  realm: string;
  /** Any enctype when absent (or 0). */
  enctype?: number;
  /** The most recent key when absent (or 0). */
  kvno?: number;
}

function matchesPrincipal(e: KeytabEntry, comps: string[], realm: string): boolean {
  const n = e.principal.name.nameString;
  return e.principal.realm === realm && n.length === comps.length && n.every((s, i) => s === comps[i]);
}

/**
 * MIT's choice of "most recent" between two entries, allowing for an 8-bit kvno that wrapped
 * past 255: a small kvno written no earlier than a large one is taken to be newer.
 */
function moreRecent(a: KeytabEntry, b: KeytabEntry): boolean {
  if (a.kvno < 128 && b.kvno > 127 && a.timestamp >= b.timestamp) return true;
  if (a.kvno > 127 && b.kvno < 128 && a.timestamp <= b.timestamp) return false;
  return a.kvno > b.kvno;
}

/**
 * Selects a key as MIT's FILE keytab does: same realm and components (name type ignored),
 * enctype when asked; with no kvno the most recent entry; with a kvno an exact match, or else
 * one whose kvno equals its low 8 bits (entries written with only the 8-bit field). An entry
 * with kvno 0 matches any kvno asked for.
 */
export function findKeytabEntry(kt: Keytab, q: KeytabQuery): KeytabEntry | undefined {
  const comps = typeof q.principal === 'string' ? splitComponents(q.principal) : q.principal;
  const wantKvno = q.kvno ?? 0;
  let best: KeytabEntry | undefined;
  let truncatedMatch: KeytabEntry | undefined;
  for (const e of kt.entries) {
    if (!matchesPrincipal(e, comps, q.realm)) continue;
    if (q.enctype !== undefined && q.enctype !== 0 && e.key.keytype !== q.enctype) continue;
    if (wantKvno === 0 || e.kvno === 0) {
      if (best === undefined || moreRecent(e, best)) best = e;
    } else if (e.kvno === wantKvno) {
      return e;
    } else if (e.kvno === (wantKvno & 0xff) && truncatedMatch === undefined) {
      truncatedMatch = e;
    }
  }
  return truncatedMatch ?? best;
}

/** Like findKeytabEntry, but says why nothing matched, as MIT's two error codes do. */
export function requireKeytabEntry(kt: Keytab, q: KeytabQuery): KeytabEntry {
  const found = findKeytabEntry(kt, q);
  if (found !== undefined) return found;
  const comps = typeof q.principal === 'string' ? splitComponents(q.principal) : q.principal;
  const name = `${comps.join('/')}@${q.realm}`;
  const samePrincipal = kt.entries.some((e) => matchesPrincipal(e, comps, q.realm));
  if (samePrincipal && q.kvno !== undefined && q.kvno !== 0) {
    throw new CredentialsError('KEYTAB_KVNO_NOT_FOUND', `keytab has ${name} but not kvno ${q.kvno}`, {
      hint: 'the service key changed since the keytab was exported; export it again (ktadd -norandkey)',
    });
  }
  throw new CredentialsError('KEYTAB_ENTRY_NOT_FOUND', `no key for ${name} in the keytab`, {
    hint: 'add the key with kadmin ktadd, or point KRB5_KTNAME at the right keytab',
  });
}

function splitComponents(text: string): string[] {
  return parsePrincipal(text, '').name.nameString;
}
