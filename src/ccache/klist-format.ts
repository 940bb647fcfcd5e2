// What `spnego klist` prints: text laid out like MIT `klist -ef [-C]`, and the JSON shape of
// ARCHITECTURE.md. Pure functions over a parsed Ccache, so tests need no files or clock.
import { enctypeDisplayName, enctypeName } from '../crypto/index.js';
import { type Ccache, type CcacheCredential, configEntryKey, isConfigEntry } from './ccache.js';
import { flagLetters } from './flags.js';
import { principalsEqual, unparsePrincipal } from './principal-text.js';
import { summarizeTicket } from './ticket-etype.js';

export interface KlistJsonCredential {
  client: string;
  server: string;
  /** Session key enctype (MIT name); null for config entries, which carry no key. */
  enctype: string | null;
  startTime: string | null;
  endTime: string | null;
  renewTill: string | null;
  flags: string;
}

export interface KlistJson {
  defaultPrincipal: string;
  credentials: KlistJsonCredential[];
}

/** Kerberos times are whole seconds: ISO 8601 without the always-zero milliseconds. */
function isoTime(seconds: number): string | null {
  return seconds === 0 ? null : new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** MIT shows authtime when there is no separate starttime. */
function effectiveStart(c: CcacheCredential): number {
  return c.startTime !== 0 ? c.startTime : c.authTime;
}

export function klistJson(c: Ccache): KlistJson {
  return {
    defaultPrincipal: unparsePrincipal(c.defaultPrincipal),
    credentials: c.credentials.map((cred) => ({
      client: unparsePrincipal(cred.client),
      server: unparsePrincipal(cred.server),
      enctype: cred.key.keytype === 0 && isConfigEntry(cred) ? null : enctypeName(cred.key.keytype),
      startTime: isoTime(effectiveStart(cred)),
      endTime: isoTime(cred.endTime),
      renewTill: isoTime(cred.renewTill),
      flags: flagLetters(cred.flags),
    })),
  };
}

const two = (n: number): string => String(n).padStart(2, '0');

/** `11/28/26 12:18:35` in the local time zone, as MIT klist prints in the C locale. */
export function klistTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  return `${two(d.getMonth() + 1)}/${two(d.getDate())}/${two(d.getFullYear() % 100)} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

const TIME_WIDTH = 17;

/** Printable ASCII as is, other bytes in octal, so a binary config value cannot garble a terminal. */
function configValue(v: Uint8Array): string {
  let out = '';
  for (const b of v)
    out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`;
  return out;
}

export interface KlistTextOptions {
  /** Ticket cache name as shown on the first line, e.g. `FILE:/tmp/krb5cc_1000`. */
  cacheName: string;
  /** Show configuration entries (MIT klist -C). */
  showConfig?: boolean;
}

export function klistText(c: Ccache, opts: KlistTextOptions): string {
  const lines: string[] = [
    `Ticket cache: ${opts.cacheName}`,
    `Default principal: ${unparsePrincipal(c.defaultPrincipal)}`,
    '',
    `${'Valid starting'.padEnd(TIME_WIDTH)}  ${'Expires'.padEnd(TIME_WIDTH)}  Service principal`,
  ];
  let out = `${lines.join('\n')}\n`;
  for (const cred of c.credentials) {
    if (isConfigEntry(cred)) {
      if (opts.showConfig !== true) continue;
      const k = configEntryKey(cred);
      const target = k?.principal === undefined ? '' : `(${k.principal})`;
      out += `config: ${k?.key ?? ''}${target} = ${configValue(cred.ticket)}\n`;
      continue;
    }
    out += credentialText(cred);
  }
  return out;
}

function credentialText(cred: CcacheCredential): string {
  let out = `${klistTime(effectiveStart(cred))}  ${klistTime(cred.endTime)}  ${unparsePrincipal(cred.server)}\n`;
  // MIT puts up to two extra fields on the first continuation line, then wraps.
  let fields = 0;
  const add = (s: string): void => {
    out += fields === 0 ? `\t${s}` : `, ${s}`;
    fields++;
  };
  // MIT shows renew_till whenever it is set, whatever the RENEWABLE flag says.
  if (cred.renewTill !== 0) add(`renew until ${klistTime(cred.renewTill)}`);
  const letters = flagLetters(cred.flags);
  if (letters !== '') add(`Flags: ${letters}`);
  if (fields > 1) {
    out += '\n';
    fields = 0;
  }
  const tkt = summarizeTicket(cred.ticket);
  if (tkt !== undefined) {
    add(`Etype (skey, tkt): ${enctypeDisplayName(cred.key.keytype)}, ${enctypeDisplayName(tkt.etype)} `);
  }
  if (fields > 0) out += '\n';
  // A referral or renamed service: the ticket names a different server than the entry.
  if (tkt?.server !== undefined && !principalsEqual(tkt.server, cred.server)) {
    out += `\tTicket server: ${unparsePrincipal(tkt.server)}\n`;
  }
  return out;
}
