// The KDC over HTTPS (MS-KKDCP): `kdc = https://host[:port]/path` as MIT reads it, the
// KDC-PROXY-MESSAGE exchange, http_anchors, the proxy's own failures as typed errors, and mixed
// lists tried in order. The proxy here is a small node:https double in front of MiniKdc; the
// real kdcproxy under Apache is in test/interop/kdc-proxy.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeKdcProxyMessage, encodeKdcProxyMessage } from '../../src/asn1/index.js';
import { KdcProxyError, KdcUnreachableError } from '../../src/errors.js';
import { parseConfig } from '../../src/krb5/config.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { kdcProxyUrl, locateKdcs } from '../../src/krb5/locate.js';
import { frameTcp, kdcProxyReply, kdcProxyRequest } from '../../src/krb5/transport.js';
import { MiniKdc } from '../../src/testing/index.js';

const REALM = 'PROXY.TEST';
const pki = (name: string) => new URL(`../vectors/kkdcp/${name}`, import.meta.url);
const CA = pki('ca.pem').pathname;
const OTHER_CA = pki('other-ca.pem').pathname;

type Handler = (body: Uint8Array, req: IncomingMessage, res: ServerResponse) => void;

let kdc: MiniKdc;
const servers: Server[] = [];
const seen: { contentType: string | undefined; targetDomain: string | undefined; framed: boolean }[] = [];

async function proxy(handler: Handler): Promise<number> {
  const server = createServer(
    { cert: readFileSync(pki('server.pem')), key: readFileSync(pki('server-key.pem')) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => handler(new Uint8Array(Buffer.concat(chunks)), req, res));
    },
  );
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** A faithful KDC proxy: unwraps, asks MiniKdc, wraps the answer. */
const faithful: Handler = (body, req, res) => {
  const msg = decodeKdcProxyMessage(body);
  const len = new DataView(msg.kerbMessage.buffer, msg.kerbMessage.byteOffset).getUint32(0);
  seen.push({
    contentType: req.headers['content-type'],
    targetDomain: msg.targetDomain,
    framed: len === msg.kerbMessage.length - 4,
  });
  const reply = kdc.handleRequest(msg.kerbMessage.subarray(4));
  res.writeHead(200, { 'Content-Type': 'application/kerberos' });
  res.end(encodeKdcProxyMessage({ kerbMessage: frameTcp(reply) }));
};

function config(kdcLines: string[], anchors: string[] = [`FILE:${CA}`]) {
  return parseConfig(`[libdefaults]
  default_realm = ${REALM}
  dns_lookup_kdc = false
  kdc_timeout = 2
  request_timeout = 8
[realms]
  ${REALM} = {
${kdcLines.map((l) => `    kdc = ${l}`).join('\n')}
${anchors.map((a) => `    http_anchors = ${a}`).join('\n')}
  }
[domain_realm]
  localhost = ${REALM}
`);
}

before(async () => {
  kdc = await MiniKdc.start({
    realm: REALM,
    principals: [{ name: 'alice', password: 'pw' }, 'HTTP/localhost'],
  });
});
after(async () => {
  for (const s of servers) s.close();
  await kdc.stop();
});

describe('kdc = https://… in krb5.conf (MIT parse_uri_if_https)', () => {
  it('is a KDC proxy: host[:port] up to the first /, port 443 by default, the rest the path', async () => {
    const c = config([
      'https://proxy.example.com/KdcProxy',
      'https://[::1]:8443/a/b',
      'https://p.example.com',
      'kdc1.example.com',
    ]);
    const kdcs = await locateKdcs(REALM, c);
    assert.deepEqual(
      kdcs.map((k) => [k.transport, k.host, k.port, k.path]),
      [
        ['https', 'proxy.example.com', 443, 'KdcProxy'],
        ['https', '::1', 8443, 'a/b'],
        ['https', 'p.example.com', 443, ''],
        ['any', 'kdc1.example.com', 88, undefined],
      ],
    );
    assert.equal(kdcProxyUrl(kdcs[1]!), 'https://[::1]:8443/a/b');
    assert.deepEqual(c.realms.get(REALM)?.httpAnchors, [`FILE:${CA}`]);
    await assert.rejects(locateKdcs(REALM, config(['https://:99999/x'])), { code: 'CONFIG_VALUE' });
  });
});

describe('the KDC-PROXY-MESSAGE exchange', () => {
  it('AS and TGS through the proxy: framed kerb-message, target-domain, application/kerberos', async () => {
    const port = await proxy(faithful);
    const before = seen.length;
    const creds = await Credentials.fromPassword(`alice@${REALM}`, 'pw', {
      config: config([`https://localhost:${port}/KdcProxy`]),
    });
    const st = await creds.getServiceTicket('HTTP/localhost');
    assert.equal(st.server.name.nameString.join('/'), 'HTTP/localhost');
    const mine = seen.slice(before);
    assert.ok(mine.length >= 3, 'AS-REQ (twice: pre-authentication) and TGS-REQ went through the proxy');
    for (const s of mine) {
      assert.equal(s.contentType, 'application/kerberos');
      assert.equal(s.targetDomain, REALM);
      assert.ok(s.framed);
    }
  });

  it('kdcProxyRequest/kdcProxyReply round-trip one message', () => {
    const req = decodeKdcProxyMessage(kdcProxyRequest(REALM, Uint8Array.of(1, 2, 3)));
    assert.deepEqual([...req.kerbMessage], [0, 0, 0, 3, 1, 2, 3]);
    const body = encodeKdcProxyMessage({ kerbMessage: frameTcp(Uint8Array.of(9)) });
    assert.deepEqual([...kdcProxyReply('u', { status: 200, contentType: undefined, body })], [9]);
  });
});

