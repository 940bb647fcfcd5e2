// Channel bindings (RFC 5929 tls-server-end-point) for spnego/axios and spnego/got over direct
// https on Node: their legs go on connections of our own, so each token is bound to the
// certificate of the connection it travels on, by default; channelBindings: false (or a fetch of
// the caller's) sends it unbound; a certificate that changes between legs is a
// ChannelBindingError CERTIFICATE_CHANGED and the bound token is never sent. Against an https
// double (fake contexts: the bindings the context was given) and against our own
// channelBindings: 'required' middleware with real contexts (the server checks them).
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import axios from 'axios';
import got from 'got';
import { negotiateInterceptorWith, unwrapNegotiateError } from '../../src/adapters/axios.js';
import { negotiateGotWith } from '../../src/adapters/got.js';
import { ChannelBindingError } from '../../src/errors.js';
import type { NegotiateOptions } from '../../src/http/options.js';
import { REQUIRED } from '../../src/http/options.js';
import { negotiateMiddleware, type RequestLike } from '../../src/server/index.js';
import { mint } from '../gss/helpers.js';
import { b64, fakeFactory, readAuthorization } from '../http/helpers.js';

const VECTORS = join(import.meta.dirname, '..', 'vectors');
const pem = (name: string) => readFileSync(join(VECTORS, name), 'utf8');
const CA = pem('kkdcp/ca.pem');
const SERVER = { cert: pem('kkdcp/server.pem'), key: pem('kkdcp/server-key.pem') };
const OTHER = { cert: pem('tls-bindings/other.pem'), key: pem('tls-bindings/other-key.pem') };
const TARGET = 'HTTP/localhost@GSS.TEST';

/** What RFC 5929 §4.1 gives for the test server's certificate (sha256WithRSAEncryption). */
const SERVER_BINDINGS = new Uint8Array(
  Buffer.concat([
    Buffer.from('tls-server-end-point:'),
    createHash('sha256').update(new X509Certificate(SERVER.cert).raw).digest(),
  ]),
);

const servers: HttpsServer[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

async function listen(server: HttpsServer): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `https://localhost:${(server.address() as AddressInfo).port}`;
}

interface Seen {
  token: boolean;
  /** Which TLS connection (client port) the request came over. */
  port: number;
  body: string;
}

/**
 * An https double: 401 Negotiate, then 200 with `final|id` to an init token, the body echoed.
 * `closeAfter401` hangs up after the 401 (and may change the certificate meanwhile).
 */
async function tlsDouble(opts: { closeAfter401?: () => void; gzip?: boolean } = {}) {
  const seen: Seen[] = [];
  const server = createHttpsServer(SERVER, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const t = readAuthorization(req.headers.authorization);
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ token: t !== undefined, port: req.socket.remotePort ?? 0, body });
      if (req.url === '/moved' && t === undefined) {
        res.writeHead(302, { location: '/landed', 'content-length': '0' });
        res.end();
        return;
      }
      if (t?.kind !== 'init') {
        if (opts.closeAfter401) {
          res.setHeader('connection', 'close');
          opts.closeAfter401();
        }
        // With its length, so the client can read it to the end and keep the connection.
        res.writeHead(401, {
          'www-authenticate': 'Negotiate',
          'content-type': 'text/plain',
          'content-length': '6',
        });
        res.end('denied');
        return;
      }
      const text = `ok ${req.method} ${req.url} ${body}`;
      const headers: Record<string, string> = {
        'www-authenticate': `Negotiate ${b64(`final|${t.id}`)}`,
        'content-type': 'text/plain',
      };
      if (opts.gzip && /gzip/.test(String(req.headers['accept-encoding']))) {
        headers['content-encoding'] = 'gzip';
        res.writeHead(200, headers);
        res.end(gzipSync(text));
        return;
      }
      res.writeHead(200, headers);
      res.end(text);
    });
  });
  const url = await listen(server);
  return { url, server, seen };
}

/** A 401 without a token, or `ok` with the final (mutual) token answering the client's. */
function answerOk(req: IncomingMessage, res: ServerResponse): void {
  const t = readAuthorization(req.headers.authorization);
  if (t?.kind !== 'init') {
    res.writeHead(401, { 'www-authenticate': 'Negotiate', 'content-length': '0' });
    res.end();
    return;
  }
  res.writeHead(200, { 'www-authenticate': `Negotiate ${b64(`final|${t.id}`)}`, 'content-length': '2' });
  res.end('ok');
}

