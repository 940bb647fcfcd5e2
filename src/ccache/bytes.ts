// Bounds-checked binary cursor and builder for the MIT file formats (ccache, keytab).
// Every length read from a file is compared with what is left BEFORE anything is sliced or
// allocated, so a hostile length (0xFFFFFFFF) is a CredentialsError, never a RangeError or a
// huge allocation.
import { CredentialsError } from '../errors.js';
import { isPlatformUnsupported } from '../runtime/builtin.js';
import { readFileIfExists } from '../runtime/fs.js';

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

export class ByteReader {
  private pos = 0;

  constructor(
    private readonly bytes: Uint8Array,
    /** ccache v1/v2 and keytab v1 use the writer's native order (little-endian on x86). */
    private readonly littleEndian: boolean,
    /** Error code used for every failure, e.g. `CCACHE_FORMAT` or `KEYTAB_FORMAT`. */
    private readonly code: string,
    private readonly what: string,
  ) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  fail(message: string): never {
    throw new CredentialsError(this.code, `${this.what}: ${message} (at byte ${this.pos})`, {
      hint: 'the file is truncated or not in MIT format; recreate it (kinit / ktadd)',
    });
  }

  need(n: number, field: string): void {
    if (n > this.remaining) this.fail(`${field} needs ${n} bytes, only ${this.remaining} left`);
  }

  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.pos++] as number;
  }

  u16(field: string): number {
    this.need(2, field);
    const a = this.bytes[this.pos] as number;
    const b = this.bytes[this.pos + 1] as number;
    this.pos += 2;
    return this.littleEndian ? a | (b << 8) : (a << 8) | b;
  }

  u32(field: string): number {
    this.need(4, field);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    const v = this.littleEndian
      ? (b[p] as number) |
        ((b[p + 1] as number) << 8) |
        ((b[p + 2] as number) << 16) |
        ((b[p + 3] as number) << 24)
      : ((b[p] as number) << 24) |
        ((b[p + 1] as number) << 16) |
        ((b[p + 2] as number) << 8) |
        (b[p + 3] as number);
    return v >>> 0;
  }

  i32(field: string): number {
    return this.u32(field) | 0;
  }

  /** Copies `n` bytes out, so parsed values never alias (or pin) the input buffer. */
  take(n: number, field: string): Uint8Array {
    this.need(n, field);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A cursor over the next `n` bytes (same byte order); the parent skips past them. */
  sub(n: number, field: string): ByteReader {
    this.need(n, field);
    const r = new ByteReader(
      this.bytes.subarray(this.pos, this.pos + n),
      this.littleEndian,
      this.code,
      this.what,
    );
    this.pos += n;
    return r;
  }

  skip(n: number, field: string): void {
    this.need(n, field);
    this.pos += n;
  }

  /**
   * A count of items each at least `minItemBytes` long: rejected up front when the items could
   * not fit in what is left, so a forged count cannot drive a long loop.
   */
  count(raw: number, minItemBytes: number, field: string): number {
    if (raw * minItemBytes > this.remaining)
      this.fail(`${field} count ${raw} cannot fit in ${this.remaining} bytes`);
    return raw;
  }
}

/** Kerberos strings are octet strings; MIT tools write them as UTF-8 (usually ASCII). */
export function decodeText(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

export function encodeText(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** Growable big-endian builder: we only ever write ccache v4 and keytab 0x0502. */
export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(initial = 512) {
    this.buf = new Uint8Array(initial);
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.buf[this.len++] = (v >>> 24) & 0xff;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** Patches a big-endian u32 written earlier (keytab record lengths). */
  setU32(at: number, v: number): void {
    this.buf[at] = (v >>> 24) & 0xff;
    this.buf[at + 1] = (v >>> 16) & 0xff;
    this.buf[at + 2] = (v >>> 8) & 0xff;
    this.buf[at + 3] = v & 0xff;
  }

  get length(): number {
    return this.len;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/**
 * Reads a credential file, or returns undefined when it does not exist. Where the platform has no
 * file system (an edge runtime), CredentialsError `PLATFORM_UNSUPPORTED` says to pass bytes.
 */
export async function readCredentialFile(
  path: string,
  what: 'ccache' | 'keytab',
): Promise<Uint8Array | undefined> {
  try {
    return await readFileIfExists(path);
  } catch (e) {
    if (!isPlatformUnsupported(e)) throw e;
    throw new CredentialsError(
      'PLATFORM_UNSUPPORTED',
      `cannot read the ${what} ${path}: this platform has no file system`,
      {
        hint:
          what === 'keytab'
            ? 'pass the keytab as bytes: Credentials.fromKeytab(principal, parseKeytab(bytes)) (e.g. from a secret)'
            : 'pass credentials another way: Credentials.fromKeytab(principal, parseKeytab(bytes)), fromPassword, or a MEMORY: ccache',
        cause: e,
      },
    );
  }
}
