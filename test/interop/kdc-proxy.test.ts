// The KDC over HTTPS (MS-KKDCP) for real: python3-kdcproxy served by Apache mod_wsgi over TLS
// (a test CA) in front of an MIT KDC that the clients' krb5.conf does not name. MIT kinit and kvno
// (with krb5-k5tls) are the reference; then ours through the same proxy: spnego kinit,
// Credentials.fromPassword, fromKeytab, getServiceTicket, and spnego curl (negotiateFetch)
// against Apache mod_auth_gssapi with mutual authentication required. A client trusting
// another CA gets KDC_PROXY_TLS.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kinitCommand } from '../../src/cli/kinit.js';
import { KdcProxyError } from '../../src/errors.js';
import { parseConfig } from '../../src/krb5/config.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { type Apache, skipUnlessApache, startApache } from './helpers/apache.js';
import { type MitRealm, run, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';
import { makeTestCa, type TestCa } from './helpers/tls.js';

const REALM = 'KKDCP.TEST';
const PASSWORD = 'proxy-password-1';
const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const EDGE_RUN = join(import.meta.dirname, 'helpers', 'edge-run.ts');
const PEER_FILES = {
  'libapache2-mod-wsgi-py3': '/usr/lib/apache2/modules/mod_wsgi.so',
  'python3-kdcproxy': '/usr/lib/python3/dist-packages/kdcproxy/__init__.py',
  'krb5-k5tls': '/usr/lib/x86_64-linux-gnu/krb5/plugins/tls/k5tls.so',
};

function skipUnlessKdcProxy(): string | false {
  const missing = Object.entries(PEER_FILES)
    .filter(([, f]) => !existsSync(f))
    .map(([p]) => p);
  if (missing.length === 0 || process.env['CI'] === 'true') return false;
  const message = `missing ${missing.join(', ')}: sudo apt-get install -y ${missing.join(' ')}`;
  process.stderr.write(`\nSKIPPED interop: ${message}\n`);
  return message;
}

const skip = skipUnlessMit() || skipUnlessApache() || skipUnlessKdcProxy();

describe('MS-KKDCP through python3-kdcproxy under Apache mod_wsgi (TLS)', { skip }, () => {
  let realm: MitRealm;
  let apache: Apache;
  let ca: TestCa;
  let otherCa: TestCa;
  let confPath: string;
  let proxyUrl: string;
  let robotKeytab: string;
  const clientConf = (anchor: string) => `[libdefaults]
  default_realm = ${REALM}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  default_tkt_enctypes = aes256-cts-hmac-sha1-96
  default_tgs_enctypes = aes256-cts-hmac-sha1-96
  permitted_enctypes = aes256-cts-hmac-sha1-96
[realms]
  ${REALM} = {
    kdc = ${proxyUrl}
    http_anchors = FILE:${anchor}
  }
[domain_realm]
  localhost = ${REALM}
`;
  const env = (ccache: string) => ({ KRB5_CONFIG: confPath, KRB5CCNAME: ccache });
  /** POSTs the proxy has answered with 200 so far (its access log is written after each response). */
  const proxied = async (): Promise<number> => {
    await new Promise((r) => setTimeout(r, 100));
    const log = existsSync(join(apache.dir, 'access.log'))
      ? readFileSync(join(apache.dir, 'access.log'), 'utf8')
      : '';
    return log.split('\n').filter((l) => l.startsWith('POST /KdcProxy') && l.endsWith(' 200')).length;
  };

  /** Status of each request for /private/ in Apache's access log so far. */
  const pageRequests = (): string[] =>
    (existsSync(join(apache.dir, 'access.log')) ? readFileSync(join(apache.dir, 'access.log'), 'utf8') : '')
      .split('\n')
      .filter((l) => l.startsWith('GET /private/'))
      .map((l) => l.split(' ').pop() ?? '');

  before(async () => {
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal'],
      principals: [{ name: 'user', password: PASSWORD }, { name: 'robot' }, { name: 'HTTP/localhost' }],
    });
    const httpKeytab = await realm.keytab('HTTP/localhost');
    robotKeytab = await realm.keytab('robot');
    ca = await makeTestCa(realm.dir);
    const otherDir = mkdtempSync(join(realm.dir, 'other-ca-'));
    otherCa = await makeTestCa(otherDir);
    // The proxy's own files, readable by Apache's www-data workers.
    const proxyDir = mkdtempSync(join(process.env['SPNEGO_INTEROP_TMP'] || tmpdir(), 'kdcproxy-'));
    chmodSync(proxyDir, 0o755);
    const proxyConf = join(proxyDir, 'kdcproxy.conf');
    writeFileSync(
      proxyConf,
      `[global]\nuse_dns = false\n\n[${REALM}]\nkerberos = kerberos+tcp://127.0.0.1:${realm.kdcPort}\n`,
      { mode: 0o644 },
    );
    const wsgi = join(proxyDir, 'kdcproxy.wsgi');
    writeFileSync(
      wsgi,
      `import os\nos.environ['KDCPROXY_CONFIG'] = ${JSON.stringify(proxyConf)}\nfrom kdcproxy import application\n`,
      { mode: 0o644 },
    );
    apache = await startApache({
      realm,
      keytab: httpKeytab,
      tls: { certFile: ca.certFile, keyFile: ca.keyFile },
      directives: [
        'LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so',
        `WSGIScriptAlias /KdcProxy ${wsgi}`,
        'CustomLog "access.log" "%r %>s"',
      ],
      locations: [{ path: '/KdcProxy', auth: false }],
    });
    proxyUrl = `${apache.url}/KdcProxy`;
    confPath = join(realm.dir, 'krb5-kkdcp.conf');
    writeFileSync(confPath, clientConf(ca.caFile));
  });
  after(async () => {
    await apache?.stop();
    await realm?.stop();
  });

  it('MIT kinit and kvno reach the KDC only through the proxy (reference)', async () => {
    const cc = `FILE:${join(realm.dir, 'mit-kkdcp.cc')}`;
    const k = await run('kinit', ['user'], { env: env(cc), input: `${PASSWORD}\n` });
    assert.equal(k.code, 0, k.stderr);
    const v = await run('kvno', ['HTTP/localhost'], { env: env(cc) });
    assert.equal(v.code, 0, v.stderr);
  });

  it('spnego kinit through the proxy; MIT klist reads the ccache', async () => {
    const cc = `FILE:${join(realm.dir, 'ours-kkdcp.cc')}`;
    let stderr = '';
    const e = env(cc);
    const code = await kinitCommand(['-c', cc, 'user'], {
      stdout: () => undefined,
      stderr: (t) => {
        stderr += t;
      },
      env: (n) => (n in e ? e[n as keyof typeof e] : n.startsWith('KRB5') ? undefined : process.env[n]),
      readPassword: async () => PASSWORD,
    });
    assert.equal(code, 0, stderr);
    const l = await run('klist', ['-c', cc], { env: e });
    assert.match(l.stdout, new RegExp(`krbtgt/${REALM}@${REALM}`));
  });

  it('fromPassword and fromKeytab (AS), then getServiceTicket (TGS), all through the proxy', async () => {
    const config = parseConfig(clientConf(ca.caFile));
    const before = await proxied();
    const pw = await Credentials.fromPassword(`user@${REALM}`, PASSWORD, { config });
    const st = await pw.getServiceTicket('HTTP/localhost');
    assert.equal(st.server.name.nameString.join('/'), 'HTTP/localhost');
    const kt = await Credentials.fromKeytab(`robot@${REALM}`, robotKeytab, { config });
    const st2 = await kt.getServiceTicket('HTTP/localhost');
    assert.equal(st2.client.name.nameString.join('/'), 'robot');
    // The password's AS takes two rounds (the KDC names the salt first), the keytab's one
    // (pre-authenticated on the first request), and a TGS each: five proxied exchanges.
    assert.equal((await proxied()) - before, 5, 'every exchange went through the proxy');
  });

  it('spnego curl (negotiateFetch) with mutual REQUIRED against Apache mod_auth_gssapi, tickets via the proxy', async () => {
    const cc = `FILE:${join(realm.dir, 'curl-kkdcp.cc')}`;
    const e = { ...env(cc), NODE_EXTRA_CA_CERTS: ca.caFile };
    const k = await run(process.execPath, ['--import', 'tsx', MAIN, 'kinit', '-c', cc, 'user'], {
      env: e,
      input: `${PASSWORD}\n`,
    });
    assert.equal(k.code, 0, k.stderr);
    const r = await run(
      process.execPath,
      ['--import', 'tsx', MAIN, 'curl', '-i', '--mutual', 'required', `${apache.url}/private/`],
      { env: e },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /X-Remote-User: user@KKDCP\.TEST/i);
    assert.match(r.stdout, /private/);
  });

  for (const [kind, what] of [
    ['worker', 'a Cloudflare Worker (workerd via miniflare)'],
    ['edge', 'a Vercel Edge Function (edge-runtime)'],
  ] as const) {
    it(`${what}: keytab from a secret, KDC through the proxy, page with mutual REQUIRED, in three round trips`, async () => {
      const posts = await proxied();
      const gets = pageRequests();
      // As a Worker would be configured: no http_anchors (fetch trusts the platform's store), and
      // dns_canonicalize_hostname left at its default (there is no resolver: names as given).
      const conf = clientConf(ca.caFile)
        .replace(/\n\s*http_anchors = .*\n/, '\n')
        .replace(/\n\s*dns_canonicalize_hostname = false\n/, '\n');
      const r = await run(process.execPath, ['--import', 'tsx', EDGE_RUN, kind], {
        env: {
          NODE_EXTRA_CA_CERTS: ca.caFile,
          KRB5_CONF: conf,
          KEYTAB_B64: readFileSync(robotKeytab).toString('base64'),
          PRINCIPAL: `robot@${REALM}`,
          URL: `${apache.url}/private/`,
        },
      });
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as {
        answer: { status?: number; user?: string; body?: string; error?: string; message?: string };
      };
      assert.deepEqual(
        { status: out.answer.status, user: out.answer.user, body: out.answer.body },
        { status: 200, user: `robot@${REALM}`, body: 'private' },
        JSON.stringify(out.answer),
      );
      // AS-REQ (pre-authenticated from the keytab) and TGS-REQ through the proxy, then one GET
      // carrying the token (opportunisticAuth): no PREAUTH_REQUIRED round, no 401 leg.
      assert.equal((await proxied()) - posts, 2, 'KDC-proxy POSTs');
      assert.deepEqual(pageRequests().slice(gets.length), ['200'], 'HTTP requests to the page');
    });
  }

  it('a client trusting another CA gets KDC_PROXY_TLS, as MIT kinit fails too', async () => {
    const config = parseConfig(clientConf(otherCa.caFile));
    await assert.rejects(
      Credentials.fromPassword(`user@${REALM}`, PASSWORD, { config }),
      (err: unknown) => err instanceof KdcProxyError && err.code === 'KDC_PROXY_TLS',
    );
    const otherConf = join(realm.dir, 'krb5-other-ca.conf');
    writeFileSync(otherConf, clientConf(otherCa.caFile));
    const cc = `FILE:${join(realm.dir, 'mit-other.cc')}`;
    const k = await run('kinit', ['user'], {
      env: { KRB5_CONFIG: otherConf, KRB5CCNAME: cc },
      input: `${PASSWORD}\n`,
    });
    assert.notEqual(k.code, 0);
  });
});
