// Finding and reading krb5.conf as MIT does: KRB5_CONFIG (colon-separated; files and, since
// 1.14, directories; absent ones skipped) else /etc/krb5.conf, plus include/includedir. Files are
// read first (async), then parsed in order by the pure parser through a resolver over what was
// read. Everything is bounded: include depth, file count, file and total size, expansions.
import { ConfigError } from '../errors.js';
import { isPlatformUnsupported } from '../runtime/builtin.js';
import { getEnv } from '../runtime/env.js';
import { isErrno, listDir, readTextFile, statFile } from '../runtime/fs.js';
import { configFromProfile, type Krb5Config } from './config.js';
import {
  DEFAULT_MAX_INCLUDE_DEPTH,
  type IncludedFile,
  includeDirective,
  Profile,
  ProfileSection,
  parseProfileInto,
  splitLines,
} from './profile.js';

/** CONFIG_READ, saying what to do instead where the platform has no file system (edge runtimes). */
function readError(p: string, e: unknown): ConfigError {
  return new ConfigError('CONFIG_READ', `${p} ${describe(e)}`, {
    cause: e,
    ...(isPlatformUnsupported(e)
      ? {
          hint: 'this platform has no file system: pass the configuration, e.g. { config: parseConfig(krb5confText) }',
        }
      : {}),
  });
}

export const DEFAULT_CONFIG_PATH = '/etc/krb5.conf';

export interface ConfigLimits {
  maxIncludeDepth: number;
  /** Distinct files read, includes and directory entries counted. */
  maxFiles: number;
  maxFileBytes: number;
  maxTotalBytes: number;
  /** Files parsed, counting a file included twice twice (stops include fan-out bombs). */
  maxParses: number;
}

export const DEFAULT_CONFIG_LIMITS: ConfigLimits = {
  maxIncludeDepth: DEFAULT_MAX_INCLUDE_DEPTH,
  maxFiles: 256,
  maxFileBytes: 1 << 20,
  maxTotalBytes: 16 << 20,
  maxParses: 1024,
};

export interface LoadConfigOptions {
  /** Files (or directories) to read instead of KRB5_CONFIG / /etc/krb5.conf; earlier ones win. */
  files?: readonly string[];
  /** Environment to read KRB5_CONFIG from (default: the process environment). */
  env?: Readonly<Record<string, string | undefined>> | ((name: string) => string | undefined);
  limits?: Partial<ConfigLimits>;
}

/** The config files MIT would read, in precedence order. */
export function configFiles(opts: LoadConfigOptions = {}): string[] {
  if (opts.files !== undefined) return [...opts.files];
  const env = opts.env;
  const value =
    env === undefined
      ? getEnv('KRB5_CONFIG')
      : typeof env === 'function'
        ? env('KRB5_CONFIG')
        : env.KRB5_CONFIG;
  if (value === undefined || value === '') return [DEFAULT_CONFIG_PATH];
  return value.split(':').filter((p) => p !== '');
}

/**
 * Reads krb5.conf the way MIT does. A missing file means MIT's defaults, not an error. Throws
 * ConfigError: `CONFIG_SYNTAX` (file:line), `CONFIG_VALUE`, `CONFIG_INCLUDE` (an include target
 * that cannot be read), `CONFIG_INCLUDE_LOOP`, `CONFIG_INCLUDE_DEPTH`, `CONFIG_TOO_LARGE`.
 */
export async function loadConfig(opts: LoadConfigOptions = {}): Promise<Krb5Config> {
  const limits = { ...DEFAULT_CONFIG_LIMITS, ...opts.limits };
  const reader = new Reader(limits);
  const top: Array<{ path: string; files: IncludedFile[] }> = [];
  for (const p of configFiles(opts)) {
    const files = await reader.readTop(p);
    if (files.length > 0) top.push({ path: p, files });
  }
  const root = new ProfileSection();
  let parses = 0;
  const resolveInclude = (kind: 'include' | 'includedir', target: string, at: string): IncludedFile[] => {
    const files = reader.resolved(kind, target, at);
    parses += files.length;
    if (parses > limits.maxParses) {
      throw new ConfigError(
        'CONFIG_TOO_LARGE',
        `${at}: more than ${limits.maxParses} included files to parse`,
        {
          hint: 'the same files are included many times over; include each file once',
        },
      );
    }
    return files;
  };
  for (const t of top) {
    for (const f of t.files) {
      parseProfileInto(root, f.text, {
        path: f.path,
        resolveInclude,
        maxIncludeDepth: limits.maxIncludeDepth,
      });
    }
  }
  return configFromProfile(new Profile(root, reader.order));
}

/** Collapses `//`, `/./` and `dir/..` so the same file is recognised under simple aliases. */
export function normalizePath(p: string): string {
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (seg !== '..' || !abs) out.push(seg);
  }
  return (abs ? '/' : '') + out.join('/');
}

/** MIT's includedir filter: not a dotfile, and `*.conf` or only [A-Za-z0-9_-] (no `~`, `.rpmsave`). */
export function isIncludableName(name: string): boolean {
  if (name.startsWith('.')) return false;
  if (name.length >= 5 && name.endsWith('.conf')) return true;
  return /^[A-Za-z0-9_-]+$/.test(name);
}

class Reader {
  readonly order: string[] = [];
  private readonly texts = new Map<string, string>();
  private readonly dirs = new Map<string, string[]>();
  private readonly done = new Set<string>();
  private readonly fetches = new Map<string, Promise<string>>();
  private totalBytes = 0;

  constructor(private readonly limits: ConfigLimits) {}

