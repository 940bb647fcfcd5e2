// Node built-ins, loaded when first used rather than imported at the top of a module: the client
// path then loads where they are absent (Cloudflare Workers, Vercel Edge Functions) and fails
// only when a feature needs one, with an Error whose `code` is `PLATFORM_UNSUPPORTED` (the krb5
// layer turns it into its typed errors). `process.getBuiltinModule` is synchronous and present on
// Node >= 20.16, Bun and Deno, so sync callers (env, clock) keep their shape.

type GetBuiltin = (name: string) => unknown;

export function builtin<T>(name: string): T {
  const get = (globalThis as { process?: { getBuiltinModule?: GetBuiltin } }).process?.getBuiltinModule;
  const m = typeof get === 'function' ? get(name) : undefined;
  if (m === undefined || m === null) {
    const e = new Error(
      `${name} is not available on this platform (an edge runtime without Node built-ins?)`,
    ) as Error & { code: string };
    e.code = 'PLATFORM_UNSUPPORTED';
    throw e;
  }
  return m as T;
}

/** True when `e` says a Node built-in is missing here. */
export function isPlatformUnsupported(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'PLATFORM_UNSUPPORTED';
}

/** Whether Node built-ins can be loaded at all on this platform. */
export function hasBuiltins(): boolean {
  const get = (globalThis as { process?: { getBuiltinModule?: GetBuiltin } }).process?.getBuiltinModule;
  return typeof get === 'function';
}
