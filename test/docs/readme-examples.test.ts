// README.md must tell the truth: every ```ts block in it is typechecked, as a user would write
// it (`import ... from 'spnego'`, 'spnego/krb5', 'spnego/server', 'spnego/testing', ky,
// express), against the sources, with the project's strict compiler options. A renamed option,
// a missing export or a wrong import path in an example fails this test.
//
// TypeScript 7's compiler API (typescript/unstable/sync) runs one Program over all the blocks.
// The blocks and the tsconfig that lists them exist only in memory, served through the API's
// file-system callbacks; everything else (src/, node_modules) is read from disk.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FileSystem } from 'typescript/unstable/fs';
import { API, type Diagnostic, DiagnosticCategory } from 'typescript/unstable/sync';
import { ENTRIES, specifier } from '../../scripts/entries.mjs';
import type { CliIo } from '../../src/cli/ccache-name.js';
import { curlCommand } from '../../src/cli/curl.js';
import { kdestroyCommand } from '../../src/cli/kdestroy.js';
import { kinitCommand } from '../../src/cli/kinit.js';
import { klistCommand } from '../../src/cli/klist.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const README = join(ROOT, 'README.md');
/** A directory that exists only in memory; inside the repository, so node_modules resolves. */
const VDIR = join(ROOT, 'test/docs/__readme__');

/**
 * What the blocks may use without declaring it: the README's later examples continue the earlier
 * ones (`negotiate` imported above) or show a fragment of a server (`app`, `keytab`, `Bun`).
 * Declared once as globals in a script, so a block's own imports and declarations shadow these:
 * a block that imports what it uses is checked against its own imports alone.
 */
const PRELUDE = `
declare const ky: typeof import('ky').default;
declare const negotiate: typeof import('spnego').negotiate;
declare const negotiateFetch: typeof import('spnego').negotiateFetch;
declare const REQUIRED: typeof import('spnego').REQUIRED;
declare const OPTIONAL: typeof import('spnego').OPTIONAL;
declare const DISABLED: typeof import('spnego').DISABLED;
/** An Express application. */
declare const app: import('express').Express;
/** A keytab path. */
declare const keytab: string;
/** The part of Bun's global the README uses. */
declare const Bun: { serve(options: { fetch(req: Request): Response | Promise<Response> }): unknown };
`;

/**
 * Blocks that must NOT typecheck, checked in the same Program: proof that a wrong name or option
 * in the README would be caught.
 */
const MUST_FAIL = [
  `import { negotiate } from 'spnego';\nnegotiate({ mutualAuth: 1 });\n`,
  `import { NoSuchError } from 'spnego';\nconsole.log(NoSuchError);\n`,
  `import { Credentials } from 'spnego/server';\nconsole.log(Credentials);\n`,
  `import { negotiateMiddleware } from 'spnego/server';\napp.use(negotiateMiddleware({ keytabFile: keytab }));\n`,
];

interface Block {
  /** 1-based line in README.md of the block's first code line. */
  line: number;
  code: string;
}

/** The fenced blocks of `markdown` whose info string is one of `langs`. */
function fencedBlocks(markdown: string, langs: RegExp): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let open: { line: number; body: string[] } | undefined;
  let fence = '';
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] ?? '';
    if (open === undefined) {
      const m = /^(`{3,}|~{3,})\s*(\w*)/.exec(text);
      if (!m) continue;
      fence = m[1] ?? '```';
      open = langs.test(m[2] ?? '') ? { line: i + 2, body: [] } : { line: -1, body: [] };
    } else if (text.trimEnd() === fence) {
      if (open.line > 0) blocks.push({ line: open.line, code: open.body.join('\n') });
      open = undefined;
    } else {
      open.body.push(text);
    }
  }
  return blocks;
}

interface Checked {
  /** Per block file name, its error diagnostics. */
  errors: Map<string, Diagnostic[]>;
  /** Errors anywhere else (prelude, config, sources). */
  other: Diagnostic[];
}

