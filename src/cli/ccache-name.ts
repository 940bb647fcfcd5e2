// The cache a CLI command works on: -c, else KRB5CCNAME, else krb5.conf default_ccache_name,
// else MIT's built-in default. krb5.conf is only read when it can matter.
import { defaultCcacheName } from '../ccache/resolve.js';
import type { StoreOptions } from '../ccache/store.js';
import { loadConfig } from '../krb5/config-load.js';
import { getEnv } from '../runtime/env.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Environment lookup (KRB5CCNAME, KRB5_CONFIG); process environment when absent. */
  env?: (name: string) => string | undefined;
}

/** Store options (the KCM socket) for `name`; krb5.conf is only read for a KCM: name. */
export async function cliStoreOptions(name: string, io: CliIo): Promise<StoreOptions> {
  if (!name.startsWith('KCM:')) return {};
  const socketPath = (await loadConfig({ env: io.env ?? getEnv })).libdefaults.kcmSocket;
  return socketPath === undefined ? {} : { kcm: { socketPath } };
}

export async function cliCcacheName(explicit: string | undefined, io: CliIo): Promise<string> {
  if (explicit !== undefined) return explicit;
  const env = io.env ?? getEnv;
  if (env('KRB5CCNAME') !== undefined) return defaultCcacheName({ env });
  const config = await loadConfig({ env });
  return defaultCcacheName({ env, defaultCcacheName: config.libdefaults.defaultCcacheName });
}
