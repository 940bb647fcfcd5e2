// MIT FILE credential cache (see specs/mit-ccache-file-format.rst): read versions 1-4, write 4.
// v1/v2 use the writing host's byte order; we read them as little-endian, which is what MIT
// writes on x86 and ARM. v3/v4 are big-endian. Only v4 has a header.
import type { AuthorizationDataEntry, EncryptionKey, HostAddress } from '../asn1/types.js';
import { NameType } from '../asn1/types.js';
import { CredentialsError } from '../errors.js';
import { writeFileAtomic } from '../runtime/fs.js';
import { ByteReader, ByteWriter, decodeText, encodeText, readCredentialFile } from './bytes.js';
import type { Principal } from './principal-text.js';

/** Header field tag 1: the KDC's clock minus ours, as MIT records it after kinit. */
export interface KdcOffset {
  seconds: number;
  microseconds: number;
}

export interface CcacheHeaderField {
  tag: number;
  value: Uint8Array;
}

export interface CcacheHeader {
  kdcOffset?: KdcOffset;
  /** Fields with tags we do not interpret, kept so a rewrite loses nothing. */
  unknownFields: CcacheHeaderField[];
}

/** One credential entry. Times are seconds since the epoch (uint32; 0 = absent). */
export interface CcacheCredential {
  client: Principal;
  server: Principal;
  key: EncryptionKey;
  authTime: number;
  startTime: number;
  endTime: number;
  renewTill: number;
  isSkey: boolean;
  /** RFC 4120 bit n is `1 << (31 - n)`; see flags.ts. */
  flags: number;
  addresses: HostAddress[];
  authData: AuthorizationDataEntry[];
  /** DER Ticket, or for a config entry the configuration value. */
  ticket: Uint8Array;
  secondTicket: Uint8Array;
}

export interface Ccache {
  /** Format version read (1-4); we always write 4. */
  version: number;
  header: CcacheHeader;
  defaultPrincipal: Principal;
  credentials: CcacheCredential[];
}

/** Realm of the server principal of configuration entries. */
export const CONFIG_REALM = 'X-CACHECONF:';
/** First component of a configuration entry's server principal. */
export const CONFIG_DATA_NAME = 'krb5_ccache_conf_data';

const MAGIC = 5;

export function isConfigEntry(c: CcacheCredential): boolean {
  return c.server.realm === CONFIG_REALM && c.server.name.nameString[0] === CONFIG_DATA_NAME;
}

/** `{ key: 'fast_avail', principal: 'krbtgt/...' }` for a configuration entry. */
export function configEntryKey(
  c: CcacheCredential,
): { key: string; principal: string | undefined } | undefined {
  if (!isConfigEntry(c)) return undefined;
  const [, key, principal] = c.server.name.nameString;
  return key === undefined ? undefined : { key, principal };
}

export function parseCcache(bytes: Uint8Array): Ccache {
  if (bytes.length < 2 || bytes[0] !== MAGIC) {
    throw new CredentialsError('CCACHE_FORMAT', 'not an MIT FILE credential cache (bad magic byte)', {
      hint: 'run kinit to create a new credential cache',
    });
  }
  const version = bytes[1] as number;
  if (version < 1 || version > 4) {
    throw new CredentialsError('CCACHE_FORMAT', `unsupported credential cache version 5.${version}`, {
      hint: 'only MIT FILE ccache versions 1 to 4 exist',
    });
  }
  const r = new ByteReader(bytes.subarray(2), version <= 2, 'CCACHE_FORMAT', 'credential cache');
  const header: CcacheHeader = { unknownFields: [] };
  if (version === 4) readHeader(r.sub(r.u16('header length'), 'header'), header);
  const defaultPrincipal = readPrincipal(r, version);
  const credentials: CcacheCredential[] = [];
  while (r.remaining > 0) credentials.push(readCredential(r, version));
  return { version, header, defaultPrincipal, credentials };
}

function readHeader(r: ByteReader, header: CcacheHeader): void {
  while (r.remaining > 0) {
    const tag = r.u16('header tag');
    const len = r.u16('header field length');
    const field = r.sub(len, 'header field');
    if (tag === 1) {
      // MIT refuses a KDC offset field of any other length (KRB5_CC_FORMAT).
      if (len !== 8) r.fail(`kdc offset header field of ${len} bytes, expected 8`);
      header.kdcOffset = {
        seconds: field.i32('kdc offset seconds'),
        microseconds: field.i32('kdc offset usec'),
      };
    } else {
      header.unknownFields.push({ tag, value: field.take(len, 'header field') });
    }
  }
}

function readData(r: ByteReader, field: string): Uint8Array {
  return r.take(r.u32(`${field} length`), field);
}

/** A principal in ccache format `version` (KCM marshals principals as v4). */
export function readPrincipal(r: ByteReader, version: number): Principal {
  const nameType = version === 1 ? NameType.UNKNOWN : r.i32('name type');
  let count = r.u32('component count');
  // v1 counts the realm among the components.
  if (version === 1) {
    if (count === 0) r.fail('v1 principal with no realm');
    count -= 1;
  }
  r.count(count + 1, 4, 'principal component');
  const realm = decodeText(readData(r, 'realm'));
  const nameString: string[] = [];
  for (let i = 0; i < count; i++) nameString.push(decodeText(readData(r, 'component')));
  return { realm, name: { nameType, nameString } };
}

