// `spnego kdestroy [-c CCACHE] [-A] [-q]`: removes a cache (a FILE, or the primary member of
// a DIR: collection; -A every member). Like MIT, a missing cache is reported but not a failure.
import { listCcacheCollection, openCcache } from '../ccache/store.js';
import { SpnegoError } from '../errors.js';
import { type CliIo, cliCcacheName, cliStoreOptions } from './ccache-name.js';
import { getopt } from './getopt.js';

const USAGE = 'usage: spnego kdestroy [-c CCACHE] [-A] [-q]\n';

export async function kdestroyCommand(argv: string[], io: CliIo): Promise<number> {
  let cacheArg: string | undefined;
  let all = false;
  let quiet = false;
  const usageError = (message: string): number => {
    io.stderr(`spnego kdestroy: ${message}\n${USAGE}`);
    return 2;
  };
  const r = getopt(argv, { flags: 'Aqh', withValue: 'c', long: { help: false } });
  if (!r.ok) return usageError(r.message);
  for (const { name, value } of r.opts) {
    if (name === '-c') cacheArg = value;
    else if (name === '-A') all = true;
    else if (name === '-q') quiet = true;
    else {
      io.stdout(USAGE);
      return 0;
    }
  }
  if (r.operands.length > 0) return usageError(`extra argument '${r.operands[0]}'`);
  try {
    const name = await cliCcacheName(cacheArg, io);
    const opts = await cliStoreOptions(name, io);
    const stores = all ? await listCcacheCollection(name, opts) : [await openCcache(name, opts)];
    let removed = 0;
    for (const s of stores) if (await s.destroy()) removed++;
    if (removed === 0 && !quiet) io.stderr(`spnego kdestroy: no credentials cache found at ${name}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof SpnegoError)) throw e;
    io.stderr(`spnego kdestroy: ${e.message}${e.hint === undefined ? '' : `\nhint: ${e.hint}`}\n`);
    return 1;
  }
}
