// `spnego/ws`: a `ws` WebSocket whose upgrade is authenticated with Negotiate. The server side is
// spnego/server's acceptor (the core of negotiateMiddleware) checking the upgrade request and
// putting its mutual-authentication token on the 101; the client's socket is handed over only
// once that 101 has been verified (mutual REQUIRED).
//   npm run build && node --import tsx examples/ws.ts
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { REQUIRED } from 'spnego';
import { Credentials } from 'spnego/krb5';
import { checkAuthorization, createAcceptor } from 'spnego/server';
import { MiniKdc } from 'spnego/testing';
import { negotiateWebSocket } from 'spnego/ws';
import { WebSocket, WebSocketServer } from 'ws';

const kdc = await MiniKdc.start({ principals: [{ name: 'alice', password: 'alice pw' }, 'HTTP/localhost'] });
// In production: createAcceptor({ keytab: '/etc/http.keytab' }).
const acceptor = createAcceptor({ keytab: kdc.keytabFor('HTTP/localhost') });

const wss = new WebSocketServer({ noServer: true });
const authenticated = new WeakMap<IncomingMessage, { user: string; wwwAuthenticate?: string }>();
// The server's AP-REP rides on the 101 (mutual authentication).
wss.on('headers', (headers, req) => {
  const a = authenticated.get(req);
  if (a?.wwwAuthenticate) headers.push(`WWW-Authenticate: ${a.wwwAuthenticate}`);
});
const server = createServer((_req, res) => res.writeHead(426).end());
server.on('upgrade', async (req: IncomingMessage, socket: Socket, head: Buffer) => {
  const check = await checkAuthorization(acceptor, req.headers.authorization);
  if (!check.ok) {
    socket.end(`HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: ${check.wwwAuthenticate}\r\nContent-Length: 0\r\n\r\n`);
    return;
  }
  const user = check.result.user;
  authenticated.set(req, { user, wwwAuthenticate: check.wwwAuthenticate });
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('message', (m) => ws.send(`hello ${user}, you said ${String(m)}`));
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `ws://localhost:${(server.address() as AddressInfo).port}/chat`;

const credentials = await Credentials.fromPassword('alice', 'alice pw', { config: kdc.clientConfig() });
const socket = await negotiateWebSocket(WebSocket, url, { credentials, mutualAuthentication: REQUIRED });
const reply = new Promise<string>((resolve) => socket.once('message', (m) => resolve(String(m))));
socket.send('ping');
console.log('ws:', await reply);

socket.close();
wss.close();
server.closeAllConnections();
server.close();
await kdc.stop();
console.log('ok');
