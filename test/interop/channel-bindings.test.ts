// TLS channel bindings checked by MIT (1.20, through Debian's python3-gssapi), both ways:
// - our client (spnego/undici, bindings on by default) → a python `ssl` HTTPS server whose MIT
//   acceptor is given the tls-server-end-point bindings of its own certificate: accepted, and MIT
//   reports GSS_C_CHANNEL_BOUND_FLAG; an acceptor expecting another certificate's bindings
//   refuses the same client; with channelBindings: false MIT accepts an unbound token (not bound);
// - the same for spnego/axios and spnego/got (their https legs on connections of our own; the
//   python server speaks HTTP/1.0, so the bound token goes on a second connection, whose
//   certificate is checked against the one it is bound to);
// - a python-gssapi client binding its token to the certificate it saw → our negotiateMiddleware
//   with channelBindings: 'required' (channelBound reported); the same client without bindings
//   is refused.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import axios from 'axios';
import got from 'got';
import { request } from 'undici';
import { negotiateAxios } from '../../src/adapters/axios.js';
import { negotiateGot } from '../../src/adapters/got.js';
import { NegotiateDispatcher } from '../../src/adapters/undici.js';
import { loadConfig } from '../../src/krb5/config-load.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { negotiateMiddleware, type RequestLike } from '../../src/server/index.js';
import { DEBIAN_PYTHON, skipUnlessPythonGssapi } from './helpers/gss-peer.js';
import { type MitRealm, run, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PEER = join(HERE, 'helpers', 'tls-cb-peer.py');
const VECTORS = join(HERE, '..', 'vectors');
const CA = join(VECTORS, 'kkdcp', 'ca.pem');
const CERT = join(VECTORS, 'kkdcp', 'server.pem');
const KEY = join(VECTORS, 'kkdcp', 'server-key.pem');
const OTHER = join(VECTORS, 'tls-bindings', 'other.pem');

describe('channel bindings verified by MIT (python3 ssl + python3-gssapi)', {
  skip: skipUnlessMit() || skipUnlessPythonGssapi(),
}, () => {
  let realm: MitRealm;
  let creds: Credentials;
  let keytab: string;
  const children: ChildProcess[] = [];
  const dispatchers: NegotiateDispatcher[] = [];
  let ours: Server | undefined;

  /** The python HTTPS server; its acceptor binds to BINDCERT. Resolves with its URL. */
  const pythonServer = (bindCert: string): Promise<string> => {
    const child = spawn(DEBIAN_PYTHON, [PEER, 'server', CERT, KEY, bindCert], {
      env: { ...process.env, ...realm.env, KRB5_KTNAME: `FILE:${keytab}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    writeFileSync(join(realm.dir, `tls-cb-peer-${child.pid}.pid`), `${child.pid}\n`);
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    return new Promise((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', (l) =>
        resolve(`https://localhost:${(JSON.parse(l) as { port: number }).port}/`),
      );
      child.once('exit', () => reject(new Error(`tls-cb-peer.py server exited: ${stderr}`)));
    });
  };

  const ourClient = async (url: string, channelBindings?: boolean) => {
    const d = new NegotiateDispatcher({
      tls: { ca: readFileSync(CA, 'utf8') },
      credentials: creds,
      ...(channelBindings === undefined ? {} : { channelBindings }),
    });
    dispatchers.push(d);
    const r = await request(url, { dispatcher: d });
    const body = await r.body.text();
    return {
      status: r.statusCode,
      body: JSON.parse(body) as { user?: string; channel_bound?: boolean; error?: string },
    };
  };

  before(async () => {
    realm = await startMitRealm({
      realm: 'CBT.TEST',
      enctypes: ['aes256-cts-hmac-sha1-96:normal'],
      principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'HTTP/localhost' }],
    });
    keytab = await realm.keytab('HTTP/localhost');
    await realm.kinit('alice', 'alice-pw', realm.ccache);
    creds = await Credentials.fromCcache(realm.ccache, {
      config: await loadConfig({ files: [realm.krb5ConfPath] }),
    });
  });
  after(async () => {
    for (const d of dispatchers) await d.destroy();
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    ours?.closeAllConnections();
    ours?.close();
    await realm?.stop();
  });

  it('our client → MIT acceptor with the bindings of its own certificate: accepted, channel-bound', async () => {
    const url = await pythonServer(CERT);
    const r = await ourClient(url);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.user, 'alice@CBT.TEST');
    assert.equal(r.body.channel_bound, true);
    // Turned off: MIT accepts an unbound token (as it does), and says it is not bound.
    const off = await ourClient(url, false);
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body.channel_bound, false);
  });

  it('our client → MIT acceptor expecting another certificate: refused', async () => {
    const url = await pythonServer(OTHER);
    const r = await ourClient(url);
    assert.equal(r.status, 401);
    assert.match(r.body.error ?? '', /not established|channel binding|bindings/i);
  });

  /** GET with spnego/axios or spnego/got (default transport: bound over https); status and JSON body. */
  const adapterClient = async (kind: 'axios' | 'got', url: string) => {
    const o = { credentials: creds, tls: { ca: readFileSync(CA, 'utf8') } };
    if (kind === 'axios') {
      const api = negotiateAxios(axios.create({ responseType: 'text', validateStatus: () => true }), o);
      const r = await api.get<string>(url);
      return {
        status: r.status,
        body: JSON.parse(r.data) as { user?: string; channel_bound?: boolean; error?: string },
      };
    }
    const r = await got.extend(negotiateGot(o), { retry: { limit: 0 }, throwHttpErrors: false }).get(url);
    return {
      status: r.statusCode,
      body: JSON.parse(r.body) as { user?: string; channel_bound?: boolean; error?: string },
    };
  };

  for (const kind of ['axios', 'got'] as const) {
    it(`spnego/${kind} → MIT acceptor: bound to the certificate it saw (accepted, channel-bound); another certificate's acceptor refuses`, async () => {
      const r = await adapterClient(kind, await pythonServer(CERT));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.user, 'alice@CBT.TEST');
      assert.equal(r.body.channel_bound, true);
      const refused = await adapterClient(kind, await pythonServer(OTHER));
      assert.equal(refused.status, 401);
      assert.match(refused.body.error ?? '', /not established|channel binding|bindings/i);
    });
  }

  it("python-gssapi client → our channelBindings: 'required' server: bound accepted, unbound refused", async () => {
    const mw = negotiateMiddleware({
      keytab,
      channelBindings: 'required',
      config: await loadConfig({ files: [realm.krb5ConfPath] }),
    });
    ours = createServer({ cert: readFileSync(CERT), key: readFileSync(KEY) }, (req, res) =>
      mw(req as unknown as RequestLike, res, () => {
        const n = (req as unknown as RequestLike).negotiate;
        res.end(JSON.stringify({ user: n?.user, channelBound: n?.channelBound }));
      }),
    );
    await new Promise<void>((r) => ours!.listen(0, '127.0.0.1', r));
    const url = `https://localhost:${(ours.address() as AddressInfo).port}/`;
    const client = async (mode: 'bind' | 'nobind') => {
      const r = await run(DEBIAN_PYTHON, [PEER, 'client', url, CA, mode], { env: realm.env });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as { status: number; body: string };
    };
    const bound = await client('bind');
    assert.equal(bound.status, 200, bound.body);
    assert.deepEqual(JSON.parse(bound.body), { user: 'alice@CBT.TEST', channelBound: true });
    const unbound = await client('nobind');
    assert.equal(unbound.status, 401);
  });
});
