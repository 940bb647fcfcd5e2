// Test doubles for the HTTP layer: a fake security context whose tokens are readable text, and
// small node:http servers that act as a Negotiate acceptor for it. The fake keeps the real
// contract (step() throws MutualAuthenticationError on a bad server token; complete only once
// the server's final token matches this context).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import { MutualAuthenticationError } from '../../src/errors.js';
import type { ContextFactory, ContextRequest } from '../../src/http/flow.js';
import type { SecurityContext, StepResult } from '../../src/spnego/types.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

let nextId = 0;

export class FakeContext implements SecurityContext {
  readonly id = ++nextId;
  private done = false;
  private started = false;
  constructor(readonly req: ContextRequest) {}
  get complete(): boolean {
    return this.done;
  }
  get mech(): string | undefined {
    return '1.2.840.113554.1.2.2';
  }
  async step(input?: Uint8Array): Promise<StepResult> {
    if (!this.started) {
      this.started = true;
      this.done = !this.req.mutual;
      const t = typeof this.req.target === 'string' ? this.req.target : 'principal';
      return { token: enc.encode(`init|${t}|${this.id}|${String(this.req.delegate)}`), complete: this.done };
    }
    const text = dec.decode(input ?? new Uint8Array());
    const [kind, id, n] = text.split('|');
    if (id !== String(this.id))
      throw new MutualAuthenticationError('FAKE_BAD_TOKEN', `token for context ${id}, not ${this.id}`);
    if (kind === 'final') {
      this.done = true;
      return { complete: true };
    }
    if (kind === 'more') return { token: enc.encode(`cont|${this.id}|${n}`), complete: false };
    throw new MutualAuthenticationError('FAKE_BAD_TOKEN', `unexpected ${kind}`);
  }
  getMIC(): Uint8Array {
    throw new Error('not used');
  }
  verifyMIC(): void {
    throw new Error('not used');
  }
  wrap(): Uint8Array {
    throw new Error('not used');
  }
  unwrap(): { message: Uint8Array; confidential: boolean } {
    throw new Error('not used');
  }
}

/** A factory that records every context it makes. */
export function fakeFactory(): ContextFactory & { made: FakeContext[] } {
  const made: FakeContext[] = [];
  const f = (async (req: ContextRequest) => {
    const c = new FakeContext(req);
    made.push(c);
    return c;
  }) as unknown as ContextFactory & { made: FakeContext[] };
  f.made = made;
  return f;
}

/** The client's token as the fake acceptor sees it: kind, target, id, delegate. */
export interface SeenToken {
  kind: string;
  target: string;
  id: string;
  delegate: string;
}

export function readAuthorization(h: string | undefined): SeenToken | undefined {
  if (h === undefined) return undefined;
  const m = /^Negotiate ([A-Za-z0-9+/=]+)$/.exec(h);
  if (!m?.[1]) return undefined;
  const [kind = '', a = '', b = '', c = ''] = unb64(m[1]).split('|');
  // init|target|id|delegate ; cont|id|n
  return kind === 'init'
    ? { kind, target: a, id: b, delegate: c }
    : { kind, target: '', id: a, delegate: '' };
}

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Handler = (req: Recorded, res: ServerResponse) => void;

export interface TestServer {
  url: string;
  origin: string;
  requests: Recorded[];
  close(): Promise<void>;
}

/** A node:http server on loopback; `host` decides the URL's host name (localhost or 127.0.0.1). */
export async function startServer(handler: Handler, host = 'localhost'): Promise<TestServer> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(rec);
      handler(rec, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${host}:${port}`;
  return {
    url: origin,
    origin,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The usual acceptor: 401 `Negotiate` without a token; with an init token for `expectTarget`,
 * 200 carrying `final|id` (unless `finalToken` says otherwise) and the body `ok <method> <body>`.
 */
export function acceptor(
  opts: { expectTarget?: string; finalToken?: (id: string) => string | undefined; status?: number } = {},
): Handler {
  return (req, res) => {
    const t = readAuthorization(req.headers.authorization);
    if (t?.kind !== 'init' || (opts.expectTarget !== undefined && t.target !== opts.expectTarget)) {
      res.writeHead(401, { 'www-authenticate': 'Negotiate', 'content-type': 'text/plain' });
      res.end('denied');
      return;
    }
    const final = opts.finalToken ? opts.finalToken(t.id) : `final|${t.id}`;
    const headers: Record<string, string> = { 'content-type': 'text/plain', 'x-secret': 'content' };
    if (final !== undefined) headers['www-authenticate'] = `Negotiate ${b64(final)}`;
    res.writeHead(opts.status ?? 200, headers);
    res.end(`ok ${req.method} ${t.target} ${req.body.toString('utf8')}`);
  };
}

/** startServer for a test file: every server it starts is closed after the file's tests. */
export function serverPool(): (...args: Parameters<typeof startServer>) => Promise<TestServer> {
  const servers: TestServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });
  return async (...args) => {
    const s = await startServer(...args);
    servers.push(s);
    return s;
  };
}
