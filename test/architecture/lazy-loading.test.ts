// What `import('spnego')` loads: the main entry bundled with code splitting (as dist/ is), its
// static import graph must not hold code the first request of a client does not run — the
// acceptor (server side), the KCM client, the KDC-proxy HTTPS client, the AS exchange (login),
// S4U. Those stay reachable through dynamic import() and load when first used.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');

const LAZY = [
  'src/spnego/acceptor.ts',
  'src/krb5/gss/acceptor.ts',
  'src/krb5/gss/replay-cache.ts',
  'src/krb5/gss/transited.ts',
  'src/ccache/kcm-store.ts',
  'src/runtime/https-post.ts',
  'src/krb5/as.ts',
  'src/krb5/s4u.ts',
];

describe('the main entry loads lazily what the first request does not need', () => {
  it('its static graph leaves out the acceptor, KCM, KDC proxy, AS and S4U; dynamic imports reach them', async () => {
    const r = await build({
      entryPoints: [join(ROOT, 'src/index.ts')],
      bundle: true,
      splitting: true,
      write: false,
      metafile: true,
      outdir: join(ROOT, '.lazy-loading-out'),
      format: 'esm',
      platform: 'node',
      packages: 'external',
      logLevel: 'silent',
    });
    const outputs = r.metafile.outputs;
    const entry = Object.keys(outputs).find((o) => outputs[o]?.entryPoint !== undefined);
    assert.ok(entry);
    const seen = new Set<string>();
    const queue = [entry];
    while (queue.length > 0) {
      const o = queue.shift() as string;
      if (seen.has(o)) continue;
      seen.add(o);
      for (const i of outputs[o]?.imports ?? [])
        if (!i.external && i.kind === 'import-statement') queue.push(i.path);
    }
    const first = new Set([...seen].flatMap((o) => Object.keys(outputs[o]?.inputs ?? {})));
    const all = new Set(Object.values(outputs).flatMap((o) => Object.keys(o.inputs)));
    for (const m of LAZY) {
      assert.ok(
        !first.has(m),
        `${m} is loaded by import('spnego'): import it with import() where it is used`,
      );
      assert.ok(all.has(m), `${m} is not reachable from the main entry at all`);
    }
    // And what the first request does need is there.
    for (const m of [
      'src/http/fetch.ts',
      'src/spnego/initiator.ts',
      'src/krb5/credentials.ts',
      'src/krb5/tgs.ts',
    ])
      assert.ok(first.has(m), `${m} should load with the entry`);
  });
});
