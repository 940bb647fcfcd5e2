// What `import('spnego')` loads: the main entry bundled with code splitting (as dist/ is), its
// static import graph holds the HTTP side only (options, the challenge parser, the flow, proxies,
// errors). The Kerberos engine — Credentials, the SPNEGO initiator, the krb5 mechanism, the
// ASN.1 codecs, the enctypes and their ciphers — loads with the first token, and what even that
// does not need (the acceptor, the KCM client, the KDC-proxy HTTPS client, the AS exchange,
// S4U) loads later still. All of it stays reachable through dynamic import().
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { build } from 'esbuild';
import { ENTRIES } from '../../scripts/entries.mjs';

const ROOT = resolve(import.meta.dirname, '../..');

const LAZY = [
  // The engine, loaded with the first token.
  'src/krb5/credentials.ts',
  'src/krb5/tgs.ts',
  'src/krb5/transport.ts',
  'src/krb5/config-load.ts',
  'src/spnego/initiator.ts',
  'src/krb5/gss/initiator.ts',
  'src/asn1/kdc.ts',
  'src/asn1/spnego.ts',
  'src/crypto/index.ts',
  'src/crypto/aes-cts.ts',
  'src/ccache/ccache.ts',
  // Later still, when used.
  'src/spnego/acceptor.ts',
  'src/krb5/gss/acceptor.ts',
  'src/krb5/gss/replay-cache.ts',
  'src/krb5/gss/transited.ts',
  'src/ccache/kcm-store.ts',
  'src/runtime/https-post.ts',
  'src/krb5/as.ts',
  'src/krb5/s4u.ts',
];

/** The outputs esbuild makes of `entryPoints` bundled with splitting, as the build does (not written). */
async function bundledOutputs(entryPoints: string[]) {
  const r = await build({
    entryPoints,
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
  return r.metafile.outputs;
}

describe('the main entry loads lazily what the first request does not need', () => {
  it('its static graph leaves out the Kerberos engine, the acceptor, KCM, KDC proxy, AS and S4U; dynamic imports reach them', async () => {
    const outputs = await bundledOutputs([join(ROOT, 'src/index.ts')]);
    // The entry's own output: modules reached by import() are entry points of their chunks too.
    const entry = Object.keys(outputs).find((o) => outputs[o]?.entryPoint === 'src/index.ts');
    assert.ok(entry);
    const seen = new Set<string>();
    const packages = new Set<string>();
    const queue = [entry];
    while (queue.length > 0) {
      const o = queue.shift() as string;
      if (seen.has(o)) continue;
      seen.add(o);
      for (const i of outputs[o]?.imports ?? []) {
        if (i.kind !== 'import-statement') continue;
        if (!i.external) queue.push(i.path);
        else if (!i.path.startsWith('node:')) packages.add(i.path);
      }
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
    // No runtime dependency but the SHA-2 of tls-server-end-point (a synchronous export).
    assert.deepEqual([...packages], ['@noble/hashes/sha2.js'], 'the packages the first load imports');
    // And what a request needs before its first token is there.
    for (const m of [
      'src/http/fetch.ts',
      'src/http/flow.ts',
      'src/http/challenge.ts',
      'src/http/proxy.ts',
      'src/krb5/credentials-brand.ts',
      'src/errors.ts',
    ])
      assert.ok(first.has(m), `${m} should load with the entry`);
  });
});

describe('@noble/ciphers loads only where the platform has no AES', () => {
  it('no entry reaches it statically: node:crypto does AES on Node, Bun and Deno, import() brings the pure-JS AES elsewhere', async () => {
    const outputs = await bundledOutputs(ENTRIES.map(([, src]) => join(ROOT, src)));
    const ciphersIn = (o: string): boolean =>
      (outputs[o]?.imports ?? []).some((i) => i.external && i.path.startsWith('@noble/ciphers'));
    assert.ok(Object.keys(outputs).some(ciphersIn), '@noble/ciphers is not reachable at all');
    let checked = 0;
    for (const [o, out] of Object.entries(outputs)) {
      if (out.entryPoint === undefined || !ENTRIES.some(([, src]) => src === out.entryPoint)) continue;
      // Every output an entry loads through import statements, the entry's own included.
      const seen = new Set<string>();
      const queue = [o];
      while (queue.length > 0) {
        const x = queue.shift() as string;
        if (seen.has(x)) continue;
        seen.add(x);
        for (const i of outputs[x]?.imports ?? [])
          if (i.kind === 'import-statement' && !i.external) queue.push(i.path);
      }
      for (const x of seen)
        assert.ok(!ciphersIn(x), `${out.entryPoint} loads @noble/ciphers statically (through ${x})`);
      checked++;
    }
    assert.equal(checked, ENTRIES.length, 'every entry checked');
  });
});
