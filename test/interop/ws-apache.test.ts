// spnego/ws against a real server: Apache mod_auth_gssapi protects a WebSocket endpoint that
// mod_proxy_http tunnels (`ProxyPass … upgrade=websocket`, i.e. mod_proxy_wstunnel's job in
// Apache ≥ 2.4.47) to a `ws` echo server this suite starts on loopback. Over ws:// and wss://
// (a test CA): the upgrade's 401 is answered, Apache's access log names alice with the 101, the
// echo server sees the user Apache authenticated (forwarded as a request header), and messages
// echo. A service principal Apache has no key for, and a user the location does not admit, are
// refused with their status and no socket.
//
// Mutual authentication cannot be had from Apache here: mod_proxy answers the upgrade with the
// backend's own 101 head, without the WWW-Authenticate (mod_auth_gssapi's AP-REP) or any `Header
// always` header; so does mod_proxy_wstunnel's own tunnel (ProxyWebsocketFallbackToProxyHttp
// Off). With mutualAuthentication REQUIRED the socket is therefore refused (MUTUAL_AUTH_MISSING),
// as it must be: nothing proved the server's identity. OPTIONAL accepts the 101 without a token,
// as requests-gssapi accepts a 2xx without one; over wss the server is still the one TLS vouched for.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { negotiateWebSocket } from '../../src/adapters/ws.js';
import { KerberosError, MutualAuthenticationError } from '../../src/errors.js';
import { negotiateFailure, OPTIONAL, REQUIRED } from '../../src/index.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { type Apache, skipUnlessApache, startApache } from './helpers/apache.js';
import { type MitRealm, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';
import { makeTestCa, type TestCa } from './helpers/tls.js';

const REALM = 'WS.TEST';
const skip = skipUnlessMit() || skipUnlessApache();
const MODULES_DIR = '/usr/lib/apache2/modules';

/** The backend: greets with the user Apache forwarded, then echoes every message. */
async function startEchoServer(): Promise<{
  port: number;
  upgrades: string[];
  open(): number;
  close(): Promise<void>;
}> {
  const upgrades: string[] = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws, req: IncomingMessage) => {
    const user = String(req.headers['x-remote-user'] ?? '');
    upgrades.push(user);
    ws.send(`hello ${user}`);
    ws.on('message', (m) => ws.send(`echo ${String(m)}`));
  });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  return {
    port: (wss.address() as AddressInfo).port,
    upgrades,
    open: () => wss.clients.size,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

/** The next message, or the close/error that came instead. */
const nextMessage = (ws: WebSocket): Promise<string> =>
  new Promise((resolve, reject) => {
    ws.once('message', (m) => resolve(String(m)));
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`closed (${code}) before a message`)));
  });

const closed = (ws: WebSocket): Promise<void> =>
  new Promise((r) => {
    if (ws.readyState === WebSocket.CLOSED) r();
    else {
      ws.once('close', () => r());
      ws.close();
    }
  });

