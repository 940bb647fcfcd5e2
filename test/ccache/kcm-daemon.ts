// A KCM daemon double for hermetic tests: the protocol as sssd-kcm answers it (with MIT's
// GET_CRED_LIST and REPLACE) or as Heimdal's kcm does (without them), on a Unix socket in a
// temp dir, plus switches for hostile behaviour: a reply that never comes, garbage, a huge
// announced length, a connection closed mid-reply. It counts the opcodes it was asked.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteReader, ByteWriter } from '../../src/ccache/bytes.js';
import {
  type CcacheCredential,
  readCredential,
  readPrincipal,
  writeCredential,
  writePrincipal,
} from '../../src/ccache/ccache.js';
import { KcmOp, KcmStatus } from '../../src/ccache/kcm-protocol.js';
import type { Principal } from '../../src/ccache/principal-text.js';

interface Cache {
  uuid: Uint8Array;
  principal: Principal | undefined;
  creds: { uuid: Uint8Array; cred: CcacheCredential }[];
  offset: number;
}

/** What a hostile hook may do instead of answering: raw bytes to send, then optionally close. */
export type Misbehaviour =
  | { kind: 'silent' }
  | { kind: 'raw'; bytes: Uint8Array; close?: boolean }
  | { kind: 'close' };

export interface KcmDaemonOptions {
  /** Heimdal-like: no GET_CRED_LIST / REPLACE (answered KRB5_FCC_INTERNAL). */
  heimdal?: boolean;
}

const u32 = (v: number): Uint8Array => new ByteWriter(4).u32(v).finish();

export class KcmDaemon {
  readonly dir: string;
  readonly socketPath: string;
  readonly caches = new Map<string, Cache>();
  defaultName = '1000';
  readonly ops: number[] = [];
  /** Called for every request; a Misbehaviour replaces the normal answer. */
  hook: ((opcode: number) => Misbehaviour | undefined) | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private nextName = 1;

  private constructor(private readonly opts: KcmDaemonOptions) {
    this.dir = mkdtempSync(join(process.env['SPNEGO_INTEROP_TMP'] ?? tmpdir(), 'kcm-double-'));
    this.socketPath = join(this.dir, 'kcm.socket');
  }

