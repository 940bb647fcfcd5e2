// TLS channel bindings (RFC 5929 tls-server-end-point, RFC 4121 §4.1.1.2), in process:
// - the hash RFC 5929 §4.1 picks per signature algorithm (certificates in
//   test/vectors/tls-bindings, their algorithms as openssl printed them; expected digests from
//   node:crypto over the DER);
// - spnego/undici binds each token to the certificate of the connection it travels on, by
//   default, and not with channelBindings: false; fetch (no socket) sends none;
// - a certificate that changes between legs is a ChannelBindingError, and no token is sent;
// - spnego/server: 'required' | 'if-present' | false against our own initiator, and end to end
//   our dispatcher against our 'required' middleware over https.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createServer as createHttpsServer,
  type Server as HttpsServer,
  request as httpsRequest,
} from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from 'undici';
import { NegotiateDispatcher } from '../../src/adapters/undici.js';
import { ChannelBindingError, ConfigError } from '../../src/errors.js';
import { createNegotiator } from '../../src/http/fetch.js';
import { tlsServerEndPoint } from '../../src/krb5/gss/tls-bindings.js';
import { negotiateHandler, negotiateMiddleware, type RequestLike } from '../../src/server/index.js';
import { base64Encode } from '../../src/spnego/base64.js';
import { createInitiatorContext } from '../../src/spnego/index.js';
import { mint } from '../gss/helpers.js';
import { b64, fakeFactory, readAuthorization } from './helpers.js';

const VECTORS = join(import.meta.dirname, '..', 'vectors');
const pem = (name: string) => readFileSync(join(VECTORS, name), 'utf8');
const der = (name: string) => new Uint8Array(new X509Certificate(pem(name)).raw);
const CA = pem('kkdcp/ca.pem');
const SERVER = { cert: pem('kkdcp/server.pem'), key: pem('kkdcp/server-key.pem') };
const OTHER = { cert: pem('tls-bindings/other.pem'), key: pem('tls-bindings/other-key.pem') };
const TARGET = 'HTTP/localhost@GSS.TEST';

function expected(certFile: string, hash: string): Uint8Array {
  const d = der(certFile);
  return new Uint8Array(
    Buffer.concat([Buffer.from('tls-server-end-point:'), createHash(hash).update(d).digest()]),
  );
}

describe('tls-server-end-point (RFC 5929 §4.1)', () => {
  for (const [file, hash] of [
    ['tls-bindings/rsa-sha1.pem', 'sha256'], // SHA-1 is replaced by SHA-256
    ['tls-bindings/rsa-sha512.pem', 'sha512'],
    ['tls-bindings/ec-sha384.pem', 'sha384'],
    ['tls-bindings/pss.pem', 'sha384'],
    ['tls-bindings/ed25519.pem', 'sha256'],
    ['tls-bindings/other.pem', 'sha256'],
    ['kkdcp/server.pem', 'sha256'],
  ] as const) {
    it(`${file}: ${hash}`, () => {
      assert.deepEqual(tlsServerEndPoint(der(file)), expected(file, hash));
    });
  }

  it('bad certificates are a ChannelBindingError, never a crash', () => {
    const cert = der('kkdcp/server.pem');
    for (const bad of [
      new Uint8Array(0),
      cert.subarray(0, 40),
      new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]),
      new Uint8Array(70 * 1024),
    ]) {
      assert.throws(
        () => tlsServerEndPoint(bad),
        (e: unknown) => e instanceof ChannelBindingError && e.code === 'BAD_CERTIFICATE',
      );
    }
  });
});

interface TlsDouble {
  url: string;
  server: HttpsServer;
  /** Tokens seen (the fake context's id) with the certificate the connection presented. */
  seen: Array<{ token: boolean }>;
  close(): Promise<void>;
}

