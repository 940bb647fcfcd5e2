// Negotiate through a forward proxy, against a node:http proxy double that demands Negotiate
// (407 Proxy-Authenticate) for the fake context: plain HTTP forwarded in absolute form, CONNECT
// answered with 407, refused or cut; proxy and origin tokens kept apart; the proxy option and
// curl's environment variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, either case).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createConnection, createServer as createNetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import ky from 'ky';
import { curlCommand } from '../../src/cli/curl.js';
import {
  ChannelBindingError,
  ConfigError,
  MutualAuthenticationError,
  SpnegoError,
} from '../../src/errors.js';
import { createNegotiator } from '../../src/http/fetch.js';
import { negotiateWith } from '../../src/http/ky.js';
import { DISABLED, type NegotiateOptions, REQUIRED } from '../../src/http/options.js';
import { proxyFor } from '../../src/http/proxy.js';
import { tlsServerEndPoint } from '../../src/krb5/gss/tls-bindings.js';
import { acceptor, b64, fakeFactory, type Recorded, readAuthorization, serverPool } from './helpers.js';

const serve = serverPool();

interface ProxySeen {
  method: string;
  target: string;
  proxyToken: ReturnType<typeof readAuthorization>;
  authorization: string | undefined;
}

interface ProxyDouble {
  url: string;
  seen: ProxySeen[];
  close(): Promise<void>;
}

/**
 * What an authorized CONNECT gets: 'refuse' a 403, 'cut' the socket closed before any answer,
 * 'tunnel' a 200 and the bytes piped to the next of `backends` (in turn: a server whose
 * certificate changes between tunnels), 'close' a 200 and then the socket closed.
 */
type ConnectMode = 'refuse' | 'cut' | 'tunnel' | 'close' | 'stall';

/**
 * A proxy double listening on 127.0.0.1 (so its SPN is HTTP@127.0.0.1): every request and CONNECT
 * needs `Proxy-Authorization: Negotiate <init token for HTTP@127.0.0.1>`, else 407. `challenge`
 * is the Proxy-Authenticate it sends.
 */
