// Review fixes checked against MIT krb5 1.20.1 (kinit with KRB5_TRACE and a capturing UDP
// listener): how MIT reads durations in [libdefaults] and server entries in [realms].
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { parseConfig } from '../../src/krb5/config.js';
import { parseDuration, parseMitDeltat } from '../../src/krb5/config-values.js';
import { locateKdcs } from '../../src/krb5/locate.js';
import type { DnsResolver } from '../../src/runtime/dns.js';

const MIN = 60;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const noDns: DnsResolver = {
  resolveSrv: async () => {
    throw new Error('DNS must not be asked');
  },
  resolveTxt: async () => {
    throw new Error('DNS must not be asked');
  },
};

describe('durations as krb5_string_to_deltat reads them', () => {
  it('MIT stops at the first character outside its alphabet and keeps the prefix', () => {
    assert.equal(parseMitDeltat('24hrs'), 24 * HOUR);
    assert.equal(parseMitDeltat('7days'), 7 * DAY);
    assert.equal(parseMitDeltat('1d+2h'), DAY);
    assert.equal(parseMitDeltat('1D'), 1);
    assert.equal(parseMitDeltat('1.5h'), 1);
    assert.equal(parseMitDeltat('2d junk'), 2 * DAY);
    assert.equal(parseMitDeltat('1-1:00:00x'), DAY + HOUR);
  });
  it('colon fields are 1-2 digits without a 0..59 check; the days form needs seconds', () => {
    assert.equal(parseMitDeltat('1:60'), 2 * HOUR);
    assert.equal(parseMitDeltat('1:00:99'), HOUR + 99);
    assert.equal(parseMitDeltat('99:99:99'), 99 * HOUR + 99 * MIN + 99);
    assert.equal(parseMitDeltat('-1:30'), -HOUR + 30 * MIN);
    for (const bad of ['1:100', '1-1:00', '1-100:00:00', '1: 5', '1:-1', '5:']) {
      assert.equal(parseMitDeltat(bad), undefined, bad);
    }
  });
  it('agrees with parseDuration on the clean forms', () => {
    for (const s of [
      '10h',
      '1d',
      '36000',
      '1:00:00',
      '1d 2h',
      '3d-1h',
      '1h 30m',
      '-596523h -848s',
      '42-13:42:47',
    ]) {
      assert.equal(parseMitDeltat(s), parseDuration(s), s);
    }
  });
  it('rejects what MIT rejects', () => {
    for (const bad of [
      '',
      'forever',
      '+5h',
      '10 h',
      '5 ',
      '5 x',
      '2s x',
      '1h1d',
      '1d1d',
      '1h30',
      '1h 2h',
      '- 5',
      '2147483648',
      '24856d',
    ]) {
      assert.equal(parseMitDeltat(bad), undefined, bad);
    }
  });
  it('a config MIT accepts loads, with the surprising values reported', () => {
    const c = parseConfig(
      '[libdefaults]\nticket_lifetime = 24hrs\nrenew_lifetime = 7days\nclockskew = 1:90\n',
      { path: 'k.conf' },
    );
    assert.equal(c.libdefaults.ticketLifetime, 24 * HOUR);
    assert.equal(c.libdefaults.renewLifetime, 7 * DAY);
    assert.equal(c.libdefaults.clockskew, HOUR + 90 * MIN);
    assert.equal(c.warnings.length, 3);
    assert.ok(c.warnings.some((w) => w.startsWith('k.conf:2: ticket_lifetime = "24hrs"')));
    const r = parseConfig('[libdefaults]\nEX.ORG = {\n  ticket_lifetime = 10hours\n}\n').libdefaultsFor(
      'EX.ORG',
    );
    assert.equal(r.ticketLifetime, 10 * HOUR);
  });
  it('what MIT refuses stays CONFIG_VALUE', () => {
    for (const line of ['ticket_lifetime = 2s x', 'renew_lifetime = 1h1d', 'clockskew = 1:100']) {
      assert.throws(
        () => parseConfig(`[libdefaults]\n${line}\n`),
        (e: unknown) => e instanceof ConfigError && e.code === 'CONFIG_VALUE',
        line,
      );
    }
  });
});

describe('[realms] kdc values as MIT reads them', () => {
  it('a blank ends the host: trailing comments and extra words are ignored', async () => {
    const c = parseConfig(
      '[realms]\nR = {\n kdc = k1.example.com   # primary\n kdc = a b\n kdc = [::1] spare\n kdc = tcp/k2 x\n kdc = k3:750\n}\n',
    );
    const got = await locateKdcs('R', c, { dns: noDns });
    assert.deepEqual(
      got.map((k) => [k.host, k.port, k.transport]),
      [
        ['k1.example.com', 88, 'any'],
        ['a', 88, 'any'],
        ['::1', 88, 'any'],
        ['k2', 88, 'tcp'],
        ['k3', 750, 'any'],
      ],
    );
  });
  it('text after a port is still malformed, as in MIT', async () => {
    for (const v of ['a:88 # x', '[::1]:88 x']) {
      const c = parseConfig(`[realms]\nR = {\n kdc = ${v}\n}\n`, { path: 'k.conf' });
      await assert.rejects(
        locateKdcs('R', c, { dns: noDns }),
        (e: unknown) =>
          e instanceof ConfigError && e.code === 'CONFIG_VALUE' && e.message.startsWith('k.conf:3:'),
        v,
      );
    }
  });
});
