// The native `kerberos@7` addon (built against libkrb5-dev), as a reference for differential
// tests. It is never a dependency of the package: SPNEGO_NATIVE_KERBEROS may name a directory
// whose node_modules holds a built copy; otherwise it is installed (and compiled by node-gyp)
// into a scratch directory under $SPNEGO_INTEROP_TMP. Outside CI a failure skips with a hint;
// with CI=true the suite runs and fails.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NATIVE_VERSION = '7.0.0';

export type NativeKerberos = typeof import('../../../src/compat/index.js') & { definedNapiVersion?: unknown };

let cached: { mod?: NativeKerberos; dir?: string; error?: string } | undefined;

function tryLoad(dir: string): NativeKerberos {
  const req = createRequire(join(dir, 'package.json'));
  return req('kerberos') as NativeKerberos;
}

/** Where the addon lives (a dir with node_modules/kerberos), installing it when needed. */
export function loadNativeKerberos(): { mod?: NativeKerberos; dir?: string; error?: string } {
  if (cached) return cached;
  const given = process.env['SPNEGO_NATIVE_KERBEROS'];
  const dir = given ?? join(process.env['SPNEGO_INTEROP_TMP'] ?? tmpdir(), 'native-kerberos');
  try {
    if (!existsSync(join(dir, 'node_modules', 'kerberos', 'build', 'Release', 'kerberos.node'))) {
      if (given) throw new Error(`SPNEGO_NATIVE_KERBEROS=${given} holds no built node_modules/kerberos`);
      if (!existsSync('/usr/include/gssapi/gssapi.h'))
        throw new Error('libkrb5-dev is not installed (no gssapi.h)');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'package.json'), '{"name":"native-kerberos-scratch","private":true}\n');
      // --foreground-scripts: node-gyp compiles here; prebuild-install (a download) is not relied on.
      execFileSync(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--no-save',
          '--foreground-scripts',
          `kerberos@${NATIVE_VERSION}`,
        ],
        { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 },
      );
    }
    cached = { mod: tryLoad(dir), dir };
  } catch (e) {
    const out = e as { stderr?: Buffer; message?: string };
    cached = {
      error: `${out.message ?? String(e)}${out.stderr ? `\n${out.stderr.toString().slice(-1500)}` : ''}`,
    };
  }
  return cached;
}

export function skipUnlessNativeKerberos(): string | false {
  if (process.env['CI'] === 'true') return false;
  const n = loadNativeKerberos();
  if (n.mod) return false;
  const msg = `native kerberos@${NATIVE_VERSION} unavailable (${n.error}); install libkrb5-dev and g++, or set SPNEGO_NATIVE_KERBEROS to a directory with a built node_modules/kerberos`;
  process.stderr.write(`\nSKIPPED interop: ${msg}\n`);
  return msg;
}

/** The addon, or a thrown error naming why it is missing (CI). */
export function nativeKerberos(): NativeKerberos {
  const n = loadNativeKerberos();
  if (!n.mod) throw new Error(`native kerberos addon unavailable: ${n.error}`);
  return n.mod;
}
