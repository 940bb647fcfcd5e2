// The TGS path from the client's realm to a service's: referrals (RFC 6806 §8) when the realm
// is the KDC's to find, else [capaths] or the realm hierarchy (RFC 4120 §1.2), one cross-realm
// TGT at a time. Each step is a TGS exchange the session runs; the path logic lives here.
import type { CcacheCredential } from '../../ccache/ccache.js';
import { type Principal, unparsePrincipal } from '../../ccache/principal-text.js';
import { KerberosError } from '../../errors.js';
import type { Krb5Config } from '../config.js';
import type { KdcReply } from '../kdc-reply.js';
import { type TgsRequestOptions, type TgtCredential, tgsRealmOf } from '../tgs.js';
import { tgsPrincipal } from '../tgs-principal.js';
import { isTgsName, tgtOfCred, tgtOfReply } from './tickets.js';

const MAX_REFERRALS = 10;

/** What the path walk needs of the credentials it runs for. */
export interface TgsSession {
  readonly principal: Principal;
  readonly config: Krb5Config;
  primaryTgt(): Promise<TgtCredential>;
  findTgt(realm: string, issuer: string): CcacheCredential | undefined;
  isValid(c: CcacheCredential): boolean;
  tgsExchange(opts: TgsRequestOptions, allowReferral?: boolean, alternateTgt?: boolean): Promise<KdcReply>;
  /** Keeps a TGT obtained on the way (in memory; written back with the next service ticket). */
  rememberReply(reply: KdcReply): void;
  tgsEtypes(): number[];
  requestedTill(): Date;
  log(message: string): void;
}

/**
 * TGS-REQ in the client realm; a krbtgt/OTHER@THIS answer is a referral (RFC 6806 §8): keep
 * the cross-realm TGT and ask OTHER, at most MAX_REFERRALS hops and never the same realm twice.
 * Without referral support, walk [capaths] or the realm hierarchy to the service realm.
 */
export async function requestWithReferrals(
  s: TgsSession,
  server: Principal,
  referral: boolean,
): Promise<KdcReply> {
  let tgt = await s.primaryTgt();
  const seen = new Set<string>([tgsRealmOf(tgt)]);
  const till = s.requestedTill();
  const targetRealm = server.realm;
  if (!referral && targetRealm !== s.principal.realm) {
    tgt = await crossRealmTgt(s, targetRealm);
  }
  for (let hop = 0; hop <= MAX_REFERRALS; hop++) {
    const reply = await s.tgsExchange(
      {
        tgt,
        server: { realm: tgsRealmOf(tgt), name: server.name },
        etypes: s.tgsEtypes(),
        till,
        canonicalize: true,
        forwardable: s.config.libdefaults.forwardable,
      },
      true,
    );
    const isReferralReply = isTgsName(reply.server) && !isTgsName(server);
    if (!isReferralReply) return reply;
    const next = reply.server.name.nameString[1] as string;
    if (reply.server.realm !== tgsRealmOf(tgt)) {
      throw new KerberosError(
        41,
        'KRB_AP_ERR_MODIFIED',
        `referral ${unparsePrincipal(reply.server)} was not issued by realm ${tgsRealmOf(tgt)}`,
      );
    }
    if (seen.has(next)) {
      throw new KerberosError(
        28,
        'KDC_ERR_PATH_NOT_ACCEPTED',
        `referral loop for ${unparsePrincipal(server)} (realm ${next} seen twice)`,
      );
    }
    seen.add(next);
    s.log(`referral to realm ${next}`);
    s.rememberReply(reply);
    tgt = tgtOfReply(reply);
  }
  throw new KerberosError(
    28,
    'KDC_ERR_PATH_NOT_ACCEPTED',
    `too many referrals for ${unparsePrincipal(server)}`,
  );
}

/**
 * A TGT for `realm`: cached, else along [capaths] or the hierarchical path (RFC 4120 §1.2). As
 * MIT's get_creds does, each step asks for the farthest realm of the path first (a direct or
 * shortcut trust), then nearer ones when the KDC has no such krbtgt; a KDC may also answer with
 * a TGT for a nearer realm of the path, which is taken as the next step.
 */
