// What `spnego klist` prints: text laid out like MIT `klist -ef [-C]`, and the JSON shape of
// ARCHITECTURE.md. Pure functions over a parsed Ccache, so tests need no files or clock.
import { enctypeDisplayName, enctypeName } from '../crypto/index.js';
import { type Ccache, type CcacheCredential, isConfigEntry } from './ccache.js';
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

const utf8 = new TextEncoder();

const two = (n: number): string => String(n).padStart(2, '0');

/** `11/28/26 12:18:35` in the local time zone, as MIT klist prints in the C locale. */
export function klistTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  return `${two(d.getMonth() + 1)}/${two(d.getDate())}/${two(d.getFullYear() % 100)} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

const TIME_WIDTH = 17;

/**
 * A config value as MIT klist's print_config_data: bytes 0x21-0x7e as is, others (space
 * included) in octal, wrapped after column 72 with an 8-space indent. `col` is where it starts.
 */
function configValue(v: Uint8Array, col: number): string {
  let out = '';
  for (const b of v) {
    if (col < 8) {
      out += ' '.repeat(8 - col);
      col = 8;
    }
    const s = b > 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`;
    out += s;
    col += s.length;
    if (col > 72) {
      out += '\n';
      col = 0;
    }
  }
  return col > 0 ? `${out}\n` : out;
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
  const defname = unparsePrincipal(c.defaultPrincipal);
  for (const cred of c.credentials) {
    if (isConfigEntry(cred) && opts.showConfig !== true) continue;
    out += credentialText(cred, defname);
  }
  return out;
}

// Laid out as MIT klist's show_credential: up to two extra fields on the first continuation
// line (renew_till counts double), then a wrap; `for client` when the entry's client is not
// the default principal (S4U, a canonicalized client); config entries on one `config:` line.
function credentialText(cred: CcacheCredential, defname: string): string {
  const isConfig = isConfigEntry(cred);
  let out = '';
  let ccol = 0;
  if (!isConfig) {
    out += `${klistTime(effectiveStart(cred))}  ${klistTime(cred.endTime)}  ${unparsePrincipal(cred.server)}\n`;
  } else {
    out += 'config: ';
    ccol = 8;
    cred.server.name.nameString.slice(1).forEach((comp, i) => {
      const s = i > 0 ? `(${comp})` : comp;
      out += s;
      ccol += utf8.encode(s).length;
    });
    out += ' = ';
    ccol += 3;
  }
  let fields = 0;
  const sep = (): string => (fields === 0 ? '\t' : ', ');
  const client = unparsePrincipal(cred.client);
  if (client !== defname) {
    out += `\tfor client ${client}`;
    fields++;
  }
  if (isConfig) out += configValue(cred.ticket, ccol);
  // MIT shows renew_till whenever it is set, whatever the RENEWABLE flag says.
  if (cred.renewTill !== 0) {
    out += `${sep()}renew until ${klistTime(cred.renewTill)}`;
    fields += 2;
  }
  const letters = flagLetters(cred.flags);
  if (letters !== '') {
    out += `${sep()}Flags: ${letters}`;
    fields++;
  }
  if (fields > 2) {
    out += '\n';
    fields = 0;
  }
  const tkt = isConfig ? undefined : summarizeTicket(cred.ticket);
  if (tkt !== undefined) {
    out += `${sep()}Etype (skey, tkt): ${enctypeDisplayName(cred.key.keytype)}, ${enctypeDisplayName(tkt.etype)} `;
    fields++;
  }
  if (fields > 0) out += '\n';
  // A referral or renamed service: the ticket names a different server than the entry.
  if (tkt?.server !== undefined && !principalsEqual(tkt.server, cred.server)) {
    out += `\tTicket server: ${unparsePrincipal(tkt.server)}\n`;
  }
  return out;
}
