// Just enough LDAP (RFC 4511) for SASL bind tests: a BER writer and reader for BindRequest /
// BindResponse and the WhoAmI extended operation (RFC 4532), over a socket that switches to
// RFC 4422 §3.7 framing (4-octet length + wrapped buffer) once a security layer is in effect.
// The SASL itself is never here: the test passes the bytes our SASL code produced.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { findBinary, freePort } from './mit-realm.js';

function len(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}
export function tlv(tag: number, body: Uint8Array | number[]): Uint8Array {
  const b = body instanceof Uint8Array ? [...body] : body;
  return new Uint8Array([tag, ...len(b.length), ...b]);
}
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const int = (n: number): Uint8Array => tlv(0x02, n < 0x80 ? [n] : [(n >> 8) & 0xff, n & 0xff]);
const str = (s: string | Uint8Array, tag = 0x04): Uint8Array =>
  tlv(tag, typeof s === 'string' ? new TextEncoder().encode(s) : s);

export function bindRequest(id: number, mechanism: string, credentials: Uint8Array | undefined): Uint8Array {
  const sasl = tlv(0xa3, cat(str(mechanism), ...(credentials === undefined ? [] : [str(credentials)])));
  return tlv(0x30, cat(int(id), tlv(0x60, cat(int(3), str(''), sasl))));
}

export const WHOAMI_OID = '1.3.6.1.4.1.4203.1.11.3';
export function whoAmIRequest(id: number): Uint8Array {
  return tlv(0x30, cat(int(id), tlv(0x77, str(WHOAMI_OID, 0x80))));
}

interface Tlv {
  tag: number;
  body: Uint8Array;
  end: number;
}
function readTlv(b: Uint8Array, at: number): Tlv | undefined {
  if (b.length < at + 2) return undefined;
  const tag = b[at] as number;
  let n = b[at + 1] as number;
  let p = at + 2;
  if (n & 0x80) {
    const k = n & 0x7f;
    if (k === 0 || k > 4 || b.length < p + k) return undefined;
    n = 0;
    for (let i = 0; i < k; i++) n = n * 256 + (b[p + i] as number);
    p += k;
  }
  if (b.length < p + n) return undefined;
  return { tag, body: b.subarray(p, p + n), end: p + n };
}
function children(b: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < b.length; ) {
    const t = readTlv(b, at);
    if (!t) throw new Error('bad BER inside an LDAP message');
    out.push(t);
    at = t.end;
  }
  return out;
}

export interface LdapResult {
  id: number;
  op: number;
  resultCode: number;
  diagnostic: string;
  /** serverSaslCreds [7] of a BindResponse. */
  saslCreds: Uint8Array | undefined;
  /** responseValue [11] of an ExtendedResponse. */
  value: Uint8Array | undefined;
}

function parseMessage(pdu: Uint8Array): LdapResult {
  const outer = readTlv(pdu, 0);
  if (!outer) throw new Error('bad LDAP message');
  const [idT, opT] = children(outer.body);
  if (!idT || !opT) throw new Error('short LDAP message');
  const id = [...idT.body].reduce((n, x) => n * 256 + x, 0);
  const parts = children(opT.body);
  const dec = new TextDecoder();
  return {
    id,
    op: opT.tag,
    resultCode: parts[0]?.body[0] ?? -1,
    diagnostic: parts[2] ? dec.decode(parts[2].body) : '',
    saslCreds: parts.find((p) => p.tag === 0x87)?.body.slice(),
    value: parts.find((p) => p.tag === 0x8b)?.body.slice(),
  };
}

export interface Layer {
  wrap(data: Uint8Array): Uint8Array;
  unwrap(token: Uint8Array): Uint8Array;
}

/** One LDAP connection: request/response in order, clear or through a security layer. */
export class LdapConnection {
  private buf: Uint8Array = new Uint8Array(0);
  private waiting: (() => void) | undefined;
  private closed: Error | undefined;
  private layer: Layer | undefined;
  private plain: Uint8Array = new Uint8Array(0);