/** An https server answering 401 Negotiate, then 200 to any token. `closeAfter401` hangs up. */
async function tlsDouble(opts: { closeAfter401?: () => void } = {}): Promise<TlsDouble> {
  const seen: TlsDouble['seen'] = [];
  const server = createHttpsServer(SERVER, (req: IncomingMessage, res: ServerResponse) => {
    const t = readAuthorization(req.headers.authorization);
    seen.push({ token: t !== undefined });
    req.resume();
    if (t?.kind !== 'init') {
      if (opts.closeAfter401) {
        res.setHeader('connection', 'close');
        opts.closeAfter401();
      }
      res.writeHead(401, { 'www-authenticate': 'Negotiate' });
      res.end();
      return;
    }
    res.writeHead(200, { 'www-authenticate': `Negotiate ${b64(`final|${t.id}`)}` });
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://localhost:${(server.address() as AddressInfo).port}/`,
    server,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const dispatchers: NegotiateDispatcher[] = [];
after(async () => {
  for (const d of dispatchers) await d.destroy();
});

describe('client: spnego/undici binds tokens to the connection it sends them on', () => {
  it('binds by default: the bindings of the certificate the server presented', async () => {
    const s = await tlsDouble();
    const factory = fakeFactory();
    const d = new NegotiateDispatcher({ tls: { ca: CA } }, { contextFactory: factory });
    dispatchers.push(d);
    const r = await request(s.url, { dispatcher: d });
    assert.equal(r.statusCode, 200);
    await r.body.text();
    assert.equal(factory.made.length, 1);
    assert.deepEqual(factory.made[0]!.req.channelBindings, expected('kkdcp/server.pem', 'sha256'));
    await s.close();
  });

  it('a server that closes the connection after its 401: the new connection (same certificate, full handshake) carries the bound token', async () => {
    const s = await tlsDouble({ closeAfter401: () => undefined });
    const factory = fakeFactory();
    const d = new NegotiateDispatcher({ tls: { ca: CA } }, { contextFactory: factory });
    dispatchers.push(d);
    for (let i = 0; i < 2; i++) {
      const r = await request(s.url, { dispatcher: d });
      assert.equal(r.statusCode, 200);
      await r.body.text();
      assert.deepEqual(factory.made[i]!.req.channelBindings, expected('kkdcp/server.pem', 'sha256'));
    }
    await s.close();
  });

  it('channelBindings: false sends tokens unbound', async () => {
    const s = await tlsDouble();
    const factory = fakeFactory();
    const d = new NegotiateDispatcher(
      { tls: { ca: CA }, channelBindings: false },
      { contextFactory: factory },
    );
    dispatchers.push(d);
    const r = await request(s.url, { dispatcher: d });
    assert.equal(r.statusCode, 200);
    await r.body.text();
    assert.equal(factory.made[0]!.req.channelBindings, undefined);
    await s.close();
  });

  it('opportunistic auth waits for the first leg on a new connection (the certificate is not known before)', async () => {
    const s = await tlsDouble();
    const factory = fakeFactory();
    const d = new NegotiateDispatcher(
      { tls: { ca: CA }, opportunisticAuth: true },
      { contextFactory: factory },
    );
    dispatchers.push(d);
    const r = await request(s.url, { dispatcher: d });
    await r.body.text();
    assert.equal(r.statusCode, 200);
    assert.deepEqual(
      s.seen.map((x) => x.token),
      [false, true],
    );
    assert.deepEqual(factory.made[0]!.req.channelBindings, expected('kkdcp/server.pem', 'sha256'));
    await s.close();
  });

  it('a certificate that changes between legs: ChannelBindingError, the bound token is never sent', async () => {
    let s: TlsDouble | undefined;
    s = await tlsDouble({ closeAfter401: () => s?.server.setSecureContext(OTHER) });
    const factory = fakeFactory();
    const d = new NegotiateDispatcher(
      { tls: { ca: [CA, OTHER.cert], rejectUnauthorized: false } },
      { contextFactory: factory },
    );
    dispatchers.push(d);
    await assert.rejects(
      async () => (await request(s.url, { dispatcher: d })).body.text(),
      (e: unknown) => e instanceof ChannelBindingError && e.code === 'CERTIFICATE_CHANGED',
    );
    assert.deepEqual(
      s.seen.map((x) => x.token),
      [false],
    );
    await s.close();
  });

  it('fetch hides the socket: no bindings (and no error)', async () => {
    const s = await tlsDouble();
    const factory = fakeFactory();
    const { Agent, fetch: undiciFetch } = await import('undici');
    const agent = new Agent({ connect: { ca: CA } });
    const negotiator = createNegotiator({}, { contextFactory: factory });
    const res = await negotiator.fetch(s.url, undefined, ((u: string, i: RequestInit) =>
      undiciFetch(u, { ...(i as object), dispatcher: agent })) as unknown as typeof fetch);
    assert.equal(res.status, 200);
    await res.text();
    assert.equal(factory.made[0]!.req.channelBindings, undefined);
    await agent.close();
    await s.close();
  });
});

async function boundToken(m: Awaited<ReturnType<typeof mint>>, bindings?: Uint8Array): Promise<string> {
  const ctx = await createInitiatorContext({
    credentials: m.credentials,
    target: TARGET,
    mutual: true,
    ...(bindings ? { channelBindings: bindings } : {}),
  });
  const first = await ctx.step();
  return `Negotiate ${base64Encode(first.token!)}`;
}

/** negotiateMiddleware on node:https with SERVER's certificate; answers `bound=<channelBound>`. */
async function middlewareServer(
  m: Awaited<ReturnType<typeof mint>>,
  channelBindings: 'required' | 'if-present' | false | undefined,
) {
  const mw = negotiateMiddleware({
    keytab: m.keytab,
    ...(channelBindings === undefined ? {} : { channelBindings }),
  });
  const server = createHttpsServer(SERVER, (req, res) =>
    mw(req as unknown as RequestLike, res, () =>
      res.end(`bound=${String((req as unknown as RequestLike).negotiate?.channelBound)}`),
    ),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://localhost:${(server.address() as AddressInfo).port}/`;
  // node:https, not undici: Bun replaces the undici package with a built-in of its own.
  const get = (authorization: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const r = httpsRequest(url, { ca: CA, headers: { authorization }, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      r.on('error', reject);
      r.end();
    });
  return {
    url,
    get,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('server: channelBindings on negotiateMiddleware (node:https)', async () => {
  const mine = tlsServerEndPoint(der('kkdcp/server.pem'));
  const theirs = tlsServerEndPoint(der('tls-bindings/other.pem'));

  it("'required': a bound token is accepted and reported channel-bound; unbound and wrongly bound are 401", async () => {
    const m = await mint();
    const s = await middlewareServer(m, 'required');
    assert.deepEqual(await s.get(await boundToken(m, mine)), { status: 200, body: 'bound=true' });
    assert.equal((await s.get(await boundToken(m))).status, 401);
    assert.equal((await s.get(await boundToken(m, theirs))).status, 401);
    await s.close();
  });

  it("'if-present' (default): unbound accepted (channelBound false), bound to another certificate refused", async () => {
    const m = await mint();
    const s = await middlewareServer(m, undefined);
    assert.deepEqual(await s.get(await boundToken(m)), { status: 200, body: 'bound=false' });
    assert.deepEqual(await s.get(await boundToken(m, mine)), { status: 200, body: 'bound=true' });
    assert.equal((await s.get(await boundToken(m, theirs))).status, 401);
    await s.close();
  });

  it('false: bindings are not checked', async () => {
    const m = await mint();
    const s = await middlewareServer(m, false);
    assert.deepEqual(await s.get(await boundToken(m, theirs)), { status: 200, body: 'bound=false' });
    await s.close();
  });

  it('end to end: spnego/undici (real context) against a required middleware', async () => {
    const m = await mint();
    const s = await middlewareServer(m, 'required');
    const d = new NegotiateDispatcher({ tls: { ca: CA }, credentials: m.credentials, targetName: TARGET });
    dispatchers.push(d);
    const r = await request(s.url, { dispatcher: d });
    assert.equal(r.statusCode, 200);
    assert.equal(await r.body.text(), 'bound=true');
    const off = new NegotiateDispatcher({
      tls: { ca: CA },
      credentials: m.credentials,
      targetName: TARGET,
      channelBindings: false,
    });
    dispatchers.push(off);
    const r2 = await request(s.url, { dispatcher: off });
    assert.equal(r2.statusCode, 401);
    await r2.body.text();
    await s.close();
  });

  it("'required' over plain HTTP is a server fault (500); bad option values are ConfigErrors", async () => {
    const m = await mint();
    const mw = negotiateMiddleware({ keytab: m.keytab, channelBindings: 'required' });
    let status = 0;
    const res = {
      statusCode: 0,
      setHeader: () => undefined,
      end: () => {
        status = res.statusCode;
      },
    };
    mw({ headers: { authorization: await boundToken(m) } }, res, () => assert.fail('handler ran'));
    for (let i = 0; i < 50 && status === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(status, 500);
    assert.throws(
      () => negotiateMiddleware({ keytab: m.keytab, channelBindings: 'yes' as never }),
      (e: unknown) => e instanceof ConfigError && e.code === 'BAD_OPTION',
    );
    assert.throws(
      () => negotiateHandler(() => new Response(), { keytab: m.keytab, certificate: 'not a pem' }),
      (e: unknown) => e instanceof ConfigError && e.code === 'BAD_OPTION',
    );
  });

  it('negotiateHandler takes the certificate as an option (a fetch Request hides the socket)', async () => {
    const m = await mint();
    const h = negotiateHandler((_req, ctx) => new Response(`bound=${ctx.negotiate.channelBound}`), {
      keytab: m.keytab,
      channelBindings: 'required',
      certificate: SERVER.cert,
    });
    const ask = (authorization: string) =>
      h(new Request('https://localhost/', { headers: { authorization } }));
    const ok = await ask(await boundToken(m, mine));
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'bound=true');
    assert.equal((await ask(await boundToken(m))).status, 401);
  });
});