export async function crossRealmTgt(s: TgsSession, realm: string): Promise<TgtCredential> {
  const home = s.principal.realm;
  const direct = s.findTgt(realm, home);
  if (direct && s.isValid(direct)) return tgtOfCred(direct);
  const path = [home, ...realmPath(s.config, home, realm)];
  let tgt = await s.primaryTgt();
  let cur = 0;
  while (cur < path.length - 1) {
    const at = path[cur] as string;
    let reached = -1;
    let refused: unknown;
    for (let next = path.length - 1; next > cur && reached < 0; next--) {
      const target = path[next] as string;
      const cached = s.findTgt(target, at);
      if (cached && s.isValid(cached)) {
        tgt = tgtOfCred(cached);
        reached = next;
        break;
      }
      let reply: KdcReply;
      try {
        reply = await s.tgsExchange(
          { tgt, server: tgsPrincipal(target, at), etypes: s.tgsEtypes(), till: s.requestedTill() },
          false,
          true,
        );
      } catch (e) {
        // The KDC has no krbtgt for that realm: try a nearer one. Anything else ends the walk.
        if (e instanceof KerberosError && e.errorCode === 7 && next > cur + 1) {
          refused = e;
          continue;
        }
        throw e;
      }
      const gotRealm = isTgsName(reply.server) ? (reply.server.name.nameString[1] as string) : undefined;
      const got = gotRealm === undefined ? -1 : path.indexOf(gotRealm);
      if (reply.server.realm === at && gotRealm !== undefined && got < 0 && gotRealm !== home) {
        // Off our path: the KDC knows a route we do not (its own [capaths]). Follow it, as MIT does.
        s.log(`cross-realm TGT for ${gotRealm}, off the path to ${realm}; following it`);
        s.rememberReply(reply);
        return followOffPath(
          s,
          tgtOfReply(reply),
          realm,
          new Set([home, ...path.slice(0, cur + 1), gotRealm]),
        );
      }
      if (reply.server.realm !== at || got <= cur || got > next) {
        throw new KerberosError(
          41,
          'KRB_AP_ERR_MODIFIED',
          `cross-realm TGS of ${at} answered ${unparsePrincipal(reply.server)}, not a TGT along the path to ${realm}`,
        );
      }
      s.rememberReply(reply);
      tgt = tgtOfReply(reply);
      reached = got;
    }
    if (reached < 0) throw refused;
    cur = reached;
  }
  return tgt;
}

/**
 * MIT's off-path chase (get_creds.c STATE_GET_TGT_OFFPATH): holding a TGT for a realm off our
 * path, ask that realm's KDC for the target realm's TGT; each answer must be a TGT issued by the
 * KDC asked, for a realm not seen before, and after MAX_REFERRALS hops we give up.
 */
async function followOffPath(
  s: TgsSession,
  first: TgtCredential,
  realm: string,
  seen: Set<string>,
): Promise<TgtCredential> {
  let tgt = first;
  for (let hop = 1; ; hop++) {
    const at = tgsRealmOf(tgt);
    const reply = await s.tgsExchange(
      { tgt, server: tgsPrincipal(realm, at), etypes: s.tgsEtypes(), till: s.requestedTill() },
      false,
      true,
    );
    const next = isTgsName(reply.server) ? (reply.server.name.nameString[1] as string) : undefined;
    if (reply.server.realm !== at || next === undefined) {
      throw new KerberosError(
        41,
        'KRB_AP_ERR_MODIFIED',
        `cross-realm TGS of ${at} answered ${unparsePrincipal(reply.server)}, not a TGT`,
      );
    }
    s.rememberReply(reply);
    if (next === realm) return tgtOfReply(reply);
    if (seen.has(next) || hop >= MAX_REFERRALS) {
      throw new KerberosError(
        28,
        'KDC_ERR_PATH_NOT_ACCEPTED',
        `no cross-realm path to ${realm}: ${seen.has(next) ? `realm ${next} seen twice` : `more than ${MAX_REFERRALS} off-path hops`}`,
        { hint: 'check [capaths] on the KDCs (and in krb5.conf) for a route to the realm' },
      );
    }
    seen.add(next);
    s.log(`off-path cross-realm TGT for ${next}; asking it for ${realm}`);
    tgt = tgtOfReply(reply);
  }
}

/** Intermediate realms from `from` to `to`: [capaths] when configured, else the DNS-style hierarchy. */
export function realmPath(config: Krb5Config, from: string, to: string): string[] {
  const cap = config.capaths.get(from)?.get(to);
  if (cap) return [...cap.filter((r) => r !== '.'), to];
  // Hierarchical: up from `from` to the common suffix, then down to `to`.
  const a = from.split('.');
  const b = to.split('.');
  let common = 0;
  while (common < a.length && common < b.length && a[a.length - 1 - common] === b[b.length - 1 - common])
    common++;
  // Up through the client realm's parents to the common ancestor (included, as MIT's
  // walk_rtree does: A.EXAMPLE.COM → EXAMPLE.COM → B.EXAMPLE.COM), then down to `to`.
  const up: string[] = [];
  for (let i = 1; i <= a.length - common; i++) up.push(a.slice(i).join('.'));
  const down: string[] = [];
  for (let i = b.length - common - 1; i >= 1; i--) down.push(b.slice(i).join('.'));
  const path = [...up, ...down, to];
  return path.filter((r, i) => r !== '' && r !== from && path.indexOf(r) === i);
}
