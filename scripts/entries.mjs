// The package's entry points, in one table. Everything else is derived from it: package.json
// `exports` (import + require, each with its types), the bundled build (scripts/build.mjs), the
// package checks (scripts/check-package.mjs, test/package/), bench/size and jsr.json.
//
// Adding an entry point is one line here, then `npm run build` (which rewrites package.json
// `exports` and jsr.json `exports`; commit both).

/** [subpath users import, source file]. The first is the main entry. */
export const ENTRIES = [
  ['.', 'src/index.ts'],
  ['./krb5', 'src/krb5/index.ts'],
  ['./server', 'src/server/index.ts'],
  ['./testing', 'src/testing/index.ts'],
  ['./sasl', 'src/sasl/index.ts'],
  ['./kerberos', 'src/compat/index.ts'],
  ['./undici', 'src/adapters/undici.ts'],
  ['./axios', 'src/adapters/axios.ts'],
  ['./got', 'src/adapters/got.ts'],
  ['./ws', 'src/adapters/ws.ts'],
];

/** The `spnego` command: [bin name, source file]. */
export const BIN = ['spnego', 'src/cli/main.ts'];

/** `spnego/krb5` → `krb5`, `.` → `index`, `./a/b` → `a-b`: the file stem in dist/. */
export function stem(subpath) {
  return subpath === '.' ? 'index' : subpath.slice(2).replaceAll('/', '-');
}

/** The specifier a user writes: `spnego`, `spnego/krb5`. */
export function specifier(subpath, name = 'spnego') {
  return subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
}

/** package.json `exports`, generated from ENTRIES. */
export function packageExports() {
  const out = {};
  for (const [subpath] of ENTRIES) {
    const s = stem(subpath);
    out[subpath] = {
      import: { types: `./dist/${s}.d.ts`, default: `./dist/${s}.js` },
      require: { types: `./dist/${s}.d.cts`, default: `./dist/${s}.cjs` },
    };
  }
  out['./package.json'] = './package.json';
  return out;
}
