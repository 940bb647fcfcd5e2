// `spnego kinit` options as MIT's kinit takes them, against MiniKdc: the flags and times asked
// (-l, -r, -f/-F, -p/-P), the initial ticket's service (-S), renewing the cache's TGT (-R), and
// RENEWABLE_OK by default (a TGT renewable up to the asked end when the KDC shortens it).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isConfigEntry, readCcache } from '../../src/ccache/ccache.js';
import { TicketFlag } from '../../src/ccache/flags.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { kinitCommand } from '../../src/cli/kinit.js';
import { KdcOption } from '../../src/krb5/kdc-reply.js';
import { MiniKdc } from '../../src/testing/index.js';

const REALM = 'KINIT.TEST';
const dir = mkdtempSync(join(tmpdir(), 'spnego-kinit-'));
let kdc: MiniKdc;
let n = 0;
const cache = (): string => join(dir, `cc-${++n}`);

before(async () => {
  kdc = await MiniKdc.start({
    realm: REALM,
    principals: [{ name: 'alice', password: 'pw' }, 'HTTP/web.kinit.test'],
    lifetime: 36_000,
  });
});
after(async () => {
  await kdc.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function kinit(argv: string[], libdefaults: Record<string, string> = {}) {
  let err = '';
  const code = await kinitCommand(argv, {
    stdout: () => undefined,
    stderr: (t) => {
      err += t;
    },
    env: () => undefined,
    config: kdc.clientConfig({
      libdefaults: { renew_lifetime: '0', ticket_lifetime: '86400', ...libdefaults },
    }),
    readPassword: async () => 'pw',
  });
  return { code, err };
}

async function only(path: string) {
  const creds = (await readCcache(path)).credentials.filter((c) => !isConfigEntry(c));
  assert.equal(creds.length, 1, creds.map((c) => unparsePrincipal(c.server)).join());
  return creds[0] as (typeof creds)[number];
}

const flagSet = (f: number) => ({
  F: (f & TicketFlag.FORWARDABLE) !== 0,
  P: (f & TicketFlag.PROXIABLE) !== 0,
  R: (f & TicketFlag.RENEWABLE) !== 0,
});

describe('spnego kinit options (MIT kinit parity, against MiniKdc)', () => {
  it('defaults: RENEWABLE_OK makes the TGT renewable when the KDC shortens 24h to 10h (FRI)', async () => {
    const cc = cache();
    assert.equal((await kinit(['-c', cc, 'alice'])).code, 0);
    const t = await only(cc);
    assert.deepEqual(flagSet(t.flags), { F: true, P: false, R: true });
    assert.ok(Math.abs(t.endTime - t.startTime - 36_000) <= 1);
    assert.ok(t.renewTill - t.startTime >= 86_399 && t.renewTill - t.startTime <= 86_400);
    const as = kdc.requests.filter((r) => r.type === 'AS-REQ').at(-1);
    assert.ok(as && (as.kdcOptions & KdcOption.RENEWABLE_OK) !== 0);
  });

  it('-l 1h: within the KDC limit, so not renewable; -r 2d: renewable for 2 days', async () => {
    const a = cache();
    assert.equal((await kinit(['-l', '1h', '-c', a, 'alice'])).code, 0);
    const ta = await only(a);
    // the client computes the end from its clock, the KDC the start from its own: a second may pass
    assert.ok(Math.abs(ta.endTime - ta.startTime - 3600) <= 1, `${ta.endTime - ta.startTime}`);
    assert.equal(flagSet(ta.flags).R, false);
    const b = cache();
    assert.equal((await kinit(['-l', '1h', '-r', '2d', '-c', b, 'alice'])).code, 0);
    const tb = await only(b);
    assert.equal(flagSet(tb.flags).R, true);
    assert.ok(Math.abs(tb.renewTill - tb.startTime - 2 * 86_400) <= 1);
  });

  it('-F and -P turn off what krb5.conf turns on; -p asks PROXIABLE', async () => {
    const a = cache();
    assert.equal((await kinit(['-F', '-c', a, 'alice'])).code, 0);
    assert.equal(flagSet((await only(a)).flags).F, false);
    const b = cache();
    assert.equal((await kinit(['-p', '-c', b, 'alice'])).code, 0);
    assert.equal(flagSet((await only(b)).flags).P, true);
    const c = cache();
    assert.equal((await kinit(['-P', '-c', c, 'alice'], { proxiable: 'true' })).code, 0);
    assert.equal(flagSet((await only(c)).flags).P, false);
  });

  it('-S SERVICE: the initial ticket is for that service, not a TGT', async () => {
    const cc = cache();
    const r = await kinit(['-S', `HTTP/web.kinit.test@${REALM}`, '-c', cc, 'alice']);
    assert.equal(r.code, 0, r.err);
    assert.equal(unparsePrincipal((await only(cc)).server), `HTTP/web.kinit.test@${REALM}`);
  });

  it('-R: renews the cache TGT at the KDC, keeping only the renewed ticket', async () => {
    const cc = cache();
    assert.equal((await kinit(['-l', '1h', '-r', '1d', '-c', cc, 'alice'])).code, 0);
    const before = await only(cc);
    const r = await kinit(['-R', '-c', cc]);
    assert.equal(r.code, 0, r.err);
    const after = await only(cc);
    assert.notDeepEqual(after.ticket, before.ticket);
    assert.ok(after.startTime >= before.startTime);
    assert.equal(after.renewTill, before.renewTill);
    assert.ok(Math.abs(after.endTime - after.startTime - 3600) <= 1);
    const tgs = kdc.requests.filter((x) => x.type === 'TGS-REQ').at(-1);
    assert.ok(tgs && (tgs.kdcOptions & KdcOption.RENEW) !== 0);
  });

  it('-R on a TGT that is not renewable is refused by the KDC; -R with -k is a usage error', async () => {
    const cc = cache();
    assert.equal((await kinit(['-l', '1h', '-c', cc, 'alice'])).code, 0);
    const r = await kinit(['-R', '-c', cc]);
    assert.equal(r.code, 1);
    assert.match(r.err, /KDC_ERR_BADOPTION|renew/i);
    assert.equal((await kinit(['-R', '-k', '-c', cc])).code, 2);
  });
});
