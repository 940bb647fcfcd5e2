// Namespaced debug logging: `spnego`, `spnego:krb5`, `spnego:http`. Enabled by DEBUG=spnego*
// (the `debug` package's syntax: comma/space separated patterns, `*` wildcards, `-` to exclude)
// or NODE_DEBUG=spnego, or by passing a `logger`. Callers must never pass keys, passwords or
// whole tokens: use `describeBytes` for tokens.
import { sha256 } from '@noble/hashes/sha2.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** What users may pass as `logger`: console-like. */
export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info?(message: string, ...args: unknown[]): void;
  warn?(message: string, ...args: unknown[]): void;
  error?(message: string, ...args: unknown[]): void;
}

export interface NamespacedLog {
  readonly enabled: boolean;
  /** A function message is only evaluated when the namespace is enabled (for costly details). */
  (message: string | (() => string)): void;
}

function patternMatches(pattern: string, ns: string): boolean {
  // Linear wildcard match without regex: split on '*' and find the parts in order.
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === ns;
  let pos = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (i === 0) {
      if (!ns.startsWith(part)) return false;
      pos = part.length;
      continue;
    }
    if (i === parts.length - 1 && part !== '') return ns.length - part.length >= pos && ns.endsWith(part);
    const at = ns.indexOf(part, pos);
    if (at < 0) return false;
    pos = at + part.length;
  }
  return true;
}

/** Whether DEBUG / NODE_DEBUG enable a namespace (exported for tests). */
export function debugEnabled(ns: string, debug: string | undefined, nodeDebug: string | undefined): boolean {
  if (nodeDebug?.split(/[\s,]+/).some((p) => p.toLowerCase() === 'spnego')) return true;
  if (!debug) return false;
  let on = false;
  for (const raw of debug.split(/[\s,]+/)) {
    if (raw === '') continue;
    if (raw.startsWith('-')) {
      if (patternMatches(raw.slice(1), ns)) return false;
    } else if (patternMatches(raw, ns)) on = true;
  }
  return on;
}

// Contexts are created per request: remember the answer for the current DEBUG/NODE_DEBUG values.
const enabledCache = new Map<string, boolean>();
function envEnabled(ns: string, debug: string | undefined, nodeDebug: string | undefined): boolean {
  const key = `${ns}\0${debug ?? ''}\0${nodeDebug ?? ''}`;
  let on = enabledCache.get(key);
  if (on === undefined) {
    on = debugEnabled(ns, debug, nodeDebug);
    if (enabledCache.size > 256) enabledCache.clear();
    enabledCache.set(key, on);
  }
  return on;
}

/** Creates a logger for `ns`. With a user `logger`, messages go to its `debug` prefixed by ns. */
export function createLog(ns: string, logger?: Logger): NamespacedLog {
  const env = typeof process === 'undefined' ? undefined : process.env;
  const enabled = logger !== undefined || envEnabled(ns, env?.DEBUG, env?.NODE_DEBUG);
  const fn = ((message: string | (() => string)) => {
    if (!enabled) return;
    const text = typeof message === 'function' ? message() : message;
    if (logger) logger.debug(`${ns} ${text}`);
    else process.stderr.write(`${new Date().toISOString()} ${ns} ${text}\n`);
  }) as NamespacedLog;
  Object.defineProperty(fn, 'enabled', { value: enabled });
  return fn;
}

/**
 * A warning, shown whether or not debug logging is on (as Python's logging shows warnings by
 * default): to the user's `logger.warn` (its `debug` when it has none), else to stderr.
 */
export function createWarn(ns: string, logger?: Logger): (message: string) => void {
  return (message) => {
    if (logger) (logger.warn ?? logger.debug).call(logger, `${ns} ${message}`);
    else if (typeof process !== 'undefined' && process.stderr)
      process.stderr.write(`${new Date().toISOString()} ${ns} warning: ${message}\n`);
    else globalThis.console?.warn(`${ns} warning: ${message}`);
  };
}

/** A token or key-free blob described by length and a short hash, never its content. */
export function describeBytes(bytes: Uint8Array): string {
  const h = sha256(bytes);
  let hex = '';
  for (let i = 0; i < 4; i++) hex += (h[i] ?? 0).toString(16).padStart(2, '0');
  return `${bytes.length} bytes, sha256:${hex}`;
}
