// `spnego kdestroy [-c CCACHE] [-A] [-q]`: removes a cache (a FILE, or the primary member of
// a DIR: collection; -A every member). Like MIT, a missing cache is reported but not a failure.
import { listCcacheCollection, openCcache } from '../ccache/store.js';
import { SpnegoError } from '../errors.js';
import { type CliIo, cliCcacheName, takeOption } from './ccache-name.js';

const USAGE = 'usage: spnego kdestroy [-c CCACHE] [-A] [-q]\n';

export async function kdestroyCommand(argv: string[], io: CliIo): Promise<number> {
  let cacheArg: string | undefined;
  let all = false;
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-c') {
      cacheArg = takeOption(argv, i++, io, USAGE);
      if (cacheArg === undefined) return 2;
    } else if (a === '-A') all = true;
    else if (a === '-q') quiet = true;
    else if (a === '-h' || a === '--help') {
      io.stdout(USAGE);
      return 0;
    } else {
      io.stderr(`spnego kdestroy: unknown option '${a}'\n${USAGE}`);
      return 2;
    }
  }
  try {
    const name = await cliCcacheName(cacheArg, io);
    const stores = all ? await listCcacheCollection(name) : [await openCcache(name)];
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
