import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { parseConfig } from '../../src/krb5/config.js';
import {
  parseBoolean,
  parseDuration,
  parseEnctypeList,
  parseInteger,
  parseMitDeltat,
} from '../../src/krb5/config-values.js';
import { locateKdcs } from '../../src/krb5/locate.js';
import type { DnsResolver } from '../../src/runtime/dns.js';

const DAY = 86400;
const HOUR = 3600;
const MIN = 60;

describe('MIT booleans', () => {
  it('reads every spelling MIT accepts, case-insensitively', () => {
    for (const t of ['y', 'yes', 'true', 't', '1', 'on', 'YES', 'True', ' On '])
      assert.equal(parseBoolean(t), true, t);
    for (const f of ['n', 'no', 'false', 'nil', '0', 'off', 'NO', 'False', 'NIL'])
      assert.equal(parseBoolean(f), false, f);
    for (const bad of ['', 'maybe', '2', 'yess', 'truee']) assert.equal(parseBoolean(bad), undefined, bad);
  });
});

describe('MIT integers', () => {
  it('decimal, hex, octal, signed; rejects junk and int overflow', () => {
    assert.equal(parseInteger('1465'), 1465);
    assert.equal(parseInteger(' -3 '), -3);
    assert.equal(parseInteger('0x10'), 16);
    assert.equal(parseInteger('010'), 8);
    assert.equal(parseInteger('0'), 0);
    assert.equal(parseInteger('12abc'), undefined);
    assert.equal(parseInteger(''), undefined);
    assert.equal(parseInteger('2147483648'), undefined);
  });
});

describe('MIT durations (krb5_string_to_deltat)', () => {
  // Cases transcribed from the behaviour MIT's own deltat tests pin down.
  const good: Array<[string, number]> = [
    ['3d', 3 * DAY],
    ['3h', 3 * HOUR],
    ['3m', 3 * MIN],
    ['3s', 3],
    ['10h', 10 * HOUR],
    ['1d 2h', DAY + 2 * HOUR],
    ['3d4m    42s', 3 * DAY + 4 * MIN + 42],
    ['3d-1h', 3 * DAY - HOUR],
    ['3d -1h', 3 * DAY - HOUR],
    ['3d4h5m6s', 3 * DAY + 4 * HOUR + 5 * MIN + 6],
    ['1m12345s', MIN + 12345],
    ['3d \n\t 0m  ', 3 * DAY],
    ['42-13:42:47', 42 * DAY + 13 * HOUR + 42 * MIN + 47],
    ['12:34', 12 * HOUR + 34 * MIN],
    ['36:00', 36 * HOUR],
    ['1:02:03', HOUR + 2 * MIN + 3],
    ['3:4', 3 * HOUR + 4 * MIN],
    ['42', 42],
    ['3600', 3600],
    ['2147483647s', 2147483647],
    ['24855d 3h 14m 7s', 2147483647],
    ['-596523h -848s', -2147483648],
    ['-35791394m7s', -35791394 * MIN + 7],
  ];
  const bad = [
    '3dd',
    '3d4m5h',
    '3: 4',
    '13:0003',
    '3:-4',
    '1-2',
    '2147483648s',
    '24856d',
    '24855d 100000000h',
    '24855d 3h 14m 8s',
    '-24855d -3h -14m -9s',
    '-35791394m-9s',
    '',
    'abc',
    '1x',
    '12:60',
    '99999999999999999999',
  ];
  for (const [s, v] of good) it(`"${JSON.stringify(s)}" = ${v}`, () => assert.equal(parseDuration(s), v));
  it('rejects what MIT rejects', () => {
    for (const s of bad) assert.equal(parseDuration(s), undefined, s);
  });
});

describe('enctype lists', () => {
  it('names, aliases, commas and blanks', () => {
    assert.deepEqual(
      parseEnctypeList('aes256-cts-hmac-sha1-96, aes128-cts rc4-hmac', false).ids,
      [18, 17, 23],
    );
  });
  it('DEFAULT is MIT 1.20 built-in list; -x removes, +x adds once', () => {
    assert.deepEqual(parseEnctypeList('DEFAULT', false).ids, [18, 17, 20, 19, 16, 23, 25, 26]);
    assert.deepEqual(parseEnctypeList('DEFAULT -des3 -rc4', false).ids, [18, 17, 20, 19, 25, 26]);
    assert.deepEqual(parseEnctypeList('DEFAULT -camellia +aes256-cts', false).ids, [18, 17, 20, 19, 16, 23]);
    assert.deepEqual(parseEnctypeList('aes +rc4 -aes128-cts', false).ids, [18, 20, 19, 23]);
  });
  it('family names expand in MIT order', () => {
    assert.deepEqual(parseEnctypeList('aes', false).ids, [18, 17, 20, 19]);
    assert.deepEqual(parseEnctypeList('camellia des3', false).ids, [26, 25, 16]);
  });
  it('weak enctypes are dropped unless allow_weak_crypto', () => {
    assert.deepEqual(parseEnctypeList('des-cbc-crc aes128-cts des arcfour-hmac-exp', false).ids, [17]);
    assert.deepEqual(parseEnctypeList('des-cbc-crc aes128-cts', true).ids, [1, 17]);
  });
  it('unknown words are ignored but reported', () => {
    const r = parseEnctypeList('aes256-cts bogus-enc -nope', false);
    assert.deepEqual(r.ids, [18]);
    assert.deepEqual(r.unknown, ['bogus-enc', 'nope']);
    assert.deepEqual(parseEnctypeList('__proto__ constructor aes128-cts', false), {
      ids: [17],
      unknown: ['__proto__', 'constructor'],
    });
  });
});

// Checked against MIT krb5 1.20.1 (kinit with KRB5_TRACE and a capturing UDP
// listener): how MIT reads durations in [libdefaults] and server entries in [realms].

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
