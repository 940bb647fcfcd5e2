// src/ccache: MIT credential stores (FILE/DIR/MEMORY/KCM ccaches, keytabs) and principal text.
export type { Ccache, CcacheCredential, CcacheHeader, CcacheHeaderField, KdcOffset } from './ccache.js';
export {
  CONFIG_DATA_NAME,
  CONFIG_REALM,
  configEntryKey,
  isConfigEntry,
  newCcache,
  parseCcache,
  readCcache,
  serializeCcache,
  writeCcache,
} from './ccache.js';
export { flagLetters, TicketFlag } from './flags.js';
export type { KcmOptions } from './kcm-store.js';
export type { Keytab, KeytabEntry, KeytabQuery } from './keytab.js';
export {
  findKeytabEntry,
  parseKeytab,
  readKeytab,
  requireKeytabEntry,
  serializeKeytab,
  writeKeytab,
} from './keytab.js';
export type { KlistJson, KlistJsonCredential, KlistTextOptions } from './klist-format.js';
export { klistJson, klistText, klistTime } from './klist-format.js';
export type { Principal } from './principal-text.js';
export { parsePrincipal, principalsEqual, unparsePrincipal, unparsePrincipalName } from './principal-text.js';
export type { CcacheName, CcacheType, ExpansionContext, ResolveOptions } from './resolve.js';
export {
  BUILTIN_DEFAULT_CCACHE_NAME,
  defaultCcacheName,
  expandCcacheParameters,
  parseCcacheName,
} from './resolve.js';
export type { CcacheStore, StoreOptions } from './store.js';
export {
  ccacheForNewPrincipal,
  describeCcache,
  findCcacheForPrincipal,
  listCcacheCollection,
  openCcache,
  openDefaultCcache,
  switchPrimary,
} from './store.js';
export type { TicketSummary } from './ticket-etype.js';
export { summarizeTicket, ticketEnctype } from './ticket-etype.js';
