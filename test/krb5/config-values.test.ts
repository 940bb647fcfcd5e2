import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBoolean, parseDuration, parseEnctypeList, parseInteger } from '../../src/krb5/config-values.js';

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
