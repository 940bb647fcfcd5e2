// The transited field of a cross-realm ticket (RFC 4120 §3.3.3.2, §2.7). Every KDC along a
// cross-realm path adds the realm it heard from; a service must not trust a ticket whose path
// ran through realms it has no reason to trust, unless the KDC said it checked the path
// (TRANSITED-POLICY-CHECKED). As MIT's acceptor (rd_req_dec.c → krb5_check_transited_list): a
// ticket without that flag and with a non-empty list is accepted only when every realm named is
// on the path between the client's realm and the service's — from [capaths] when it has an entry
// for the pair, else the DNS-style realm hierarchy (walk_rtree.c).
import { TicketFlag } from '../../ccache/flags.js';
import { KerberosError } from '../../errors.js';

const TRANSITED_POLICY_CHECKED = TicketFlag.TRANSITED_POLICY_CHECKED;

/** DOMAIN-X500-COMPRESS, the only transited encoding defined (RFC 4120 §3.3.3.2). */
export const TR_DOMAIN_X500_COMPRESS = 1;
/** MIT's limit on one expanded realm name; longer is refused as an illegal cross-realm ticket. */
const MAX_REALM = 512;
/** Bound on the realms one list may expand to (a path is a handful; this keeps the work linear). */
const MAX_REALMS = 256;
const ANONYMOUS_REALM = 'WELLKNOWN:ANONYMOUS';

/** krb5.conf [capaths]: client realm → server realm → intermediate realms ("." = direct). */
export type Capaths = ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;

/** Whether the transited field needs checking here: non-empty and not checked by the KDC. */
export function needsTransitCheck(transited: { contents: Uint8Array }, ticketFlags: number): boolean {
  const b = transited.contents;
  return (ticketFlags & TRANSITED_POLICY_CHECKED) === 0 && b.length > 0 && b[0] !== 0;
}

/** KRB_AP_ERR_ILL_CR_TKT (MIT's code 43): an illegal cross-realm ticket. */
export const KRB_AP_ERR_ILL_CR_TKT = 43;

function illegal(message: string): KerberosError {
  return new KerberosError(KRB_AP_ERR_ILL_CR_TKT, 'KRB_AP_ERR_ILL_CR_TKT', message, {
    hint: 'the ticket came through a realm outside the path configured in [capaths] (or the realm hierarchy) for this client realm; fix [capaths] on this server or have the KDC check the path',
  });
}

/**
 * The realms strictly between `a` and `b` when one is a suffix (domain style) or prefix (X.500
 * style) of the other — what an empty component of the list stands for (RFC 4120 §3.3.3.2).
 */
function between(a: string, b: string, out: string[]): void {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  if (short.length === long.length) {
    if (short !== long) throw illegal(`transited path: no hierarchy between ${a} and ${b}`);
    return;
  }
  if (short.length === 0) throw illegal('transited path: an empty realm name');
  if (short.startsWith('/')) {
    if (!long.startsWith('/') || !long.startsWith(short))
      throw illegal(`transited path: ${a} and ${b} are not in one X.500 hierarchy`);
    for (let i = short.length + 1; i < long.length; i++) if (long[i] === '/') out.push(long.slice(0, i));
    return;
  }
  if (long.startsWith('/') || !long.endsWith(short))
    throw illegal(`transited path: ${a} and ${b} are not in one domain hierarchy`);
  for (let i = long.length - short.length - 1; i > 0; i--) if (long[i - 1] === '.') out.push(long.slice(i));
}

/**
 * Expands a DOMAIN-X500-COMPRESS list into the realms it names: `,` separates names, a name
 * ending in `.` is completed by the previous one (domain style), one starting with `/` is
 * prefixed by it (X.500 style), an empty name stands for every realm between its neighbours
 * (the client realm before the first, the server realm after the last), a leading space makes a
 * name stand alone, and `\` quotes the next character.
 */