/** A credential in ccache format `version` (KCM marshals credentials as v4). */
export function readCredential(r: ByteReader, version: number): CcacheCredential {
  const client = readPrincipal(r, version);
  const server = readPrincipal(r, version);
  // MIT's ccmarshal reads enctypes and authdata types as signed 16-bit values (negative
  // Microsoft enctypes and private authdata types survive the round trip); addresses unsigned.
  const keytype = (r.u16('enctype') << 16) >> 16;
  // v3 stores the enctype twice (a leftover of keytype/etype); the second copy wins nothing.
  if (version === 3) r.u16('enctype (repeated)');
  const keyvalue = readData(r, 'key');
  const authTime = r.u32('authtime');
  const startTime = r.u32('starttime');
  const endTime = r.u32('endtime');
  const renewTill = r.u32('renew_till');
  const isSkey = r.u8('is_skey') !== 0;
  const flags = r.u32('ticket flags');
  const addresses: HostAddress[] = [];
  const naddr = r.count(r.u32('address count'), 6, 'address');
  for (let i = 0; i < naddr; i++) {
    addresses.push({ addrType: r.u16('address type'), address: readData(r, 'address') });
  }
  const authData: AuthorizationDataEntry[] = [];
  const nad = r.count(r.u32('authdata count'), 6, 'authdata');
  for (let i = 0; i < nad; i++) {
    authData.push({ adType: (r.u16('authdata type') << 16) >> 16, adData: readData(r, 'authdata') });
  }
  const ticket = readData(r, 'ticket');
  const secondTicket = readData(r, 'second ticket');
  return {
    client,
    server,
    key: { keytype, keyvalue },
    authTime,
    startTime,
    endTime,
    renewTill,
    isSkey,
    flags,
    addresses,
    authData,
    ticket,
    secondTicket,
  };
}

/** Version 4, big-endian, the format MIT has written by default since 1.x. */
export function serializeCcache(c: Ccache): Uint8Array {
  const w = new ByteWriter(1024);
  w.u8(MAGIC).u8(4);
  const fields: CcacheHeaderField[] = [];
  if (c.header.kdcOffset !== undefined) {
    const v = new ByteWriter(8).u32(c.header.kdcOffset.seconds).u32(c.header.kdcOffset.microseconds).finish();
    fields.push({ tag: 1, value: v });
  }
  fields.push(...c.header.unknownFields);
  const headerLen = fields.reduce((n, f) => n + 4 + f.value.length, 0);
  if (headerLen > 0xffff || fields.some((f) => f.value.length > 0xffff)) {
    throw new CredentialsError('CCACHE_FORMAT', 'credential cache header too large to write');
  }
  w.u16(headerLen);
  for (const f of fields) w.u16(f.tag).u16(f.value.length).bytes(f.value);
  writePrincipal(w, c.defaultPrincipal);
  for (const cred of c.credentials) writeCredential(w, cred);
  return w.finish();
}

function writeData(w: ByteWriter, b: Uint8Array): void {
  w.u32(b.length).bytes(b);
}

export function writePrincipal(w: ByteWriter, p: Principal): void {
  w.u32(p.name.nameType).u32(p.name.nameString.length);
  writeData(w, encodeText(p.realm));
  for (const s of p.name.nameString) writeData(w, encodeText(s));
}

export function writeCredential(w: ByteWriter, c: CcacheCredential): void {
  writePrincipal(w, c.client);
  writePrincipal(w, c.server);
  w.u16(c.key.keytype);
  writeData(w, c.key.keyvalue);
  w.u32(c.authTime).u32(c.startTime).u32(c.endTime).u32(c.renewTill);
  w.u8(c.isSkey ? 1 : 0).u32(c.flags);
  w.u32(c.addresses.length);
  for (const a of c.addresses) {
    w.u16(a.addrType);
    writeData(w, a.address);
  }
  w.u32(c.authData.length);
  for (const a of c.authData) {
    w.u16(a.adType);
    writeData(w, a.adData);
  }
  writeData(w, c.ticket);
  writeData(w, c.secondTicket);
}

/** Parses the bytes given, or reads the FILE ccache at a path. */
export async function readCcache(bytesOrPath: Uint8Array | string): Promise<Ccache> {
  if (typeof bytesOrPath !== 'string') return parseCcache(bytesOrPath);
  const bytes = await readCredentialFile(bytesOrPath, 'ccache');
  if (bytes === undefined) {
    throw new CredentialsError('CCACHE_NOT_FOUND', `no credential cache at FILE:${bytesOrPath}`, {
      hint: 'run kinit, or set KRB5CCNAME to the cache you want',
    });
  }
  return parseCcache(bytes);
}

/**
 * Atomic replace (temp file + fsync + rename, mode 0600): MIT tools reading the same cache
 * concurrently see the old file or the new one, never a torn write.
 */
export async function writeCcache(path: string, ccache: Ccache): Promise<void> {
  await writeFileAtomic(path, serializeCcache(ccache), 0o600);
}

/** An empty v4 cache for `principal`, as kinit starts one. */
export function newCcache(
  defaultPrincipal: Principal,
  kdcOffset: KdcOffset = { seconds: 0, microseconds: 0 },
): Ccache {
  return { version: 4, header: { kdcOffset, unknownFields: [] }, defaultPrincipal, credentials: [] };
}
