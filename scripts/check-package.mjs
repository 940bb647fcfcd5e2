#!/usr/bin/env node
// After `npm run build`: the package's public entry points resolve from dist/ through the
// `exports` map (as a user's `import 'spnego/…'` would) and carry the contract's names, and the
// `spnego` bin runs. Run by .ci/run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const expect = {
  spnego: [
    'negotiate',
    'negotiateFetch',
    'REQUIRED',
    'OPTIONAL',
    'DISABLED',
    'MutualAuth',
    'SpnegoError',
    'MutualAuthenticationError',
    'SPNEGOExchangeError',
    'KerberosError',
    'CredentialsError',
    'KdcUnreachableError',
    'ConfigError',
    'createInitiatorContext',
    'createAcceptorContext',
  ],
  'spnego/krb5': ['Credentials', 'readCcache', 'writeCcache', 'readKeytab', 'writeKeytab', 'loadConfig'],
  'spnego/server': ['createAcceptor', 'negotiateMiddleware', 'negotiateHandler'],
  'spnego/testing': ['MiniKdc'],
};
for (const [entry, names] of Object.entries(expect)) {
  const mod = await import(entry);
  for (const n of names) assert.ok(n in mod, `${entry} does not export ${n}`);
}
const version = execFileSync(process.execPath, ['dist/cli/main.js', '--version'], { encoding: 'utf8' });
assert.match(version, /^spnego \d+\.\d+\.\d+/);
console.log(`package entry points OK (${Object.keys(expect).join(', ')}); ${version.trim()}`);