  /** A KRB5_CONFIG entry: absent or unreadable means skipped, as MIT does. */
  async readTop(path: string): Promise<IncludedFile[]> {
    const p = normalizePath(path);
    let st: Awaited<ReturnType<typeof statFile>>;
    try {
      st = await statFile(p);
    } catch (e) {
      if (isErrno(e, 'EACCES') || isErrno(e, 'EPERM') || isErrno(e, 'ELOOP')) return [];
      throw readError(p, e);
    }
    if (st === undefined) return [];
    try {
      if (st.isDirectory) {
        await this.readDir(p, [], p);
        return this.resolved('includedir', p, p);
      }
      await this.readFile(p, [], undefined);
      return this.resolved('include', p, p);
    } catch (e) {
      if (isErrno(e, 'ENOENT') || isErrno(e, 'EACCES') || isErrno(e, 'EPERM')) return [];
      throw e;
    }
  }

  /** What an include line stands for, from what was read before parsing began. */
  resolved(kind: 'include' | 'includedir', target: string, at: string): IncludedFile[] {
    const p = normalizePath(target);
    if (kind === 'include') {
      const text = this.texts.get(p);
      if (text === undefined) throw includeError(at, kind, target, 'was not read');
      return [{ path: p, text }];
    }
    const names = this.dirs.get(p);
    if (names === undefined) throw includeError(at, kind, target, 'was not read');
    return names.map((n) => {
      const fp = `${p}/${n}`;
      return { path: fp, text: this.texts.get(fp) ?? '' };
    });
  }

  private async readFile(p: string, chain: readonly string[], at: string | undefined): Promise<void> {
    if (chain.includes(p)) {
      throw new ConfigError(
        'CONFIG_INCLUDE_LOOP',
        `${at ?? p}: ${p} includes itself (${[...chain, p].join(' -> ')})`,
        {
          hint: 'remove one of the include lines that form the cycle',
        },
      );
    }
    if (chain.length > this.limits.maxIncludeDepth) {
      throw new ConfigError(
        'CONFIG_INCLUDE_DEPTH',
        `${at ?? p}: includes nested more than ${this.limits.maxIncludeDepth} deep`,
        {
          hint: 'flatten the include chain',
        },
      );
    }
    if (this.done.has(p)) return;
    if (this.order.length >= this.limits.maxFiles) {
      throw new ConfigError(
        'CONFIG_TOO_LARGE',
        `${at ?? p}: more than ${this.limits.maxFiles} config files`,
        {
          hint: 'krb5.conf and its includes span too many files',
        },
      );
    }
    let text: string;
    try {
      text = await this.fetch(p, at);
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      if (at !== undefined) throw includeError(at, 'include', p, describe(e), e);
      if (isErrno(e, 'ENOENT') || isErrno(e, 'EACCES') || isErrno(e, 'EPERM')) throw e; // readTop skips it
      throw readError(p, e);
    }
    this.totalBytes += text.length;
    if (text.length > this.limits.maxFileBytes) throw tooLarge(at ?? p, `${p} is ${text.length} characters`);
    if (this.totalBytes > this.limits.maxTotalBytes) throw tooLarge(at ?? p, 'the config files together');
    this.texts.set(p, text);
    this.order.push(p);
    const lines = splitLines(text);
    const inner = [...chain, p];
    for (let i = 0; i < lines.length; i++) {
      const inc = includeDirective(lines[i] as string);
      if (inc === undefined) continue;
      const target = normalizePath(inc.target);
      const where = `${p}:${i + 1}`;
      if (inc.kind === 'include') await this.readFile(target, inner, where);
      else await this.readDir(target, inner, where);
    }
    this.done.add(p);
  }

  /** Stat and read, once per path; readDir starts these for a whole directory at once. */
  private fetch(p: string, at: string | undefined): Promise<string> {
    let f = this.fetches.get(p);
    if (f === undefined) {
      f = (async () => {
        const st = await statFile(p);
        if (st === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
        if (st.size > this.limits.maxFileBytes) throw tooLarge(at ?? p, `${p} is ${st.size} bytes`);
        // MIT opens a directory or device fine and then reads no line from it: empty, no error.
        return st.isFile ? readTextFile(p) : '';
      })();
      // Errors surface when readFile awaits it; until then a prefetch must not be "unhandled".
      f.catch(() => undefined);
      this.fetches.set(p, f);
    }
    return f;
  }

  private async readDir(dir: string, chain: readonly string[], at: string): Promise<void> {
    if (!this.dirs.has(dir)) {
      let names: string[];
      try {
        names = await listDir(dir);
      } catch (e) {
        throw includeError(at, 'includedir', dir, describe(e), e);
      }
      // MIT 1.17+ reads them in byte order; listDir sorts by UTF-16 code unit, the same for ASCII.
      this.dirs.set(dir, names.filter(isIncludableName));
    }
    const names = this.dirs.get(dir) ?? [];
    for (const n of names.slice(0, this.limits.maxFiles)) this.fetch(`${dir}/${n}`, at);
    for (const n of names) await this.readFile(`${dir}/${n}`, chain, at);
  }
}

function describe(e: unknown): string {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? `cannot be read (${code})` : 'cannot be read';
}

function includeError(at: string, kind: string, target: string, why: string, cause?: unknown): ConfigError {
  return new ConfigError('CONFIG_INCLUDE', `${at}: ${kind} ${target} ${why}`, {
    hint: `${kind} targets must exist and be readable (use an absolute path)`,
    cause,
  });
}

function tooLarge(at: string, what: string): ConfigError {
  return new ConfigError('CONFIG_TOO_LARGE', `${at}: ${what} exceeds the size limit`, {
    hint: 'krb5.conf files are a few kilobytes; check the path points at a config file',
  });
}
