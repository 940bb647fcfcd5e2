// `spnego klist [-c CCACHE] [--json] [-C] [-s] [-l] [-A]`: the credentials in a cache, laid out
// as MIT `klist -ef` (flags and enctypes always shown), or as JSON for scripts; `-l` lists the
// caches of the collection (principal and name, as MIT's table) and `-A` shows each of them.
import { type Ccache, isConfigEntry } from '../ccache/ccache.js';
import { klistJson, klistText } from '../ccache/klist-format.js';
import { unparsePrincipal } from '../ccache/principal-text.js';
import { type CcacheStore, listCcacheCollection, openCcache } from '../ccache/store.js';
import { SpnegoError } from '../errors.js';
import { systemClock } from '../runtime/env.js';
import { type CliIo, cliCcacheName, cliStoreOptions } from './ccache-name.js';
import { getopt } from './getopt.js';

const USAGE = 'usage: spnego klist [-c CCACHE] [--json] [-C] [-s] [-l | -A]\n';

export async function klistCommand(argv: string[], io: CliIo): Promise<number> {
  let cacheArg: string | undefined;
  let json = false;
  let showConfig = false;
  let silent = false;
  let listAll = false;
  let showAll = false;
  const usageError = (message: string): number => {
    io.stderr(`spnego klist: ${message}\n${USAGE}`);
    return 2;
  };
  const r = getopt(argv, { flags: 'CsefhlA', withValue: 'c', long: { json: false, help: false } });
  if (!r.ok) return usageError(r.message);
  for (const { name, value } of r.opts) {
    if (name === '-c') cacheArg = value;
    else if (name === '--json') json = true;
    else if (name === '-C') showConfig = true;
    else if (name === '-s') silent = true;
    else if (name === '-l') listAll = true;
    else if (name === '-A') showAll = true;
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
  if (listAll && (showAll || json)) return usageError('-l cannot be combined with -A or --json');
  try {
    const name = await cliCcacheName(cacheArg, io);
    const opts = await cliStoreOptions(name, io);
    if (listAll || showAll) {
      const stores = await listCcacheCollection(name, opts);
      return listAll
        ? listCollection(stores, io, silent)
        : showCollection(stores, io, { json, showConfig, silent });
    }
    const store = await openCcache(name, opts);
    const ccache = await store.read();
    if (silent) return current(ccache) ? 0 : 1;
    if (json) io.stdout(`${JSON.stringify(klistJson(ccache), null, 2)}\n`);
    else io.stdout(klistText(ccache, { cacheName: store.name, showConfig }));
    return 0;
  } catch (e) {
    if (!(e instanceof SpnegoError)) throw e;
    if (!silent) io.stderr(`spnego klist: ${e.message}${e.hint === undefined ? '' : `\nhint: ${e.hint}`}\n`);
    return 1;
  }
}

const isLocalTgt = (c: Ccache['credentials'][number], realm: string): boolean =>
  c.server.name.nameString.length === 2 &&
  c.server.name.nameString[0] === 'krbtgt' &&
  c.server.name.nameString[1] === realm &&
  c.server.realm === realm;

/**
 * As MIT's check_ccache: a cache with a TGT of its own realm is current when one such TGT is;
 * without one, when any ticket (not a config entry) is.
 */
function current(ccache: Ccache): boolean {
  const now = Math.floor(systemClock.now() / 1000);
  const realm = ccache.defaultPrincipal.realm;
  const tgts = ccache.credentials.filter((c) => isLocalTgt(c, realm));
  if (tgts.length > 0) return tgts.some((c) => c.endTime > now);
  return ccache.credentials.some((c) => !isConfigEntry(c) && c.endTime > now);
}

/** `klist -l`: MIT's table; exit 0 when at least one cache could be listed. */
async function listCollection(stores: CcacheStore[], io: CliIo, silent: boolean): Promise<number> {
  if (!silent)
    io.stdout(`${'Principal name'.padEnd(30)} Cache name\n${'--------------'.padEnd(30)} ----------\n`);
  let status = 1;
  for (const store of stores) {
    // An uninitialized or unreadable member is skipped, as MIT's list_ccache does.
    const ccache = await store.readIfExists().catch(() => undefined);
    if (ccache === undefined) continue;
    status = 0;
    if (silent) continue;
    const princ = unparsePrincipal(ccache.defaultPrincipal).slice(0, 30).padEnd(30);
    io.stdout(`${princ} ${store.name}${current(ccache) ? '' : ' (Expired)'}\n`);
  }
  return status;
}

/** `klist -A`: every cache of the collection in full, separated by blank lines. */
async function showCollection(
  stores: CcacheStore[],
  io: CliIo,
  o: { json: boolean; showConfig: boolean; silent: boolean },
): Promise<number> {
  let status = 1;
  const all: unknown[] = [];
  let first = true;
  for (const store of stores) {
    const ccache = await store.readIfExists().catch(() => undefined);
    if (ccache === undefined) continue;
    // As MIT: with -s, success needs a current cache; otherwise one that could be shown.
    if (!o.silent || current(ccache)) status = 0;
    if (o.silent) continue;
    if (o.json) all.push({ cacheName: store.name, ...klistJson(ccache) });
    else {
      if (!first) io.stdout('\n');
      io.stdout(klistText(ccache, { cacheName: store.name, showConfig: o.showConfig }));
    }
    first = false;
  }
  if (o.json && !o.silent) io.stdout(`${JSON.stringify(all, null, 2)}\n`);
  return status;
}