describe('spnego/ws → Apache mod_auth_gssapi + mod_proxy_wstunnel → a ws echo server', { skip }, () => {
  let realm: MitRealm;
  let ca: TestCa;
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  const apaches: Record<'ws' | 'wss', Apache> = {} as Record<'ws' | 'wss', Apache>;
  let alice: Credentials;
  let bob: Credentials;

  const accessLog = (a: Apache): string[] => {
    try {
      return readFileSync(join(a.dir, 'access.log'), 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  /** Apache writes the access log line when the tunnel closes: wait for it. */
  const logged = async (a: Apache, pred: (line: string) => boolean): Promise<string[]> => {
    for (let i = 0; i < 150; i++) {
      const lines = accessLog(a).filter(pred);
      if (lines.length > 0) return lines;
      await new Promise((r) => setTimeout(r, 20));
    }
    return [];
  };
  const wsUrl = (scheme: 'ws' | 'wss', path: string): string =>
    `${apaches[scheme].url.replace(/^http/, 'ws')}${path}`;
  const wsOptions = (scheme: 'ws' | 'wss') =>
    scheme === 'wss' ? { ws: { ca: readFileSync(ca.caFile, 'utf8') } } : {};

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal'],
      principals: [
        { name: 'alice', password: 'alice-pw' },
        { name: 'bob', password: 'bob-pw' },
        { name: 'HTTP/localhost' },
        // A service the KDC knows but Apache holds no key for.
        { name: 'HTTP/elsewhere' },
      ],
    });
    const keytab = await realm.keytab('HTTP/localhost');
    ca = await makeTestCa(realm.dir);
    echo = await startEchoServer();
    const backend = `http://127.0.0.1:${echo.port}`;
    for (const scheme of ['ws', 'wss'] as const) {
      apaches[scheme] = await startApache({
        realm,
        keytab,
        ...(scheme === 'wss' ? { tls: { certFile: ca.certFile, keyFile: ca.keyFile } } : {}),
        locations: [
          { path: '/live/', directives: [`RequestHeader set X-Remote-User "expr=%{REMOTE_USER}"`] },
          {
            path: '/alice-only/',
            require: `user alice@${REALM}`,
            directives: [`RequestHeader set X-Remote-User "expr=%{REMOTE_USER}"`],
          },
          {
            path: '/bound/',
            directives: ['GssapiConnectionBound On', `RequestHeader set X-Remote-User "expr=%{REMOTE_USER}"`],
          },
        ],
        directives: [
          `LoadModule proxy_module ${MODULES_DIR}/mod_proxy.so`,
          `LoadModule proxy_http_module ${MODULES_DIR}/mod_proxy_http.so`,
          `LoadModule proxy_wstunnel_module ${MODULES_DIR}/mod_proxy_wstunnel.so`,
          `ProxyPass "/live/" "${backend}/live/" upgrade=websocket`,
          `ProxyPass "/alice-only/" "${backend}/alice-only/" upgrade=websocket`,
          `ProxyPass "/bound/" "${backend}/bound/" upgrade=websocket`,
          'CustomLog "access.log" "%>s %u %r"',
        ],
      });
    }
    const config = await loadConfig({ files: [realm.krb5ConfPath] });
    await realm.kinit('alice', 'alice-pw');
    alice = await Credentials.fromCcache(realm.ccache, { config });
    bob = await Credentials.fromPassword(`bob@${REALM}`, 'bob-pw', { config });
  });
  after(async () => {
    for (const a of Object.values(apaches)) await a?.stop();
    await echo?.close();
    await realm?.stop();
  });

  for (const scheme of ['ws', 'wss'] as const) {
    it(`${scheme}://: the upgrade's 401 answered, alice authenticated by Apache, messages echo`, async () => {
      const apache = apaches[scheme];
      const seen = echo.upgrades.length;
      const ws = await negotiateWebSocket(WebSocket, wsUrl(scheme, '/live/chat'), {
        credentials: alice,
        mutualAuthentication: OPTIONAL,
        ...wsOptions(scheme),
      });
      try {
        assert.equal(await nextMessage(ws), `hello alice@${REALM}`);
        ws.send('over the tunnel');
        assert.equal(await nextMessage(ws), 'echo over the tunnel');
      } finally {
        await closed(ws);
      }
      assert.deepEqual(echo.upgrades.slice(seen), [`alice@${REALM}`]);
      // The first upgrade was challenged (no token), the second authenticated alice and switched.
      assert.ok(
        (await logged(apache, (l) => l.startsWith(`101 alice@${REALM} GET /live/chat`))).length === 1,
        accessLog(apache).join('\n'),
      );
      assert.ok(
        accessLog(apache).some((l) => l.startsWith('401 - GET /live/chat')),
        accessLog(apache).join('\n'),
      );
    });
  }

  it("REQUIRED: Apache's 101 carries no AP-REP, so the socket is refused (MUTUAL_AUTH_MISSING) and closed", async () => {
    const backendBefore = echo.upgrades.length;
    await assert.rejects(
      negotiateWebSocket(WebSocket, wsUrl('wss', '/live/required'), {
        credentials: alice,
        mutualAuthentication: REQUIRED,
        ...wsOptions('wss'),
      }),
      (e: unknown) => e instanceof MutualAuthenticationError && e.code === 'MUTUAL_AUTH_MISSING',
    );
    // Apache did authenticate alice and tunnel the upgrade; we closed what it opened.
    assert.deepEqual(echo.upgrades.slice(backendBefore), [`alice@${REALM}`]);
    assert.equal(
      (await logged(apaches.wss, (l) => l.startsWith(`101 alice@${REALM} GET /live/required`))).length,
      1,
    );
    for (let i = 0; i < 100 && echo.open() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(echo.open(), 0, 'the refused socket was closed');
  });

  it('opportunistic: one upgrade request carrying the token, no 401 first', async () => {
    const apache = apaches.wss;
    const before401 = accessLog(apache).filter((l) => l.includes('GET /live/once')).length;
    assert.equal(before401, 0);
    const ws = await negotiateWebSocket(WebSocket, wsUrl('wss', '/live/once'), {
      credentials: alice,
      mutualAuthentication: OPTIONAL,
      opportunisticAuth: true,
      ...wsOptions('wss'),
    });
    assert.equal(await nextMessage(ws), `hello alice@${REALM}`);
    await closed(ws);
    await logged(apache, (l) => l.includes('GET /live/once'));
    assert.deepEqual(
      accessLog(apache).filter((l) => l.includes('GET /live/once')),
      [`101 alice@${REALM} GET /live/once HTTP/1.1`],
    );
  });

  it('GssapiConnectionBound On: the tokened upgrade authenticates the connection it arrives on', async () => {
    // Each handshake attempt of `ws` is a connection of its own (the 401 on one, the token on the
    // next) and the tunnel carries no further HTTP request, so a connection-bound location
    // behaves as any other: one token, one 101, one socket.
    const ws = await negotiateWebSocket(WebSocket, wsUrl('wss', '/bound/x'), {
      credentials: alice,
      mutualAuthentication: OPTIONAL,
      ...wsOptions('wss'),
    });
    assert.equal(await nextMessage(ws), `hello alice@${REALM}`);
    await closed(ws);
    assert.equal(
      (await logged(apaches.wss, (l) => l.startsWith(`101 alice@${REALM} GET /bound/x`))).length,
      1,
    );
  });

  for (const scheme of ['ws', 'wss'] as const) {
    it(`${scheme}://: a service principal Apache has no key for is refused with its status, no socket`, async () => {
      const apache = apaches[scheme];
      const seen = echo.upgrades.length;
      await assert.rejects(
        negotiateWebSocket(WebSocket, wsUrl(scheme, '/live/wrong-spn'), {
          credentials: alice,
          mutualAuthentication: OPTIONAL,
          targetName: `HTTP/elsewhere@${REALM}`,
          ...wsOptions(scheme),
        }),
        (e: unknown) => {
          const { status, response } = e as { status?: number; response?: Response };
          assert.equal(status, 401, String(e));
          // Apache answered our token with a KRB-ERROR; the flow says which.
          const why = response && negotiateFailure(response);
          assert.ok(why instanceof KerberosError, String(why));
          assert.equal(why.errorName, 'KRB_AP_ERR_NOT_US');
          return true;
        },
      );
      assert.equal(echo.upgrades.length, seen, 'nothing reached the backend');
      await logged(apache, (l) => l.includes('GET /live/wrong-spn'));
      assert.ok(
        accessLog(apache)
          .filter((l) => l.includes('GET /live/wrong-spn'))
          .every((l) => l.startsWith('401 ')),
        accessLog(apache).join('\n'),
      );
      // mod_auth_gssapi says why: it cannot decrypt a ticket for a principal it has no key for.
      assert.match(apache.errorLog(), /gss_accept_sec_context\(\) failed/);
    });
  }

  it('a user the location does not admit (bob at a `Require user alice` location) is refused with its status', async () => {
    const apache = apaches.wss;
    const seen = echo.upgrades.length;
    await assert.rejects(
      negotiateWebSocket(WebSocket, wsUrl('wss', '/alice-only/room'), {
        credentials: bob,
        mutualAuthentication: OPTIONAL,
        ...wsOptions('wss'),
      }),
      (e: unknown) => {
        assert.equal((e as { status?: number }).status, 401, String(e));
        return true;
      },
    );
    assert.equal(echo.upgrades.length, seen, 'nothing reached the backend');
    // Apache authenticated bob, then authorization refused him.
    assert.ok(
      (await logged(apache, (l) => l.startsWith(`401 bob@${REALM} GET /alice-only/room`))).length > 0,
      accessLog(apache).join('\n'),
    );
    const ws = await negotiateWebSocket(WebSocket, wsUrl('wss', '/alice-only/room'), {
      credentials: alice,
      mutualAuthentication: OPTIONAL,
      ...wsOptions('wss'),
    });
    assert.equal(await nextMessage(ws), `hello alice@${REALM}`);
    await closed(ws);
  });
});