export function expandTransited(contents: string, clientRealm: string, serverRealm: string): string[] {
  const out: string[] = [];
  let text = contents;
  if (text.endsWith('\0')) text = text.slice(0, -1);
  if (text === '') return out;
  let last = '';
  let cur = '';
  let literal = false;
  let pendingBetween = false;
  const push = (r: string): void => {
    if (out.length >= MAX_REALMS) throw illegal('transited path names too many realms');
    out.push(r);
  };
  const finish = (atStart: boolean): void => {
    let name = cur;
    if (name.startsWith('/')) name = last + name;
    else if (name.endsWith('.')) name = name + last;
    if (name.length > MAX_REALM) throw illegal('transited path: a realm name is too long');
    push(name);
    if (pendingBetween) {
      const tmp: string[] = [];
      between(name, atStart ? clientRealm : last, tmp);
      for (const r of tmp) push(r);
    }
    pendingBetween = false;
    last = name;
    cur = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (literal) {
      cur += ch;
      literal = false;
    } else if (ch === '\\') {
      literal = true;
    } else if (ch === ',') {
      if (cur !== '') finish(false);
      else {
        pendingBetween = true;
        if (i === 0) last = clientRealm;
      }
    } else if (ch === ' ' && cur === '') {
      last = '';
    } else {
      cur += ch;
    }
    if (cur.length > MAX_REALM) throw illegal('transited path: a realm name is too long');
  }
  if (cur === '') {
    // A trailing comma: every realm between the last one named and the server's realm.
    const tmp: string[] = [];
    between(last, serverRealm, tmp);
    for (const r of tmp) push(r);
  } else finish(false);
  return out;
}

/**
 * The realms a cross-realm path from `client` to `server` may run through (the realms that
 * issue the cross-realm TGTs): [capaths] when it lists the pair, else up the client realm's
 * hierarchy to the common suffix and down towards the server realm, as MIT's walk_rtree.c.
 */
export function trustedPathRealms(client: string, server: string, capaths: Capaths | undefined): Set<string> {
  const cap = capaths?.get(client)?.get(server);
  if (cap && cap.length > 0) {
    const set = new Set([client]);
    if (cap[0] !== '.') for (const v of cap) set.add(v.split(/[\t ]/, 1)[0] ?? v);
    return set;
  }
  const c = client.split('.');
  const s = server.split('.');
  let common = 0;
  while (common < c.length && common < s.length && c[c.length - 1 - common] === s[s.length - 1 - common])
    common++;
  // Client realm and its parents down to the common suffix (included); then the server realm's
  // parents below it, nearest the suffix first, and the server realm itself.
  const path: string[] = [];
  const cStop = common === 0 ? c.length - 1 : c.length - common;
  for (let i = 0; i <= cStop; i++) path.push(c.slice(i).join('.'));
  const sStart = common === 0 ? s.length - 1 : s.length - common - 1;
  for (let i = sStart; i >= 0; i--) path.push(s.slice(i).join('.'));
  // Each cross-realm TGT on the path is issued by the realm before it: all but the last (the server's).
  const set = new Set([client]);
  for (const r of path.slice(0, -1)) if (r !== '') set.add(r);
  return set;
}

/**
 * Checks a ticket's transited field as MIT's acceptor does. Throws KRB_AP_ERR_ILL_CR_TKT when
 * the KDC did not check the path and it names a realm outside the trusted path (or cannot be
 * read, or is of an unknown encoding).
 */
export function checkTransited(
  transited: { trType: number; contents: Uint8Array },
  clientRealm: string,
  serverRealm: string,
  policyChecked: boolean,
  capaths: Capaths | undefined,
): void {
  const bytes = transited.contents;
  if (policyChecked || bytes.length === 0 || bytes[0] === 0) return;
  if (clientRealm === ANONYMOUS_REALM) return;
  if (transited.trType !== TR_DOMAIN_X500_COMPRESS)
    throw illegal(`the ticket's transited field has the unknown encoding ${transited.trType}`);
  if (clientRealm === serverRealm)
    throw illegal(`a ticket of realm ${clientRealm} for the same realm names transited realms`);
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  const allowed = trustedPathRealms(clientRealm, serverRealm, capaths);
  for (const realm of expandTransited(text, clientRealm, serverRealm)) {
    if (!allowed.has(realm))
      throw illegal(
        `the ticket of a ${clientRealm} client came through ${JSON.stringify(realm)}, which is not on the path from ${clientRealm} to ${serverRealm}`,
      );
  }
}
