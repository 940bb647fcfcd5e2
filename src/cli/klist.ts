// `spnego klist [-c CCACHE] [--json] [-C] [-s]`: the credentials in a cache, laid out as MIT
// `klist -ef` (flags and enctypes always shown), or as JSON for scripts.
import { isConfigEntry } from '../ccache/ccache.js';
import { klistJson, klistText } from '../ccache/klist-format.js';
import { openCcache } from '../ccache/store.js';
import { SpnegoError } from '../errors.js';
import { systemClock } from '../runtime/env.js';
import { type CliIo, cliCcacheName } from './ccache-name.js';
import { getopt } from './getopt.js';

const USAGE = 'usage: spnego klist [-c CCACHE] [--json] [-C] [-s]\n';

export async function klistCommand(argv: string[], io: CliIo): Promise<number> {
  let cacheArg: string | undefined;
  let json = false;
  let showConfig = false;
  let silent = false;
  const usageError = (message: string): number => {
    io.stderr(`spnego klist: ${message}\n${USAGE}`);
    return 2;
  };
  const r = getopt(argv, { flags: 'Csefh', withValue: 'c', long: { json: false, help: false } });
  if (!r.ok) return usageError(r.message);
  for (const { name, value } of r.opts) {
    if (name === '-c') cacheArg = value;
    else if (name === '--json') json = true;
    else if (name === '-C') showConfig = true;
    else if (name === '-s') silent = true;
    else if (name === '-h' || name === '--help') {
      io.stdout(USAGE);
      return 0;
    }
    // -e, -f: accepted for MIT muscle memory: flags and enctypes are always shown.
  }
  // As MIT: the cache may also be named as the one operand.
  if (r.operands.length > (cacheArg === undefined ? 1 : 0))
    return usageError(`extra argument '${r.operands.at(-1)}'`);
  cacheArg ??= r.operands[0];
  try {
    const store = await openCcache(await cliCcacheName(cacheArg, io));
    const ccache = await store.read();
    if (silent) {
      // As MIT klist -s: success only when some ticket (not a config entry) is still valid.
      const now = Math.floor(systemClock.now() / 1000);
      return ccache.credentials.some((c) => !isConfigEntry(c) && c.endTime > now) ? 0 : 1;
    }
    if (json) io.stdout(`${JSON.stringify(klistJson(ccache), null, 2)}\n`);
    else io.stdout(klistText(ccache, { cacheName: store.name, showConfig }));
    return 0;
  } catch (e) {
    if (!(e instanceof SpnegoError)) throw e;
    if (!silent) io.stderr(`spnego klist: ${e.message}${e.hint === undefined ? '' : `\nhint: ${e.hint}`}\n`);
    return 1;
  }
}
