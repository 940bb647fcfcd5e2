// `spnego klist [-c CCACHE] [--json] [-C] [-s]`: the credentials in a cache, laid out as MIT
// `klist -ef` (flags and enctypes always shown), or as JSON for scripts.
import { isConfigEntry } from '../ccache/ccache.js';
import { klistJson, klistText } from '../ccache/klist-format.js';
import { openCcache } from '../ccache/store.js';
import { SpnegoError } from '../errors.js';
import { systemClock } from '../runtime/env.js';
import { type CliIo, cliCcacheName, takeOption } from './ccache-name.js';

const USAGE = 'usage: spnego klist [-c CCACHE] [--json] [-C] [-s]\n';

export async function klistCommand(argv: string[], io: CliIo): Promise<number> {
  let cacheArg: string | undefined;
  let json = false;
  let showConfig = false;
  let silent = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-c') {
      cacheArg = takeOption(argv, i++, io, USAGE);
      if (cacheArg === undefined) return 2;
    } else if (a === '--json') json = true;
    else if (a === '-C') showConfig = true;
    else if (a === '-s') silent = true;
    else if (a === '-e' || a === '-f' || a === '-ef' || a === '-fe') {
      // Accepted for MIT muscle memory: flags and enctypes are always shown.
    } else if (a === '-h' || a === '--help') {
      io.stdout(USAGE);
      return 0;
    } else if (a !== undefined && !a.startsWith('-') && cacheArg === undefined) cacheArg = a;
    else {
      io.stderr(`spnego klist: unknown option '${a}'\n${USAGE}`);
      return 2;
    }
  }
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
