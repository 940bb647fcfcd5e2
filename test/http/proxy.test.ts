// Negotiate through a forward proxy, against a node:http proxy double that demands Negotiate
// (407 Proxy-Authenticate) for the fake context: plain HTTP forwarded in absolute form, CONNECT
// answered with 407, refused or cut; proxy and origin tokens kept apart; the proxy option and
// curl's environment variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, either case).
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import ky from 'ky';
import { curlCommand } from '../../src/cli/curl.js';
import { ConfigError, SpnegoError } from '../../src/errors.js';
import { createNegotiator } from '../../src/http/fetch.js';
import { negotiateWith } from '../../src/http/ky.js';
import { type NegotiateOptions, REQUIRED } from '../../src/http/options.js';
import { proxyFor } from '../../src/http/proxy.js';
import { acceptor, b64, fakeFactory, readAuthorization, serverPool } from './helpers.js';

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

type ConnectMode = 'ok' | 'refuse' | 'cut';

/**
 * A proxy double listening on 127.0.0.1 (so its SPN is HTTP@127.0.0.1): every request and CONNECT
 * needs `Proxy-Authorization: Negotiate <init token for HTTP@127.0.0.1>`, else 407. `challenge`
 * is the Proxy-Authenticate it sends.
 */
async function startProxy(
  opts: { challenge?: string; connect?: ConnectMode; finalToken?: boolean } = {},
): Promise<ProxyDouble> {
  const seen: ProxySeen[] = [];
  const challenge = opts.challenge ?? 'Negotiate';
  const sockets = new Set<Socket>();
  const authorized = (req: IncomingMessage): boolean => {
    const t = readAuthorization(req.headers['proxy-authorization']);
    return t?.kind === 'init' && t.target === 'HTTP@127.0.0.1';
  };
  const server = createServer((req, res) => {
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
      if (opts.finalToken) {
        const t = readAuthorization(req.headers['proxy-authorization']);
        h['proxy-authenticate'] = `Negotiate ${b64(`final|${t?.id}`)}`;
      }
      res.writeHead(upRes.statusCode ?? 502, h);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
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
    if (!authorized(req)) {
      socket.end(
        `HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: ${challenge}\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const double: ProxyDouble = {
    url: `http://127.0.0.1:${port}`,
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

const ENV = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'];
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

  it('a bad proxy option is a ConfigError at creation; an https:// proxy is refused', () => {
    for (const bad of ['http://[bad', 'https://proxy.example.com', 42 as unknown as string]) {
      assert.throws(
        () => createNegotiator({ proxy: bad }),
        (e: unknown) => e instanceof ConfigError && e.code === 'BAD_OPTION',
      );
    }
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
});