  private constructor(private readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = cat(this.buf, new Uint8Array(c));
      this.waiting?.();
    });
    socket.on('close', () => {
      this.closed = new Error('LDAP server closed the connection');
      this.waiting?.();
    });
    socket.on('error', (e) => {
      this.closed = e;
      this.waiting?.();
    });
  }

  static open(port: number): Promise<LdapConnection> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new LdapConnection(s)));
      s.once('error', reject);
    });
  }

  /** From now on every PDU goes through `layer` with 4-octet framing. */
  useLayer(layer: Layer): void {
    this.layer = layer;
  }

  private async more(): Promise<void> {
    if (this.closed) throw this.closed;
    await new Promise<void>((r) => {
      this.waiting = r;
    });
    this.waiting = undefined;
  }

  private async nextPdu(): Promise<Uint8Array> {
    for (;;) {
      if (!this.layer) {
        const t = readTlv(this.buf, 0);
        if (t) {
          const pdu = this.buf.slice(0, t.end);
          this.buf = this.buf.slice(t.end);
          return pdu;
        }
      } else {
        const t = readTlv(this.plain, 0);
        if (t) {
          const pdu = this.plain.slice(0, t.end);
          this.plain = this.plain.slice(t.end);
          return pdu;
        }
        if (this.buf.length >= 4) {
          const n = new DataView(this.buf.buffer, this.buf.byteOffset).getUint32(0);
          if (this.buf.length >= 4 + n) {
            const token = this.buf.slice(4, 4 + n);
            this.buf = this.buf.slice(4 + n);
            this.plain = cat(this.plain, this.layer.unwrap(token));
            continue;
          }
        }
      }
      await this.more();
    }
  }

  async request(pdu: Uint8Array): Promise<LdapResult> {
    if (this.layer) {
      const w = this.layer.wrap(pdu);
      const frame = new Uint8Array(4 + w.length);
      new DataView(frame.buffer).setUint32(0, w.length);
      frame.set(w, 4);
      this.socket.write(frame);
    } else this.socket.write(pdu);
    return parseMessage(await this.nextPdu());
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface Slapd {
  port: number;
  stop(): Promise<void>;
  log(): string;
}

/**
 * slapd with its own slapd.conf, no database (WhoAmI and SASL binds need none), listening on
 * a free loopback port, Cyrus SASL GSSAPI reading `keytab`; `secprops` as `sasl-secprops`.
 */
export async function startSlapd(opts: {
  dir: string;
  realm: string;
  keytab: string;
  env: Record<string, string>;
  secprops: string;
  /** More slapd.conf lines (e.g. authz-regexp). */
  extra?: readonly string[];
}): Promise<Slapd> {
  const slapd = findBinary('slapd');
  if (!slapd)
    throw new Error('slapd not found: apt-get install slapd ldap-utils libsasl2-modules-gssapi-mit');
  mkdirSync(opts.dir, { recursive: true });
  const port = await freePort();
  const conf = join(opts.dir, 'slapd.conf');
  writeFileSync(
    conf,
    [
      'include /etc/ldap/schema/core.schema',
      `pidfile ${join(opts.dir, 'slapd.pid')}`,
      `argsfile ${join(opts.dir, 'slapd.args')}`,
      'sasl-host localhost',
      `sasl-realm ${opts.realm}`,
      `sasl-secprops ${opts.secprops}`,
      ...(opts.extra ?? []),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    slapd,
    ['-d', process.env['SLAPD_DEBUG'] ?? '256', '-f', conf, '-h', `ldap://127.0.0.1:${port}/`],
    {
      env: { ...process.env, ...opts.env, KRB5_KTNAME: `FILE:${opts.keytab}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const log: Buffer[] = [];
  child.stderr?.on('data', (c: Buffer) => log.push(c));
  const text = () => Buffer.concat(log).toString('utf8');
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`slapd exited ${child.exitCode}:\n${text()}`);
    const ok = await LdapConnection.open(port).then(
      (c) => {
        c.close();
        return true;
      },
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`slapd did not listen on ${port}:\n${text()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    log: text,
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Skip (with the install hint) when slapd or the Cyrus GSSAPI plugin is missing; fail in CI instead. */
export function skipUnlessSlapd(): string | false {
  const missing = [
    findBinary('slapd') ? undefined : 'slapd',
    ['/usr/lib/x86_64-linux-gnu/sasl2/libgssapiv2.so', '/usr/lib/sasl2/libgssapiv2.so'].some((p) => {
      try {
        readFileSync(p);
        return true;
      } catch {
        return false;
      }
    })
      ? undefined
      : 'libsasl2-modules-gssapi-mit',
  ].filter((x) => x !== undefined);
  if (missing.length === 0 || process.env['CI'] === 'true') return false;
  const msg = `missing ${missing.join(', ')}: apt-get install slapd ldap-utils libsasl2-modules-gssapi-mit`;
  process.stderr.write(`\nSKIPPED interop: ${msg}\n`);
  return msg;
}