describe("a proxy's own failures are typed, bounded errors", () => {
  const login = (lines: string[], anchors?: string[]) =>
    Credentials.fromPassword(`alice@${REALM}`, 'pw', { config: config(lines, anchors) });
  const proxyError = (code: string, text?: RegExp) => (e: unknown) =>
    e instanceof KdcProxyError &&
    e instanceof KdcUnreachableError &&
    e.code === code &&
    typeof e.hint === 'string' &&
    (text === undefined || text.test(e.message));

  it('an HTML page (a login portal, a wrong path) is KDC_PROXY_BAD_REPLY', async () => {
    const port = await proxy((_b, _q, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html><body>Sign in</body></html>');
    });
    await assert.rejects(
      login([`https://localhost:${port}/KdcProxy`]),
      proxyError('KDC_PROXY_BAD_REPLY', /not a KDC-PROXY-MESSAGE/),
    );
  });

  it('HTTP 500 is KDC_PROXY_HTTP_STATUS', async () => {
    const port = await proxy((_b, _q, res) => {
      res.writeHead(500);
      res.end('oops');
    });
    await assert.rejects(
      login([`https://localhost:${port}/KdcProxy`]),
      proxyError('KDC_PROXY_HTTP_STATUS', /HTTP 500/),
    );
  });

  it('a truncated kerb-message (length prefix larger than what came) is KDC_PROXY_BAD_REPLY', async () => {
    const port = await proxy((body, _q, res) => {
      const reply = frameTcp(kdc.handleRequest(decodeKdcProxyMessage(body).kerbMessage.subarray(4)));
      res.writeHead(200);
      res.end(encodeKdcProxyMessage({ kerbMessage: reply.subarray(0, reply.length - 10) }));
    });
    await assert.rejects(
      login([`https://localhost:${port}/KdcProxy`]),
      proxyError('KDC_PROXY_BAD_REPLY', /announcing/),
    );
  });

  it('an oversized reply is refused while it streams, not buffered', async () => {
    let sent = 0;
    const port = await proxy((_b, _q, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const pump = () => {
        while (sent < 64 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (sent < 64 * 1024 * 1024 && !res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => undefined);
      pump();
    });
    await assert.rejects(
      login([`https://localhost:${port}/KdcProxy`]),
      proxyError('KDC_PROXY_BAD_REPLY', /limit/),
    );
    assert.ok(sent < 16 * 1024 * 1024, `stopped early (${sent} bytes written)`);
  });

  it('a certificate from another CA is KDC_PROXY_TLS, as is the system store for a private CA', async () => {
    const port = await proxy(faithful);
    await assert.rejects(
      login([`https://localhost:${port}/KdcProxy`], [`FILE:${OTHER_CA}`]),
      proxyError('KDC_PROXY_TLS', /not trusted/),
    );
    await assert.rejects(login([`https://localhost:${port}/KdcProxy`], []), proxyError('KDC_PROXY_TLS'));
    await assert.rejects(
      login([`https://localhost:${port}/KdcProxy`], ['FILE:/nonexistent/ca.pem']),
      proxyError('KDC_PROXY_TLS', /http_anchors/),
    );
  });

  it('http_anchors as DIR: and ENV: are read as MIT reads them', async () => {
    const port = await proxy(faithful);
    const dir = new URL('../vectors/kkdcp/', import.meta.url).pathname;
    await login([`https://localhost:${port}/KdcProxy`], [`DIR:${dir}`]);
    process.env.SPNEGO_TEST_KKDCP_CA = CA;
    await login([`https://localhost:${port}/KdcProxy`], ['ENV:SPNEGO_TEST_KKDCP_CA']);
  });
});

describe('mixed lists fail over in order', () => {
  it('a dead proxy first, then a host:port KDC: the KDC answers', async () => {
    const dead = await proxy((_b, _q, res) => {
      res.writeHead(503);
      res.end();
    });
    const creds = await Credentials.fromPassword(`alice@${REALM}`, 'pw', {
      config: config([`https://localhost:${dead}/KdcProxy`, kdc.address]),
    });
    assert.equal(creds.principal.realm, REALM);
  });

  it('a dead host:port KDC first, then the proxy: the proxy answers; all failing names each', async () => {
    const port = await proxy(faithful);
    const before = seen.length;
    await Credentials.fromPassword(`alice@${REALM}`, 'pw', {
      config: config(['127.0.0.1:1', `https://localhost:${port}/KdcProxy`]),
    });
    assert.ok(seen.length > before);
    const bad = await proxy((_b, _q, res) => {
      res.writeHead(502);
      res.end();
    });
    await assert.rejects(
      Credentials.fromPassword(`alice@${REALM}`, 'pw', {
        config: config(['127.0.0.1:1', `https://localhost:${bad}/KdcProxy`]),
      }),
      (e: unknown) =>
        e instanceof KdcUnreachableError &&
        !(e instanceof KdcProxyError) &&
        /127\.0\.0\.1:1/.test(e.message) &&
        /HTTP 502/.test(e.message),
    );
  });
});