const clients = {
  axios(options: NegotiateOptions & { tls?: object }, factory = fakeFactory(), fetchImpl?: typeof fetch) {
    const instance = axios.create({ responseType: 'text' });
    instance.interceptors.request.use(
      negotiateInterceptorWith(options, { contextFactory: factory }, fetchImpl),
    );
    instance.interceptors.response.use(undefined, unwrapNegotiateError);
    return {
      factory,
      get: async (url: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
        (await instance.get<string>(url, { headers, ...(signal ? { signal } : {}) })).data,
      post: async (url: string, body: string) =>
        (await instance.post<string>(url, body, { headers: { 'content-type': 'text/plain' } })).data,
    };
  },
  got(options: NegotiateOptions & { tls?: object }, factory = fakeFactory(), fetchImpl?: typeof fetch) {
    const api = got.extend(negotiateGotWith(options, { contextFactory: factory }, fetchImpl), {
      retry: { limit: 0 },
    });
    return {
      factory,
      get: (url: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
        api.get(url, { headers, ...(signal ? { signal } : {}) }).text(),
      post: (url: string, body: string) => api.post(url, { body }).text(),
    };
  },
};

/** got wraps what a hook throws; ours is the error or its cause. */
const ours = (e: unknown): unknown =>
  e instanceof ChannelBindingError ? e : (e as { cause?: unknown }).cause;

for (const [name, make] of Object.entries(clients)) {
  describe(`spnego/${name} over https binds its tokens to the connection they travel on`, () => {
    it('by default: the bindings of the certificate the server presented; mutual REQUIRED verified; a POST body re-sent', async () => {
      const s = await tlsDouble();
      const c = make({ tls: { ca: CA }, mutualAuthentication: REQUIRED });
      assert.equal(await c.get(`${s.url}/a`), 'ok GET /a ');
      assert.equal(c.factory.made.length, 1);
      assert.deepEqual(c.factory.made[0]!.req.channelBindings, SERVER_BINDINGS);
      assert.ok(c.factory.made[0]!.complete, 'the AP-REP (fake) verified');
      // Both legs of the request went over one connection.
      assert.equal(new Set(s.seen.map((x) => x.port)).size, 1);
      assert.equal(await c.post(`${s.url}/b`, 'posted'), 'ok POST /b posted');
      assert.deepEqual(
        s.seen.slice(-2).map((x) => [x.token, x.body]),
        [
          [false, 'posted'],
          [true, 'posted'],
        ],
      );
      assert.deepEqual(c.factory.made[1]!.req.channelBindings, SERVER_BINDINGS);
    });

    it('channelBindings: false, or a fetch of the caller, sends tokens unbound', async () => {
      const s = await tlsDouble();
      const { Agent, fetch: undiciFetch } = await import('undici');
      const agent = new Agent({ connect: { ca: CA } });
      try {
        // channelBindings: false keeps the client's fetch: trust comes from that fetch, not `tls`.
        const viaCa = ((u: string, i: RequestInit) =>
          undiciFetch(u, { ...(i as object), dispatcher: agent })) as unknown as typeof fetch;
        const offWithFetch = make({ channelBindings: false }, fakeFactory(), viaCa);
        assert.equal(await offWithFetch.get(`${s.url}/c`), 'ok GET /c ');
        assert.equal(offWithFetch.factory.made[0]!.req.channelBindings, undefined);
        const theirs = make({}, fakeFactory(), viaCa);
        assert.equal(await theirs.get(`${s.url}/d`), 'ok GET /d ');
        assert.equal(theirs.factory.made[0]!.req.channelBindings, undefined);
      } finally {
        await agent.close();
      }
    });

    it('a server that closes the connection after its 401: the new connection (same certificate) carries the bound token', async () => {
      const s = await tlsDouble({ closeAfter401: () => undefined });
      const c = make({ tls: { ca: CA } });
      assert.equal(await c.get(`${s.url}/e`), 'ok GET /e ');
      assert.deepEqual(c.factory.made[0]!.req.channelBindings, SERVER_BINDINGS);
      assert.equal(new Set(s.seen.map((x) => x.port)).size, 2);
    });

    it('a certificate that changes between legs: ChannelBindingError CERTIFICATE_CHANGED, the bound token never sent', async () => {
      let s: Awaited<ReturnType<typeof tlsDouble>> | undefined;
      s = await tlsDouble({ closeAfter401: () => s?.server.setSecureContext(OTHER) });
      const c = make({ tls: { ca: [CA, OTHER.cert], rejectUnauthorized: false } });
      await assert.rejects(c.get(`${s.url}/f`), (e: unknown) => {
        const m = ours(e);
        return m instanceof ChannelBindingError && m.code === 'CERTIFICATE_CHANGED';
      });
      assert.deepEqual(
        s.seen.map((x) => x.token),
        [false],
      );
    });

    it('opportunistic: the first leg carries a token bound to the connection opened for it', async () => {
      const s = await tlsDouble();
      const c = make({ tls: { ca: CA }, opportunisticAuth: true });
      assert.equal(await c.get(`${s.url}/g`), 'ok GET /g ');
      assert.deepEqual(
        s.seen.map((x) => x.token),
        [true],
      );
      assert.deepEqual(c.factory.made[0]!.req.channelBindings, SERVER_BINDINGS);
    });

    it('opportunistic POST: the body streams with the bound token on the first leg', async () => {
      const s = await tlsDouble();
      const c = make({ tls: { ca: CA }, opportunisticAuth: true });
      assert.equal(await c.post(`${s.url}/o`, 'streamed'), 'ok POST /o streamed');
      assert.deepEqual(
        s.seen.map((x) => [x.token, x.body]),
        [[true, 'streamed']],
      );
      assert.deepEqual(c.factory.made[0]!.req.channelBindings, SERVER_BINDINGS);
    });

    it('an abort ends the request on our own connection, not after the server answers', async () => {
      const server = createHttpsServer(SERVER, () => {
        // never answers
      });
      const url = await listen(server);
      const ac = new AbortController();
      const c = make({ tls: { ca: CA } });
      setTimeout(() => ac.abort(new Error('stop')), 100);
      const t0 = Date.now();
      await assert.rejects(c.get(url, {}, ac.signal));
      assert.ok(Date.now() - t0 < 5000);
    });

    it('a redirect within the origin is followed by the flow, the token bound on the same connection', async () => {
      const s = await tlsDouble();
      const c = make({ tls: { ca: CA } });
      assert.equal(await c.get(`${s.url}/moved`), 'ok GET /landed ');
      assert.deepEqual(c.factory.made[0]!.req.channelBindings, SERVER_BINDINGS);
      assert.equal(new Set(s.seen.map((x) => x.port)).size, 1);
    });

    it('requests in turn share one kept-alive connection (each token bound to it); concurrent ones get their own', async () => {
      const s = await tlsDouble();
      const c = make({ tls: { ca: CA } });
      for (const p of ['/h1', '/h2', '/h3']) assert.equal(await c.get(`${s.url}${p}`), `ok GET ${p} `);
      assert.equal(new Set(s.seen.map((x) => x.port)).size, 1);
      assert.equal(c.factory.made.length, 3);
      for (const ctx of c.factory.made) assert.deepEqual(ctx.req.channelBindings, SERVER_BINDINGS);
      const before = s.seen.length;
      const all = await Promise.all(['/i1', '/i2', '/i3'].map((p) => c.get(`${s.url}${p}`)));
      assert.deepEqual(all, ['ok GET /i1 ', 'ok GET /i2 ', 'ok GET /i3 ']);
      // Each request kept its two legs on one connection of its own.
      const legs = s.seen.slice(before);
      assert.equal(new Set(legs.map((x) => x.port)).size, 3);
      // The server drops its idle connections: the next request opens a fresh one.
      s.server.closeIdleConnections();
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await c.get(`${s.url}/j`), 'ok GET /j ');
      assert.deepEqual(c.factory.made.at(-1)!.req.channelBindings, SERVER_BINDINGS);
    });

    it('a kept-alive connection the server drops as it is reused: the leg goes again on a new one, bound to it', async () => {
      const perSocket = new WeakMap<object, number>();
      let dropped = 0;
      const server = createHttpsServer(SERVER, (req, res) => {
        const n = (perSocket.get(req.socket) ?? 0) + 1;
        perSocket.set(req.socket, n);
        // The first request on a reused socket finds it closed under it.
        if (n === 3) {
          dropped++;
          req.socket.destroy();
          return;
        }
        req.resume();
        answerOk(req, res);
      });
      const url = await listen(server);
      const c = make({ tls: { ca: CA } });
      assert.equal(await c.get(`${url}/k1`), 'ok');
      assert.equal(await c.get(`${url}/k2`), 'ok');
      assert.equal(dropped, 1);
      assert.deepEqual(c.factory.made.at(-1)!.req.channelBindings, SERVER_BINDINGS);
    });

    it('a POST on a kept-alive connection the server drops after reading it is not sent again (RFC 9110 §9.2.2)', async () => {
      const perSocket = new WeakMap<object, number>();
      const posted: string[] = [];
      const server = createHttpsServer(SERVER, (req, res) => {
        const n = (perSocket.get(req.socket) ?? 0) + 1;
        perSocket.set(req.socket, n);
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          if (req.method === 'POST') posted.push(Buffer.concat(chunks).toString());
          // The server acted on the POST, then lost the connection before it answered.
          if (n === 3) {
            req.socket.destroy();
            return;
          }
          answerOk(req, res);
        });
      });
      const url = await listen(server);
      const c = make({ tls: { ca: CA } });
      assert.equal(await c.get(`${url}/k1`), 'ok');
      await assert.rejects(c.post(`${url}/pay`, 'once'));
      assert.deepEqual(posted, ['once']);
    });

    it('a gzip body is decoded, as fetch does', async () => {
      const s = await tlsDouble({ gzip: true });
      const c = make({ tls: { ca: CA } });
      assert.equal(await c.get(`${s.url}/z`, { 'accept-encoding': 'gzip' }), 'ok GET /z ');
    });

    it("end to end with real contexts: our channelBindings: 'required' middleware accepts the bound token, refuses the unbound one", async () => {
      const m = await mint();
      const mw = negotiateMiddleware({ keytab: m.keytab, channelBindings: 'required' });
      const server = createHttpsServer(SERVER, (req, res) =>
        mw(req as unknown as RequestLike, res, () =>
          res.end(`bound=${String((req as unknown as RequestLike).negotiate?.channelBound)}`),
        ),
      );
      const url = await listen(server);
      const { Agent, fetch: undiciFetch } = await import('undici');
      const agent = new Agent({ connect: { ca: CA } });
      const viaCa = ((u: string, i: RequestInit) =>
        undiciFetch(u, { ...(i as object), dispatcher: agent })) as unknown as typeof fetch;
      const real = (channelBindings?: boolean) => {
        const o: NegotiateOptions & { tls: object } = {
          tls: { ca: CA },
          credentials: m.credentials,
          targetName: TARGET,
          mutualAuthentication: REQUIRED,
          ...(channelBindings === undefined ? {} : { channelBindings }),
        };
        // Unbound, the legs go by the client's fetch: one that trusts the test CA.
        const send = channelBindings === false ? viaCa : undefined;
        return name === 'axios'
          ? negotiateAxiosReal(o, send)
          : got.extend(negotiateGotWith(o, {}, send), { retry: { limit: 0 } });
      };
      if (name === 'axios') {
        const api = real() as ReturnType<typeof negotiateAxiosReal>;
        assert.equal((await api.get<string>(url)).data, 'bound=true');
        const off = real(false) as ReturnType<typeof negotiateAxiosReal>;
        await assert.rejects(
          off.get(url),
          (e: unknown) => (e as { response?: { status: number } }).response?.status === 401,
        );
      } else {
        const api = real() as ReturnType<typeof got.extend>;
        assert.equal(await api.get(url).text(), 'bound=true');
        const off = real(false) as ReturnType<typeof got.extend>;
        await assert.rejects(
          off.get(url).text(),
          (e: unknown) => (e as { response?: { statusCode: number } }).response?.statusCode === 401,
        );
      }
      await agent.close();
    });
  });
}

function negotiateAxiosReal(o: NegotiateOptions & { tls: object }, send?: typeof fetch) {
  const instance = axios.create({ responseType: 'text' });
  instance.interceptors.request.use(negotiateInterceptorWith(o, {}, send));
  instance.interceptors.response.use(undefined, unwrapNegotiateError);
  return instance;
}
