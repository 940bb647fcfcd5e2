// MIT's profile syntax (krb5.conf(5) "Structure"): the untyped tree of sections, subsections and
// multi-valued relations. Pure and synchronous: `include`/`includedir` are answered by a
// resolver, so the loader (config-load.ts) does the file I/O and this file stays testable.
import { ConfigError } from '../errors.js';

/** One value of a relation, with where it was written (for error messages). */
export interface ProfileValue {
  readonly value: string;
  readonly file: string;
  readonly line: number;
}

interface Relation {
  values: ProfileValue[];
  final: boolean;
}

/** A section (`[name]`) or subsection (`name = { ... }`). Names are case-sensitive, as in MIT. */
export class ProfileSection {
  /** Set by `[name]*`, `name* = {` or `}*`: later blocks of the same name are ignored. */
  final = false;
  readonly relations: Map<string, Relation> = new Map();
  readonly sections: Map<string, ProfileSection> = new Map();

  /** Every value of relation `name`, in file order. */
  values(name: string): readonly ProfileValue[] {
    return this.relations.get(name)?.values ?? [];
  }
}

/** The merged tree of every config file read, earlier files first. */
export class Profile {
  readonly root: ProfileSection;
  /** Files read, in order (top-level files and includes). */
  readonly files: readonly string[];

  constructor(root: ProfileSection = new ProfileSection(), files: readonly string[] = []) {
    this.root = root;
    this.files = files;
  }

  /** The subsection at `path` (e.g. `['realms', 'EXAMPLE.COM']`), if any. */
  section(path: readonly string[]): ProfileSection | undefined {
    let s: ProfileSection | undefined = this.root;
    for (const name of path) {
      s = s.sections.get(name);
      if (s === undefined) return undefined;
    }
    return s;
  }

  /** Every value of the relation at `path` (last element = relation name), in order. */
  getValues(path: readonly string[]): readonly ProfileValue[] {
    if (path.length === 0) return [];
    return this.section(path.slice(0, -1))?.values(path[path.length - 1] as string) ?? [];
  }

  getAll(path: readonly string[]): string[] {
    return this.getValues(path).map((v) => v.value);
  }

  /** The first value, as MIT's profile_get_string: earlier files take precedence. */
  get(path: readonly string[]): string | undefined {
    return this.getValues(path)[0]?.value;
  }

  /** Names of the subsections at `path`, in first-seen order (e.g. the realms). */
  sectionNames(path: readonly string[]): string[] {
    return [...(this.section(path)?.sections.keys() ?? [])];
  }

  /** Names of the relations at `path`, in first-seen order. */
  relationNames(path: readonly string[]): string[] {
    return [...(this.section(path)?.relations.keys() ?? [])];
  }
}

/** A file an `include`/`includedir` line brings in, already read by the loader. */
export interface IncludedFile {
  path: string;
  text: string;
}

/**
 * Answers an include directive with the files to parse, in order. `at` is `file:line` of the
 * directive, for error messages. Throws ConfigError when the target cannot be read.
 */
export type IncludeResolver = (kind: 'include' | 'includedir', target: string, at: string) => IncludedFile[];

export interface ParseProfileOptions {
  /** Name used in error messages and value locations. */
  path?: string;
  resolveInclude?: IncludeResolver;
  /** Include nesting allowed below this file (loops are also caught by the resolver). */
  maxIncludeDepth?: number;
}

/** MIT puts no limit on nesting; we do, so a hostile file cannot build a pathological tree. */
const MAX_BRACE_DEPTH = 32;
export const DEFAULT_MAX_INCLUDE_DEPTH = 10;

/** `include X` / `includedir X` at the very start of a line (no leading blanks), as MIT. */
export function includeDirective(
  line: string,
): { kind: 'include' | 'includedir'; target: string } | undefined {
  for (const kind of ['includedir', 'include'] as const) {
    if (line.startsWith(kind) && isBlank(line.charAt(kind.length))) {
      return { kind, target: line.slice(kind.length).trim() };
    }
  }
  return undefined;
}

/** The lines of a file; CR and LF both end a line, as MIT's profile reader sees them. */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

function isBlank(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v';
}

function syntax(at: string, message: string): ConfigError {
  return new ConfigError('CONFIG_SYNTAX', `${at}: ${message}`, {
    hint: 'krb5.conf lines are `[section]`, `name = value`, `name = {` ... `}` or comments starting with # or ;',
  });
}

/** Where additions go while a block of a final (closed) section is being skipped. */
const detached = (): ProfileSection => new ProfileSection();

/**
 * Parses one file into `root`. Several files parsed into the same root give MIT's merged view;
 * MIT 1.22's `*` semantics apply: once a section or relation is final, later blocks of the same
 * name (in this file, an include, or a later file) add nothing to it.
 */