async function startProxy(
  opts: {
    challenge?: string;
    connect?: ConnectMode;
    finalToken?: boolean;
    /** A bad token on the CONNECT 200 / forwarded response instead of the final one. */
    badFinalToken?: boolean;
    backends?: number[];
    tls?: { cert: string; key: string };
  } = {},
): Promise<ProxyDouble> {
  const seen: ProxySeen[] = [];
  const challenge = opts.challenge ?? 'Negotiate';
  const sockets = new Set<Socket>();
  const authorized = (req: IncomingMessage): boolean => {
    const t = readAuthorization(req.headers['proxy-authorization']);
    return t?.kind === 'init' && t.target === 'HTTP@127.0.0.1';
  };
  const finalHeader = (req: IncomingMessage): string | undefined => {
    if (!opts.finalToken && !opts.badFinalToken) return undefined;
    const t = readAuthorization(req.headers['proxy-authorization']);
    return `Negotiate ${b64(opts.badFinalToken ? 'final|999999' : `final|${t?.id}`)}`;
  };
  let nextBackend = 0;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    seen.push({
      method: req.method ?? '',
      target: req.url ?? '',
      proxyToken: readAuthorization(req.headers['proxy-authorization']),
      authorization: req.headers.authorization,
    });
    if (!authorized(req)) {
      res.writeHead(407, { 'proxy-authenticate': challenge, 'content-type': 'text/plain' });
      res.end('proxy says no');
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = httpRequest(req.url ?? '', { method: req.method, headers }, (upRes) => {
      const h = { ...upRes.headers } as Record<string, string | string[]>;
      const final = finalHeader(req);
      if (final !== undefined) h['proxy-authenticate'] = final;
      res.writeHead(upRes.statusCode ?? 502, h);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  const server = opts.tls ? createHttpsServer(opts.tls, handler) : createServer(handler);
  server.on(opts.tls ? 'secureConnection' : 'connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    seen.push({
      method: 'CONNECT',
      target: req.url ?? '',
      proxyToken: readAuthorization(req.headers['proxy-authorization']),
      authorization: req.headers.authorization,
    });
    if (opts.connect === 'cut') {
      socket.destroy();
      return;
    }
    if (opts.connect === 'stall') return;
    if (!authorized(req)) {
      socket.end(
        `HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: ${challenge}\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    if (opts.connect === 'tunnel' || opts.connect === 'close') {
      const final = finalHeader(req);
      socket.write(
        `HTTP/1.1 200 Connection established\r\n${final === undefined ? '' : `Proxy-Authenticate: ${final}\r\n`}\r\n`,
      );
      if (opts.connect === 'close') {
        socket.destroy();
        return;
      }
      const backends = opts.backends ?? [];
      const port = backends[nextBackend++ % backends.length] as number;
      const up = createConnection({ host: '127.0.0.1', port });
      sockets.add(up);
      up.on('close', () => sockets.delete(up));
      up.on('error', () => socket.destroy());
      socket.on('error', () => up.destroy());
      up.pipe(socket);
      socket.pipe(up);
      return;
    }
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const double: ProxyDouble = {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  proxies.push(double);
  return double;
}
const proxies: ProxyDouble[] = [];
after(async () => {
  for (const p of proxies) await p.close();
});

const ENV = [
  'http_proxy',
  'HTTP_PROXY',
  'https_proxy',
  'HTTPS_PROXY',
  'no_proxy',
  'NO_PROXY',
  'REQUEST_METHOD',
];
const savedEnv = Object.fromEntries(ENV.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of ENV) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});
for (const k of ENV) delete process.env[k];

function client(options: NegotiateOptions = {}) {
  const factory = fakeFactory();
  const n = createNegotiator(options, { contextFactory: factory });
  const f = (input: string, init?: RequestInit) => n.fetch(input, init, globalThis.fetch);
  return Object.assign(f, { factory });
}

describe('proxy: plain HTTP forwarded, proxy and origin both Negotiate', () => {
  it('answers the 407 with a token for HTTP@<proxy host> and the 401 with one for the origin', async () => {
    const origin = await serve(acceptor());
    const proxy = await startProxy();
    const f = client({ proxy: proxy.url, mutualAuthentication: REQUIRED });
    const res = await f(`${origin.url}/x`, { method: 'POST', body: 'payload' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok POST HTTP@localhost payload');
    // Through the proxy: 407, then the origin's 401 (proxy token), then the 200 (both tokens).
    assert.deepEqual(
      proxy.seen.map((s) => [
        s.target,
        s.proxyToken?.target ?? null,
        readAuthorization(s.authorization)?.target ?? null,
      ]),
      [
        [`${origin.url}/x`, null, null],
        [`${origin.url}/x`, 'HTTP@127.0.0.1', null],
        [`${origin.url}/x`, 'HTTP@127.0.0.1', 'HTTP@localhost'],
      ],
    );
    assert.notEqual(
      proxy.seen[1]?.proxyToken?.id,
      proxy.seen[2]?.proxyToken?.id,
      'a fresh proxy token per leg',
    );
    for (const r of origin.requests)
      assert.equal(r.headers['proxy-authorization'], undefined, 'never at the origin');
    assert.deepEqual(
      f.factory.made.map((c) => c.req.target),
      ['HTTP@127.0.0.1', 'HTTP@localhost', 'HTTP@127.0.0.1'],
    );
    assert.ok(f.factory.made.every((c) => c.req.delegate === false));
    // A proxy known to want Negotiate gets a token from the first request on.
    const again = await f(`${origin.url}/y`);
    assert.equal(again.status, 200);
    assert.equal(proxy.seen.at(-2)?.proxyToken?.target, 'HTTP@127.0.0.1');
  });

  it('a Proxy-Authenticate with several schemes still finds Negotiate; mutual OPTIONAL for the proxy', async () => {
    const origin = await serve(acceptor());
    const proxy = await startProxy({ challenge: 'Basic realm="corp", Negotiate', finalToken: true });
    const f = client({ proxy: proxy.url, mutualAuthentication: REQUIRED });
    assert.equal((await f(`${origin.url}/`)).status, 200);
    assert.ok(f.factory.made.filter((c) => c.req.target === 'HTTP@127.0.0.1').every((c) => c.complete));
  });

  it('a proxy without Negotiate, and a 407 loop, end with the 407 (bounded), never a hang', async () => {
    const origin = await serve(acceptor());
    const basic = await startProxy({ challenge: 'Basic realm="corp"' });
    const res = await client({ proxy: basic.url })(`${origin.url}/`);
    assert.equal(res.status, 407);
    assert.equal(basic.seen.length, 1);
    // A proxy that never accepts (it wants another host's ticket): one try, then the 407.
    const loop = await startProxy();
    const stubborn = createNegotiator(
      { proxy: loop.url.replace('127.0.0.1', 'localhost') },
      { contextFactory: fakeFactory() },
    );
    const r2 = await stubborn.fetch(`${origin.url}/`, undefined, globalThis.fetch);
    assert.equal(r2.status, 407);
    assert.ok(loop.seen.length <= 8, `bounded: ${loop.seen.length}`);
    assert.equal(origin.requests.length, 0, 'nothing reached the origin');
  });

  it('the absolute-form target carries no fragment (RFC 9112 §3.2.2: an absolute-URI)', async () => {
    const origin = await serve(acceptor());
    const proxy = await startProxy();
    const res = await client({ proxy: proxy.url })(`${origin.url}/p?q=1#section`);
    assert.equal(res.status, 200);
    assert.deepEqual([...new Set(proxy.seen.map((s) => s.target))], [`${origin.url}/p?q=1`]);
  });

  it('ky hooks go through the proxy too', async () => {
    const origin = await serve(acceptor());
    const proxy = await startProxy();
    const api = ky.extend(negotiateWith({ proxy: proxy.url }, { contextFactory: fakeFactory() }));
    assert.equal(await api.get(`${origin.url}/k`).text(), 'ok GET HTTP@localhost ');
    assert.ok(proxy.seen.length >= 2);
  });
});

describe('proxy: CONNECT for https origins', () => {
  it('a 407 to CONNECT is answered with a proxy token; a refused tunnel is a TypeError, no token inside', async () => {
    const proxy = await startProxy();
    const f = client({ proxy: proxy.url });
    await assert.rejects(
      f('https://origin.example:8443/secret'),
      (e: unknown) =>
        e instanceof TypeError &&
        e.cause instanceof SpnegoError &&
        e.cause.code === 'PROXY_CONNECT_FAILED' &&
        /403/.test(e.cause.message),
    );
    assert.deepEqual(
      proxy.seen.map((s) => [s.method, s.target, s.proxyToken?.target ?? null, s.authorization ?? null]),
      [
        ['CONNECT', 'origin.example:8443', null, null],
        ['CONNECT', 'origin.example:8443', 'HTTP@127.0.0.1', null],
      ],
    );
  });

  it('a CONNECT 407 without Negotiate is a TypeError naming the 407', async () => {
    const proxy = await startProxy({ challenge: 'Basic realm="corp"' });
    await assert.rejects(
      client({ proxy: proxy.url })('https://origin.example/'),
      (e: unknown) =>
        e instanceof TypeError && e.cause instanceof SpnegoError && e.cause.code === 'PROXY_AUTH_FAILED',
    );
  });

  it('a CONNECT the proxy closes is a TypeError, not a hang', async () => {
    const proxy = await startProxy({ connect: 'cut' });
    await assert.rejects(client({ proxy: proxy.url })('https://origin.example/'), TypeError);
  });
});

describe('proxy: which requests use it', () => {
  it('HTTP_PROXY / HTTPS_PROXY in either case, NO_PROXY, and proxy: false', () => {
    const http = new URL('http://intranet.example.com/x');
    const https = new URL('https://intranet.example.com/x');
    assert.equal(proxyFor(http, undefined), undefined);
    process.env['HTTP_PROXY'] = 'proxy.example.com:3128';
    assert.equal(proxyFor(http, undefined)?.href, 'http://proxy.example.com:3128/');
    assert.equal(proxyFor(https, undefined), undefined, 'HTTP_PROXY is for http only');
    process.env['https_proxy'] = 'http://secure-proxy.example.com:8080';
    assert.equal(proxyFor(https, undefined)?.host, 'secure-proxy.example.com:8080');
    assert.equal(proxyFor(https, false), undefined);
    assert.equal(proxyFor(https, 'http://other:1')?.host, 'other:1');
    for (const noProxy of [
      'example.com',
      '.example.com',
      'intranet.example.com:80',
      '*',
      'x.org,intranet.example.com',
    ]) {
      process.env['NO_PROXY'] = noProxy;
      assert.equal(proxyFor(http, undefined), undefined, noProxy);
      assert.equal(proxyFor(http, 'http://other:1'), undefined, `${noProxy} applies to the option too`);
    }
    process.env['NO_PROXY'] = 'foo, *';
    assert.ok(proxyFor(http, undefined), '`*` bypasses only as the whole value, as curl');
    process.env['NO_PROXY'] = 'ample.com,other.example.com';
    assert.ok(proxyFor(http, undefined), 'a suffix that is not a domain boundary does not match');
  });

  it('httpoxy: in a CGI program (REQUEST_METHOD set) no http proxy comes from the environment', () => {
    // A CGI request's `Proxy:` header arrives as HTTP_PROXY; on Windows http_proxy is the same
    // variable. Whoever sends the header would otherwise receive our requests and their tokens.
    const http = new URL('http://intranet.example.com/x');
    const https = new URL('https://intranet.example.com/x');
    process.env['REQUEST_METHOD'] = 'GET';
    process.env['HTTP_PROXY'] = 'http://attacker.example:3128';
    assert.equal(proxyFor(http, undefined), undefined, 'HTTP_PROXY');
    process.env['http_proxy'] = 'http://attacker.example:3128';
    assert.equal(proxyFor(http, undefined), undefined, 'http_proxy');
    process.env['HTTPS_PROXY'] = 'http://secure-proxy.example.com:8080';
    assert.equal(
      proxyFor(https, undefined)?.host,
      'secure-proxy.example.com:8080',
      'no header becomes HTTPS_PROXY',
    );
    assert.equal(proxyFor(http, 'http://chosen:1')?.host, 'chosen:1', 'the option is still taken');
    delete process.env['REQUEST_METHOD'];
    assert.equal(proxyFor(http, undefined)?.host, 'attacker.example:3128', 'outside CGI, as before');
  });

  it('a proxy URL that cannot be used never puts its password in the error', () => {
    const https = new URL('https://intranet.example.com/x');
    for (const bad of [
      'http://alice:s3cret@[bad:1',
      'http://alice:s3cret@/',
      'alice:s3cret@[bad',
      'socks5://alice:s3cret@h:1',
    ]) {
      process.env['HTTPS_PROXY'] = bad;
      assert.throws(
        () => proxyFor(https, undefined),
        (e: unknown) =>
          e instanceof SpnegoError && e.code === 'BAD_PROXY' && !/s3cret/.test(`${e.message} ${e.hint}`),
        bad,
      );
      assert.throws(
        () => createNegotiator({ proxy: bad }),
        (e: unknown) => e instanceof ConfigError && !/s3cret/.test(`${e.message} ${e.hint}`),
        bad,
      );
    }
  });

  it('a bad proxy option is a ConfigError at creation; http:// and https:// proxies are taken', () => {
    for (const ok of ['http://proxy.example.com:3128', 'https://proxy.example.com', 'proxy.example.com:8080'])
      createNegotiator({ proxy: ok });
    for (const bad of [
      'http://[bad',
      'socks5://proxy.example.com:1080',
      'file:///etc/passwd',
      42 as unknown as string,
    ]) {
      assert.throws(
        () => createNegotiator({ proxy: bad }),
        (e: unknown) => e instanceof ConfigError && e.code === 'BAD_OPTION',
      );
    }
    for (const bad of [42, [CA, 7], { pem: CA }])
      assert.throws(
        () => createNegotiator({ proxyCa: bad as unknown as string }),
        (e: unknown) => e instanceof ConfigError && e.code === 'BAD_OPTION',
      );
  });
});

describe('spnego curl -x', () => {
  it('goes through the proxy, Negotiate with both', async () => {
    const origin = await serve(acceptor());
    const proxy = await startProxy();
    let stdout = '';
    let stderr = '';
    const code = await curlCommand(
      ['-x', proxy.url, '--mutual', 'required', `${origin.url}/c`],
      { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
      { contextFactory: fakeFactory() },
    );
    assert.equal(code, 0, stderr);
    assert.equal(stdout, 'ok GET HTTP@localhost ');
    assert.equal(proxy.seen.length, 3);
  });

  it('-x https://… with --proxy-cacert; an untrusted proxy exits 60, --proxy-mutual required without a proxy token 1', async () => {
    const origin = await serve(acceptor());
    const proxy = await startProxy({ tls: SERVER });
    const curl = async (args: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await curlCommand(
        args,
        { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
        { contextFactory: fakeFactory() },
      );
      return { code, stdout, stderr };
    };
    const caFile = join(VECTORS, 'kkdcp', 'ca.pem');
    const ok = await curl(['-x', proxy.url, '--proxy-cacert', caFile, `${origin.url}/c`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'ok GET HTTP@localhost ');
    const untrusted = await curl(['-x', proxy.url, `${origin.url}/c`]);
    assert.equal(untrusted.code, 60, untrusted.stderr);
    const mutual = await curl([
      '-x',
      proxy.url,
      '--proxy-cacert',
      caFile,
      '--proxy-mutual',
      'required',
      `${origin.url}/c`,
    ]);
    assert.equal(mutual.code, 1, mutual.stderr);
    assert.match(mutual.stderr, /PROXY_MUTUAL_AUTH_MISSING/);
    const missing = await curl([
      '-x',
      proxy.url,
      '--proxy-cacert',
      join(VECTORS, 'no-such.pem'),
      `${origin.url}/c`,
    ]);
    assert.equal(missing.code, 77);
  });
});

const VECTORS = join(import.meta.dirname, '..', 'vectors');
const pem = (name: string) => readFileSync(join(VECTORS, name), 'utf8');
/** A test CA and a localhost/127.0.0.1 certificate it signed; another, self-signed, certificate. */
const CA = pem('kkdcp/ca.pem');
const SERVER = { cert: pem('kkdcp/server.pem'), key: pem('kkdcp/server-key.pem') };
const OTHER = { cert: pem('tls-bindings/other.pem'), key: pem('tls-bindings/other-key.pem') };
const bindingsOf = (certPem: string) => tlsServerEndPoint(new Uint8Array(new X509Certificate(certPem).raw));

interface TlsOrigin {
  port: number;
  requests: Recorded[];
}

/** An https origin on 127.0.0.1 running the usual acceptor, with the given certificate. */
async function startTlsOrigin(certs: { cert: string; key: string }): Promise<TlsOrigin> {
  const requests: Recorded[] = [];
  const handle = acceptor();
  const server: Server = createHttpsServer(certs, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(rec);
      handle(rec, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, requests };
}

/** A negotiator whose tunnels trust the test CA (and `extra`) for origins. */
function tunnelClient(options: NegotiateOptions, extra: string[] = []) {
  const factory = fakeFactory();
  const n = createNegotiator(options, { contextFactory: factory, originCa: [CA, ...extra] });
  const f = (input: string, init?: RequestInit) => n.fetch(input, init, globalThis.fetch);
  return Object.assign(f, { factory });
}

const causeCode = (code: string) => (e: unknown) =>
  e instanceof TypeError && e.cause instanceof SpnegoError && e.cause.code === code;

describe('proxy: an https:// proxy (TLS to the proxy itself)', () => {
  it('plain HTTP forwarded over TLS to the proxy, its certificate checked against proxyCa', async () => {
    const origin = await serve(acceptor());
    const proxy = await startProxy({ tls: SERVER });
    const f = client({ proxy: proxy.url, proxyCa: CA, mutualAuthentication: REQUIRED });
    const res = await f(`${origin.url}/over-tls`, { method: 'POST', body: 'b' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok POST HTTP@localhost b');
    assert.deepEqual(
      proxy.seen.map((s) => s.proxyToken?.target ?? null),
      [null, 'HTTP@127.0.0.1', 'HTTP@127.0.0.1'],
    );
  });

  it('an untrusted proxy certificate ends the request before anything reaches the proxy', async () => {
    const origin = await serve(acceptor());
    const proxy = await startProxy({ tls: OTHER });
    for (const options of [{ proxy: proxy.url }, { proxy: proxy.url, proxyCa: CA }]) {
      await assert.rejects(client(options)(`${origin.url}/`), TypeError);
      await assert.rejects(client(options)('https://localhost:1/'), TypeError);
    }
    assert.equal(proxy.seen.length, 0, 'no request, no token');
    assert.equal(origin.requests.length, 0);
  });

  it('CONNECT inside TLS to the proxy, then TLS to the origin inside the tunnel; the origin token bound to its certificate', async () => {
    const backend = await startTlsOrigin(SERVER);
    const proxy = await startProxy({ tls: SERVER, connect: 'tunnel', backends: [backend.port] });
    const f = tunnelClient({ proxy: proxy.url, proxyCa: [CA], mutualAuthentication: REQUIRED });
    const res = await f(`https://localhost:${backend.port}/tls-in-tls`, { method: 'POST', body: 'x' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok POST HTTP@localhost x');
    for (const r of backend.requests)
      assert.equal(r.headers['proxy-authorization'], undefined, 'the proxy token stays outside the tunnel');
    assert.deepEqual(
      proxy.seen.map((s) => [s.method, s.proxyToken?.target ?? null, s.authorization ?? null]),
      [
        ['CONNECT', null, null],
        ['CONNECT', 'HTTP@127.0.0.1', null],
        ['CONNECT', 'HTTP@127.0.0.1', null],
      ],
      'the origin token never reaches the proxy',
    );
    const originCtx = f.factory.made.find((c) => c.req.target === 'HTTP@localhost');
    assert.deepEqual(originCtx?.req.channelBindings, bindingsOf(SERVER.cert));
    for (const c of f.factory.made.filter((c) => c.req.target === 'HTTP@127.0.0.1'))
      assert.equal(c.req.channelBindings, undefined, 'the proxy token is not bound');
  });
});

describe('proxy: channel bindings for the origin behind CONNECT', () => {
  it('the token is bound to the certificate seen inside the tunnel; channelBindings: false sends it unbound', async () => {
    const backend = await startTlsOrigin(SERVER);
    const proxy = await startProxy({ connect: 'tunnel', backends: [backend.port] });
    const bound = tunnelClient({ proxy: proxy.url });
    assert.equal((await bound(`https://localhost:${backend.port}/b`)).status, 200);
    const made = bound.factory.made.filter((c) => c.req.target === 'HTTP@localhost');
    assert.equal(made.length, 1);
    assert.deepEqual(made[0]?.req.channelBindings, bindingsOf(SERVER.cert));
    const unbound = tunnelClient({ proxy: proxy.url, channelBindings: false });
    assert.equal((await unbound(`https://localhost:${backend.port}/u`)).status, 200);
    assert.equal(
      unbound.factory.made.find((c) => c.req.target === 'HTTP@localhost')?.req.channelBindings,
      undefined,
    );
  });

  it('opportunistic: the tunnel is opened before the token, which is bound and sent on it (one leg)', async () => {
    const backend = await startTlsOrigin(SERVER);
    const proxy = await startProxy({ connect: 'tunnel', backends: [backend.port] });
    const f = tunnelClient({ proxy: proxy.url, opportunisticAuth: true });
    const res = await f(`https://localhost:${backend.port}/o`, { method: 'PUT', body: 'streamed' });
    assert.equal(res.status, 200);
    assert.equal(backend.requests.length, 1, 'one request, the token on it');
    assert.equal(readAuthorization(backend.requests[0]?.headers.authorization)?.target, 'HTTP@localhost');
    assert.deepEqual(
      f.factory.made.find((c) => c.req.target === 'HTTP@localhost')?.req.channelBindings,
      bindingsOf(SERVER.cert),
    );
    assert.equal(proxy.seen.filter((s) => s.method === 'CONNECT' && s.proxyToken).length, 1, 'one tunnel');
  });

  it('a server certificate that changes between legs: the token is not sent (ChannelBindingError)', async () => {
    const first = await startTlsOrigin(SERVER);
    const second = await startTlsOrigin(OTHER);
    const proxy = await startProxy({ connect: 'tunnel', backends: [first.port, second.port] });
    const f = tunnelClient({ proxy: proxy.url }, [OTHER.cert]);
    await assert.rejects(
      f(`https://localhost:${first.port}/changes`),
      (e: unknown) =>
        e instanceof TypeError &&
        e.cause instanceof ChannelBindingError &&
        e.cause.code === 'CERTIFICATE_CHANGED',
    );
    assert.equal(first.requests.length, 1);
    assert.equal(first.requests[0]?.headers.authorization, undefined);
    assert.equal(second.requests.length, 0, 'nothing, no token, went to the other certificate');
  });

  it('a tunnel the proxy closes after its 200 is a TypeError, not a hang', async () => {
    const proxy = await startProxy({ connect: 'close' });
    await assert.rejects(tunnelClient({ proxy: proxy.url })('https://localhost:1/'), TypeError);
    await assert.rejects(
      tunnelClient({ proxy: proxy.url, opportunisticAuth: true })('https://localhost:1/'),
      TypeError,
    );
  });

  it("a proxy that never answers CONNECT: the caller's signal ends the request (with opportunistic auth too)", async () => {
    const proxy = await startProxy({ connect: 'stall' });
    for (const opportunisticAuth of [false, true]) {
      const started = Date.now();
      await assert.rejects(
        tunnelClient({ proxy: proxy.url, opportunisticAuth })('https://localhost:1/', {
          signal: AbortSignal.timeout(300),
        }),
        (e: unknown) => e instanceof Error && /abort|timeout/i.test(`${e.name} ${e.message}`),
      );
      assert.ok(Date.now() - started < 5000);
    }
  });

  it("an origin that never answers TLS inside the tunnel: the caller's signal ends the request", async () => {
    const silent = createNetServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    after(() => silent.close());
    const port = (silent.address() as AddressInfo).port;
    const proxy = await startProxy({ connect: 'tunnel', backends: [port] });
    for (const opportunisticAuth of [false, true]) {
      await assert.rejects(
        tunnelClient({ proxy: proxy.url, opportunisticAuth })(`https://localhost:${port}/`, {
          signal: AbortSignal.timeout(300),
        }),
        (e: unknown) => e instanceof Error && /abort|timeout/i.test(`${e.name} ${e.message}`),
      );
    }
  });

  it('a CONNECT 407 with several schemes (Basic, then Negotiate, one header each) is answered with Negotiate', async () => {
    const backend = await startTlsOrigin(SERVER);
    const proxy = await startProxy({
      challenge: 'Basic realm="corp"\r\nProxy-Authenticate: NTLM\r\nProxy-Authenticate: Negotiate',
      connect: 'tunnel',
      backends: [backend.port],
    });
    const f = tunnelClient({ proxy: proxy.url, mutualAuthentication: REQUIRED });
    assert.equal((await f(`https://localhost:${backend.port}/multi`)).status, 200);
    assert.deepEqual(
      proxy.seen.map((s) => s.proxyToken?.target ?? null),
      [null, 'HTTP@127.0.0.1', 'HTTP@127.0.0.1'],
    );
    for (const r of backend.requests) assert.equal(r.headers['proxy-authorization'], undefined);
  });

  it("an IP-address origin inside the tunnel is checked against its own address, not the proxy's (no token to a certificate for the proxy)", async () => {
    // The proxy listens on 127.0.0.1 and the certificate behind it is good for 127.0.0.1 (and
    // localhost): for https://127.0.0.2/ it is someone else's, whatever the proxy pipes us to.
    const backend = await startTlsOrigin(SERVER);
    const proxy = await startProxy({ connect: 'tunnel', backends: [backend.port] });
    for (const opportunisticAuth of [false, true]) {
      await assert.rejects(
        tunnelClient({ proxy: proxy.url, opportunisticAuth })(`https://127.0.0.2:${backend.port}/ip`),
        (e: unknown) =>
          e instanceof TypeError &&
          /ERR_TLS_CERT_ALTNAME_INVALID|127\.0\.0\.2/.test(
            `${(e.cause as { code?: string })?.code} ${(e.cause as Error)?.message}`,
          ),
      );
    }
    assert.equal(backend.requests.length, 0, 'no request, no token, to the wrong certificate');
  });

  it('a 407 loop on CONNECT is bounded and typed (PROXY_AUTH_FAILED), the origin never reached', async () => {
    const backend = await startTlsOrigin(SERVER);
    const proxy = await startProxy({ connect: 'tunnel', backends: [backend.port] });
    const stubborn = createNegotiator(
      { proxy: proxy.url.replace('127.0.0.1', 'localhost') },
      { contextFactory: fakeFactory(), originCa: CA },
    );
    await assert.rejects(
      stubborn.fetch(`https://localhost:${backend.port}/`, undefined, globalThis.fetch),
      causeCode('PROXY_AUTH_FAILED'),
    );
    assert.ok(proxy.seen.length <= 8, `bounded: ${proxy.seen.length}`);
    assert.equal(backend.requests.length, 0);
  });
});

describe('proxy: proxyMutualAuthentication', () => {
  it('REQUIRED: a proxy that sends no token fails the request (MutualAuthenticationError), http and CONNECT', async () => {
    const origin = await serve(acceptor());
    const backend = await startTlsOrigin(SERVER);
    const silent = await startProxy({ connect: 'tunnel', backends: [backend.port] });
    const f = tunnelClient({ proxy: silent.url, proxyMutualAuthentication: REQUIRED });
    for (const url of [`${origin.url}/`, `https://localhost:${backend.port}/`])
      await assert.rejects(
        f(url),
        (e: unknown) =>
          e instanceof TypeError &&
          e.cause instanceof MutualAuthenticationError &&
          e.cause.code === 'PROXY_MUTUAL_AUTH_MISSING',
        url,
      );
    assert.equal(backend.requests.length, 0, 'nothing sent into an unauthenticated tunnel');
  });

  it('REQUIRED: a proxy that answers with its final token is verified (http and CONNECT)', async () => {
    const origin = await serve(acceptor());
    const backend = await startTlsOrigin(SERVER);
    const proxy = await startProxy({ connect: 'tunnel', backends: [backend.port], finalToken: true });
    const f = tunnelClient({ proxy: proxy.url, proxyMutualAuthentication: REQUIRED });
    assert.equal((await f(`${origin.url}/`)).status, 200);
    assert.equal((await f(`https://localhost:${backend.port}/`)).status, 200);
    const proxyCtx = f.factory.made.filter((c) => c.req.target === 'HTTP@127.0.0.1');
    assert.ok(proxyCtx.length > 0 && proxyCtx.every((c) => c.req.mutual));
    assert.ok(proxyCtx.at(-1)?.complete);
  });

  it('OPTIONAL (default) refuses a token that does not verify; DISABLED ignores it', async () => {
    const origin = await serve(acceptor());
    const backend = await startTlsOrigin(SERVER);
    const liar = await startProxy({ connect: 'tunnel', backends: [backend.port], badFinalToken: true });
    for (const url of [`${origin.url}/`, `https://localhost:${backend.port}/`]) {
      await assert.rejects(
        tunnelClient({ proxy: liar.url })(url),
        (e: unknown) =>
          e instanceof TypeError &&
          e.cause instanceof MutualAuthenticationError &&
          e.cause.code === 'PROXY_MUTUAL_AUTH_FAILED',
      );
      const f = tunnelClient({ proxy: liar.url, proxyMutualAuthentication: DISABLED });
      assert.equal((await f(url)).status, 200);
      assert.ok(f.factory.made.filter((c) => c.req.target === 'HTTP@127.0.0.1').every((c) => !c.req.mutual));
    }
  });

  it('a bad value is a ConfigError', () => {
    assert.throws(
      () => createNegotiator({ proxyMutualAuthentication: 'yes' as unknown as typeof REQUIRED }),
      (e: unknown) => e instanceof ConfigError && e.code === 'BAD_OPTION',
    );
  });
});