  static async start(opts: KcmDaemonOptions = {}): Promise<KcmDaemon> {
    const d = new KcmDaemon(opts);
    d.server = createServer((s) => d.serve(s));
    await new Promise<void>((resolve) => d.server?.listen(d.socketPath, resolve));
    return d;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  count(op: number): number {
    return this.ops.filter((o) => o === op).length;
  }

  private serve(sock: Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0);
        if (buf.length < 4 + len) return;
        const msg = new Uint8Array(buf.subarray(4, 4 + len));
        buf = buf.subarray(4 + len);
        const opcode = (msg[2] as number) * 256 + (msg[3] as number);
        this.ops.push(opcode);
        const bad = this.hook?.(opcode);
        if (bad?.kind === 'silent') continue;
        if (bad?.kind === 'close') {
          sock.destroy();
          return;
        }
        if (bad?.kind === 'raw') {
          sock.write(bad.bytes);
          if (bad.close) sock.end();
          continue;
        }
        const { status, body } = this.answer(opcode, new ByteReader(msg.subarray(4), false, 'X', 'request'));
        const payload = new ByteWriter(body.length + 4).u32(status).bytes(body).finish();
        sock.write(new ByteWriter(payload.length + 8).u32(payload.length).u32(0).bytes(payload).finish());
      }
    });
  }

  private nameOf(r: ByteReader): string {
    const bytes: number[] = [];
    for (;;) {
      const b = r.u8('name');
      if (b === 0) break;
      bytes.push(b);
    }
    return Buffer.from(bytes).toString('utf8');
  }

  private answer(op: number, r: ByteReader): { status: number; body: Uint8Array } {
    const ok = (body: Uint8Array = new Uint8Array(0)) => ({ status: 0, body });
    const fail = (status: number) => ({ status, body: new Uint8Array(0) });
    const nofile = fail(KcmStatus.FCC_NOFILE);
    const z = (s: string) => new Uint8Array([...Buffer.from(s, 'utf8'), 0]);
    switch (op) {
      case KcmOp.GET_DEFAULT_CACHE:
        return ok(z(this.defaultName));
      case KcmOp.SET_DEFAULT_CACHE:
        this.defaultName = this.nameOf(r);
        return ok();
      case KcmOp.GEN_NEW:
        return ok(z(`1000:${this.nextName++}`));
      case KcmOp.INITIALIZE: {
        const name = this.nameOf(r);
        this.caches.set(name, {
          uuid: randomBytes(16),
          principal: readPrincipal(r, 4),
          creds: [],
          offset: 0,
        });
        return ok();
      }
      case KcmOp.DESTROY:
        return this.caches.delete(this.nameOf(r)) ? ok() : nofile;
      case KcmOp.STORE: {
        const c = this.caches.get(this.nameOf(r));
        if (!c) return nofile;
        c.creds.push({ uuid: randomBytes(16), cred: readCredential(r, 4) });
        return ok();
      }
      case KcmOp.GET_PRINCIPAL: {
        const c = this.caches.get(this.nameOf(r));
        if (!c?.principal) return nofile;
        const w = new ByteWriter();
        writePrincipal(w, c.principal);
        return ok(w.finish());
      }
      case KcmOp.GET_CRED_UUID_LIST: {
        const c = this.caches.get(this.nameOf(r));
        if (!c) return nofile;
        return ok(Buffer.concat(c.creds.map((x) => x.uuid)));
      }
      case KcmOp.GET_CRED_BY_UUID: {
        const c = this.caches.get(this.nameOf(r));
        const id = Buffer.from(r.take(16, 'uuid')).toString('hex');
        const found = c?.creds.find((x) => Buffer.from(x.uuid).toString('hex') === id);
        if (!found) return fail(KcmStatus.CC_END);
        const w = new ByteWriter();
        writeCredential(w, found.cred);
        return ok(w.finish());
      }
      case KcmOp.GET_CACHE_UUID_LIST:
        if (this.caches.size === 0) return nofile;
        return ok(Buffer.concat([...this.caches.values()].map((c) => c.uuid)));
      case KcmOp.GET_CACHE_BY_UUID: {
        const id = Buffer.from(r.take(16, 'uuid')).toString('hex');
        for (const [name, c] of this.caches)
          if (Buffer.from(c.uuid).toString('hex') === id) return ok(z(name));
        return nofile;
      }
      case KcmOp.GET_KDC_OFFSET: {
        const c = this.caches.get(this.nameOf(r));
        return c ? ok(u32(c.offset)) : nofile;
      }
      case KcmOp.SET_KDC_OFFSET: {
        const c = this.caches.get(this.nameOf(r));
        if (!c) return nofile;
        c.offset = r.i32('offset');
        return ok();
      }
      case KcmOp.GET_CRED_LIST: {
        if (this.opts.heimdal) return fail(KcmStatus.FCC_INTERNAL);
        const c = this.caches.get(this.nameOf(r));
        if (!c) return nofile;
        const w = new ByteWriter().u32(c.creds.length);
        for (const x of c.creds) {
          const one = new ByteWriter();
          writeCredential(one, x.cred);
          const b = one.finish();
          w.u32(b.length).bytes(b);
        }
        return ok(w.finish());
      }
      case KcmOp.REPLACE: {
        if (this.opts.heimdal) return fail(KcmStatus.FCC_INTERNAL);
        const name = this.nameOf(r);
        const offset = r.i32('offset');
        const principal = readPrincipal(r, 4);
        const n = r.u32('count');
        const creds: Cache['creds'] = [];
        for (let i = 0; i < n; i++) {
          const item = r.sub(r.u32('len'), 'cred');
          creds.push({ uuid: randomBytes(16), cred: readCredential(item, 4) });
        }
        const old = this.caches.get(name);
        this.caches.set(name, { uuid: old?.uuid ?? randomBytes(16), principal, creds, offset });
        return ok();
      }
      default:
        return fail(KcmStatus.CC_IO);
    }
  }
}