export function parseProfileInto(root: ProfileSection, text: string, opts: ParseProfileOptions = {}): void {
  const path = opts.path ?? '<string>';
  const maxDepth = opts.maxIncludeDepth ?? DEFAULT_MAX_INCLUDE_DEPTH;
  const lines = splitLines(text);
  // MIT's parse states: before the first `[`, everything but includes is ignored.
  let state: 'init' | 'std' | 'obrace' = 'init';
  let current: ProfileSection = root;
  const stack: ProfileSection[] = [];

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const at = `${path}:${i + 1}`;
    const inc = includeDirective(raw);
    if (inc !== undefined) {
      if (opts.resolveInclude === undefined) {
        throw new ConfigError('CONFIG_INCLUDE', `${at}: ${inc.kind} ${inc.target} needs file access`, {
          hint: 'use loadConfig() to read configs with include/includedir',
        });
      }
      if (maxDepth <= 0) {
        throw new ConfigError('CONFIG_INCLUDE_DEPTH', `${at}: includes nested too deeply at ${inc.target}`, {
          hint: `at most ${DEFAULT_MAX_INCLUDE_DEPTH} levels of include/includedir are followed`,
        });
      }
      // Included files are syntactically independent: a fresh state on the shared root.
      for (const f of opts.resolveInclude(inc.kind, inc.target, at)) {
        parseProfileInto(root, f.text, { ...opts, path: f.path, maxIncludeDepth: maxDepth - 1 });
      }
      continue;
    }
    if (state === 'init') {
      if (!raw.startsWith('[')) continue; // also skips MIT's `module` directive: no plugins here
      state = 'std';
    } else if (state === 'obrace') {
      if (raw.trimStart().charAt(0) !== '{') throw syntax(at, "expected '{' after `name =`");
      state = 'std';
      continue;
    }
    const line = raw.trim();
    const ch = line.charAt(0);
    if (ch === '' || ch === '#' || ch === ';') continue;
    if (ch === '[') {
      if (stack.length > 0) throw syntax(at, "section header inside a '{ }' block (missing '}'?)");
      const close = line.indexOf(']');
      if (close < 0) throw syntax(at, "section header without ']'");
      let rest = line.slice(close + 1);
      const final = rest.startsWith('*');
      if (final) rest = rest.slice(1);
      if (rest.trim() !== '') throw syntax(at, `unexpected text after the section header: ${rest.trim()}`);
      current = openSection(root, line.slice(1, close));
      if (final) current.final = true;
      continue;
    }
    if (ch === '}') {
      const parent = stack.pop();
      if (parent === undefined) throw syntax(at, "'}' without a matching '{'");
      if (line.charAt(1) === '*') current.final = true;
      current = parent;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0)
      throw syntax(at, eq === 0 ? 'relation without a name' : "expected `name = value` ('=' missing)");
    let tag = line.slice(0, eq).trimEnd();
    if (/\s/.test(tag)) throw syntax(at, `relation name contains blanks: ${tag}`);
    let value = line.slice(eq + 1).trimStart();
    const star = tag.indexOf('*');
    const final = star >= 0;
    if (final) tag = tag.slice(0, star);

    let opensBlock = false;
    if (value.startsWith('"')) {
      value = unquote(value.slice(1));
    } else if (value === '') {
      opensBlock = true;
      state = 'obrace';
    } else if (value.startsWith('{') && value.slice(1).trim() === '') {
      opensBlock = true;
    }
    if (opensBlock) {
      if (stack.length >= MAX_BRACE_DEPTH)
        throw syntax(at, `blocks nested more than ${MAX_BRACE_DEPTH} deep`);
      stack.push(current);
      current = openSection(current, tag);
      if (final) current.final = true;
      continue;
    }
    addRelation(current, tag, { value, file: path, line: i + 1 }, final);
  }
  // Like MIT, a file may end inside an open block: what was read stays.
}

function openSection(parent: ProfileSection, name: string): ProfileSection {
  const existing = parent.sections.get(name);
  if (existing !== undefined) return existing.final ? detached() : existing;
  const s = new ProfileSection();
  parent.sections.set(name, s);
  return s;
}

function addRelation(section: ProfileSection, name: string, v: ProfileValue, final: boolean): void {
  const r = section.relations.get(name);
  if (r === undefined) {
    section.relations.set(name, { values: [v], final });
    return;
  }
  if (r.final) return;
  r.values.push(v);
  if (final) r.final = true;
}

/** MIT's quoted values: \n \t \b and backslash-anything; text after the closing quote is dropped. */
function unquote(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (c === '"') break;
    if (c === '\\' && i + 1 < s.length) {
      const n = s.charAt(++i);
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'b' ? '\b' : n;
      continue;
    }
    out += c;
  }
  return out;
}

/** Parses one self-contained text (no includes) into a fresh Profile. */
export function parseProfile(text: string, opts: ParseProfileOptions = {}): Profile {
  const root = new ProfileSection();
  parseProfileInto(root, text, opts);
  return new Profile(root, [opts.path ?? '<string>']);
}
