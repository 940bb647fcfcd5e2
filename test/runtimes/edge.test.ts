// The client path in edge runtimes (Vercel's edge-runtime, Cloudflare's workerd through
// miniflare), bundled for the browser platform as a Worker would be: it loads without Node
// built-ins, and each feature that needs one fails with its typed error and a hint.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build } from 'esbuild';
import { MiniKdc } from '../../src/testing/index.js';

const probe = new URL('./edge-probe.ts', import.meta.url).pathname;

async function bundle(format: 'esm' | 'iife', call = 'probe()'): Promise<string> {
  const r = await build({
    stdin: {
      contents:
        format === 'esm'
          ? `import { probe, tcpLogin } from ${JSON.stringify(probe)}; export default { fetch: () => ${call} };`
          : `import { probe } from ${JSON.stringify(probe)}; addEventListener('fetch', (e) => e.respondWith(probe()));`,
      resolveDir: new URL('.', import.meta.url).pathname,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format,
    platform: 'browser',
    target: 'es2022',
    external: ['ky'],
    logLevel: 'error',
  });
  return r.outputFiles[0]?.text ?? '';
}

type Outcomes = Record<string, { name?: string; code?: string; hint?: string | null; message?: string }>;

function check(o: Outcomes, runtime: 'edge-runtime' | 'workerd'): void {
  assert.equal(o.loadConfig?.name, 'ConfigError');
  assert.equal(o.loadConfig?.code, 'CONFIG_READ');
  assert.match(o.loadConfig?.hint ?? '', /parseConfig/);
  for (const k of ['fromCcache', 'readKeytab']) {
    assert.equal(o[k]?.name, 'CredentialsError', k);
    assert.equal(o[k]?.code, 'PLATFORM_UNSUPPORTED', k);
    assert.match(o[k]?.hint ?? '', /parseKeytab/, k);
  }
  assert.equal(o.kdcOverTcp?.name, 'KdcUnreachableError');
  if (runtime === 'edge-runtime') assert.match(o.kdcOverTcp?.message ?? '', /not available on this platform/);
  else {
    // workerd has TCP (cloudflare:sockets): port 1 was tried over it, and refused.
    assert.match(o.kdcOverTcp?.message ?? '', /tcp 127\.0\.0\.1:1: /);
    assert.doesNotMatch(o.kdcOverTcp?.message ?? '', /tcp 127\.0\.0\.1:1: PLATFORM_UNSUPPORTED/);
  }
  assert.deepEqual(o.canonicalHost, { ok: true });
}

describe('the client path without Node built-ins', () => {
  it('edge-runtime (Vercel Edge Functions): loads, and degrades to typed errors', async () => {
    const { EdgeRuntime } = await import('edge-runtime');
    const rt = new EdgeRuntime({ initialCode: await bundle('iife') });
    check((await (await rt.dispatchFetch('http://edge.local/')).json()) as Outcomes, 'edge-runtime');
  });

  it('workerd through miniflare (Cloudflare Workers): loads, and degrades to typed errors', async () => {
    const { Miniflare } = await import('miniflare');
    const mf = new Miniflare({ modules: true, script: await bundle('esm'), compatibilityDate: '2025-01-01' });
    try {
      check((await (await mf.dispatchFetch('http://worker.local/')).json()) as Outcomes, 'workerd');
    } finally {
      await mf.dispose();
    }
  });

  for (const [flags, how] of [
    [[], 'cloudflare:sockets'],
    [['nodejs_compat'], "nodejs_compat's node:net (workerd's, over the same sockets)"],
  ] as const) {
    it(`workerd${flags.length ? ` (${flags.join(', ')})` : ''}: a KDC named host:port is reached over TCP through ${how}`, async () => {
      const { Miniflare } = await import('miniflare');
      const kdc = await MiniKdc.start({
        realm: 'EDGE.TEST',
        principals: ['robot', 'HTTP/localhost'],
        udp: false,
      });
      const keytab = Buffer.from(kdc.keytabFor('robot')).toString('base64');
      const call = `tcpLogin(${JSON.stringify(kdc.address)}, ${JSON.stringify(keytab)}, 'robot@EDGE.TEST')`;
      const mf = new Miniflare({
        modules: true,
        script: await bundle('esm', call),
        compatibilityDate: flags.length ? '2025-09-15' : '2025-01-01',
        compatibilityFlags: [...flags],
      });
      try {
        assert.deepEqual(await (await mf.dispatchFetch('http://worker.local/')).json(), { ok: true });
        assert.deepEqual(
          kdc.requests.map((r) => [r.transport, r.type, r.errorCode]),
          [
            ['tcp', 'AS-REQ', undefined],
            ['tcp', 'TGS-REQ', undefined],
          ],
        );
      } finally {
        await mf.dispose();
        await kdc.stop();
      }
    });
  }
});