function typecheck(sources: Map<string, string>): Checked {
  const files = new Map<string, string>(sources);
  files.set(join(VDIR, 'prelude.d.ts'), PRELUDE);
  const tsconfig = join(VDIR, 'tsconfig.json');
  const toSrc = (p: string): string[] => [`../../../src/${p}`];
  files.set(
    tsconfig,
    JSON.stringify({
      extends: '../../../tsconfig.json',
      compilerOptions: {
        noEmit: true,
        rootDir: '../../..',
        // Every entry point of the package, from its table.
        paths: Object.fromEntries(
          ENTRIES.map(([subpath, src]) => [specifier(subpath), toSrc(src.replace(/^src\//, ''))]),
        ),
      },
      include: [],
      files: [...files.keys()].filter((f) => f.endsWith('.ts')).map((f) => f.slice(VDIR.length + 1)),
    }),
  );
  // Answer for the in-memory directory; `undefined` falls back to the real file system.
  const fs: FileSystem = {
    readFile: (f) => files.get(f),
    fileExists: (f) => (files.has(f) ? true : undefined),
    directoryExists: (d) => (d === VDIR ? true : undefined),
    getAccessibleEntries: (d) =>
      d === VDIR
        ? { files: [...files.keys()].map((f) => f.slice(VDIR.length + 1)), directories: [] }
        : undefined,
    realpath: (p) => (files.has(p) || p === VDIR ? p : undefined),
  };
  const api = new API({ cwd: ROOT, fs });
  try {
    const project = api.updateSnapshot({ openProjects: [tsconfig] }).getProject(tsconfig);
    assert.ok(project, 'the in-memory tsconfig did not load');
    const program = project.program;
    const all = [
      ...program.getConfigFileParsingDiagnostics(),
      ...program.getProgramDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...program.getSyntacticDiagnostics(),
      ...program.getSemanticDiagnostics(),
    ].filter((d) => d.category === DiagnosticCategory.Error);
    const errors = new Map<string, Diagnostic[]>([...sources.keys()].map((f) => [f, []]));
    const other: Diagnostic[] = [];
    for (const d of all) {
      const list = d.fileName === undefined ? undefined : errors.get(d.fileName);
      if (list) list.push(d);
      else other.push(d);
    }
    return { errors, other };
  } finally {
    api.close();
  }
}

const lineOf = (text: string, pos: number): number => text.slice(0, pos).split('\n').length;

const describe = (d: Diagnostic): string => {
  const chain = (d.messageChain ?? []).map((c) => `\n      ${c.text}`).join('');
  return `TS${d.code}: ${d.text}${chain}`;
};

test('every ```ts block in README.md typechecks against the package entry points', () => {
  const blocks = fencedBlocks(readFileSync(README, 'utf8'), /^(ts|typescript|tsx|mts)$/i);
  assert.ok(blocks.length >= 10, `expected the README's TypeScript examples, found ${blocks.length} blocks`);

  const sources = new Map<string, string>();
  // `export {}` makes every block a module of its own (top-level await, no shared names).
  const blockFiles = blocks.map((b, i) => {
    const name = join(VDIR, `readme-line-${b.line}.ts`);
    sources.set(name, `${b.code}\nexport {};\n`);
    return { ...b, name, index: i };
  });
  const mustFail = MUST_FAIL.map((code, i) => {
    const name = join(VDIR, `must-fail-${i}.ts`);
    sources.set(name, `${code}export {};\n`);
    return { name, code };
  });

  const { errors, other } = typecheck(sources);

  assert.deepEqual(
    other.map((d) => `${d.fileName ?? '(no file)'}: ${describe(d)}`),
    [],
    'errors outside the README blocks (prelude, config or sources)',
  );
  for (const f of mustFail) {
    assert.ok(
      (errors.get(f.name) ?? []).length > 0,
      `this broken example typechecked, so the test cannot catch README mistakes:\n${f.code}`,
    );
  }
  const problems: string[] = [];
  for (const b of blockFiles) {
    for (const d of errors.get(b.name) ?? []) {
      const line = b.line + lineOf(sources.get(b.name) ?? '', d.pos) - 1;
      problems.push(`README.md:${line} (block ${b.index + 1}): ${describe(d)}`);
    }
  }
  assert.deepEqual(problems, [], `README examples that do not typecheck:\n${problems.join('\n')}`);
});

/** The `spnego` subcommands whose `--help` prints their usage (demo takes no options). */
const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  curl: curlCommand,
  kinit: kinitCommand,
  klist: klistCommand,
  kdestroy: kdestroyCommand,
  demo: async () => 0,
};

test('every `spnego` command line in README.md uses a command and options the CLI has', async () => {
  const blocks = fencedBlocks(readFileSync(README, 'utf8'), /^(sh|bash|shell|console)$/i);
  const problems: string[] = [];
  let checked = 0;
  for (const b of blocks) {
    for (const [i, raw] of b.code.split('\n').entries()) {
      const m = /^\s*(?:npx\s+)?spnego\s+(\S+)(.*)$/.exec(raw.replace(/\s+#.*$/, ''));
      if (!m) continue;
      checked++;
      const where = `README.md:${b.line + i}`;
      const [, cmd = '', rest = ''] = m;
      const run = COMMANDS[cmd];
      if (!run) {
        problems.push(`${where}: no command \`spnego ${cmd}\``);
        continue;
      }
      const out: string[] = [];
      const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => out.push(t) };
      if (cmd !== 'demo') assert.equal(await run(['--help'], io), 0, `spnego ${cmd} --help`);
      const usage = out.join('');
      // Options outside quoted arguments (`-H 'Content-Type: ...'` is a header, not an option).
      const flags = rest.replace(/'[^']*'|"[^"]*"/g, ' ').match(/(?<![\w-])--?[A-Za-z][\w-]*/g) ?? [];
      for (const f of flags) {
        if (!new RegExp(`(?<![\\w-])${f}(?![\\w-])`).test(usage))
          problems.push(`${where}: \`spnego ${cmd}\` has no option ${f} (usage: ${usage.trim()})`);
      }
    }
  }
  assert.ok(checked >= 5, `expected the README's command lines, found ${checked}`);
  assert.deepEqual(problems, []);
});
