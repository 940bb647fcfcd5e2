#!/usr/bin/env node
// After `npm run build`: every entry point of scripts/entries.mjs resolves from dist/ through the
// `exports` map (as a user's `import 'spnego/…'` and `require('spnego/…')` would), both give the
// same module instance, the contract's names are there, package.json `exports` is the one the
// table generates, and the `spnego` bin runs. Run by .ci/run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BIN, ENTRIES, packageExports, specifier } from './entries.mjs';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
assert.deepEqual(
  pkg.exports,
  packageExports(),
  'package.json exports differ from scripts/entries.mjs: run npm run build',
);
const jsr = JSON.parse(readFileSync(new URL('../jsr.json', import.meta.url), 'utf8'));
assert.deepEqual(
  jsr.exports,
  Object.fromEntries(ENTRIES.map(([subpath, src]) => [subpath, `./${src}`])),
  'jsr.json exports differ from scripts/entries.mjs: run npm run build',
);
assert.equal(jsr.version, pkg.version, 'jsr.json version differs from package.json: run npm run build');
// The runtime dependencies are exactly these (pure JavaScript, nothing native or downloading);
// DER, OIDs and integers are our own code (src/asn1/der.ts), so no ASN.1 library ships.
assert.deepEqual(
  Object.keys(pkg.dependencies ?? {}).sort(),
  ['@noble/ciphers', '@noble/hashes'],
  'runtime dependencies changed: only @noble/hashes and @noble/ciphers may ship',
);

/** Names the contract promises per entry; entries not listed must still load and export something. */
const expect = {
  spnego: [
    'negotiate',
    'negotiateFetch',
    'negotiateFailure',
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
  'spnego/kerberos': [
    'initializeClient',
    'initializeServer',
    'checkPassword',
    'principalDetails',
    'GSS_C_MUTUAL_FLAG',
    'GSS_MECH_OID_KRB5',
    'GSS_MECH_OID_SPNEGO',
    'GSS_C_NO_OID',
    'version',
  ],
  'spnego/sasl': ['createSaslClient', 'createSaslServer', 'SaslError', 'encodeSaslFrame', 'SaslFrameReader'],
};
for (const [subpath] of ENTRIES) {
  const entry = specifier(subpath);
  const esm = await import(entry);
  const cjs = require(entry);
  const names = expect[entry] ?? [];
  assert.ok(Object.keys(esm).length > 0, `${entry} exports nothing`);
  for (const n of names) {
    assert.ok(n in esm, `import('${entry}') does not export ${n}`);
    assert.ok(n in cjs, `require('${entry}') does not export ${n}`);
  }
  for (const n of Object.keys(esm))
    assert.equal(cjs[n], esm[n], `${entry}: require and import differ on ${n}`);
}
const version = execFileSync(process.execPath, [pkg.bin[BIN[0]], '--version'], { encoding: 'utf8' });
assert.match(version, /^spnego \d+\.\d+\.\d+/);
console.log(
  `package entry points OK with import and require (${ENTRIES.map(([s]) => specifier(s)).join(', ')}); ${version.trim()}`,
);
