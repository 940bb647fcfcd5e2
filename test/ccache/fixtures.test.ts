// ACCEPTANCE: the ccaches and keytab written by MIT krb5 1.20 parse to exactly what MIT's own
// `klist -ef -C` / `klist -keK` printed for them (the text was printed with TZ=UTC).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Ccache,
  configEntryKey,
  isConfigEntry,
  parseCcache,
  serializeCcache,
} from '../../src/ccache/ccache.js';
import { flagLetters } from '../../src/ccache/flags.js';
import { parseKeytab } from '../../src/ccache/keytab.js';
import { klistText } from '../../src/ccache/klist-format.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { ticketEnctype } from '../../src/ccache/ticket-etype.js';
import { enctypeName } from '../../src/crypto/index.js';
import { fixture, fixtureText, hex } from './helpers.js';

process.env.TZ = 'UTC';

interface KlistTicket {
  start: string;
  end: string;
  server: string;
  renew: string | undefined;
  flags: string;
  skey: string;
  tkt: string;
}

/** Reads MIT's `klist -ef -C` text back into fields, independently of our formatter. */
function parseKlistText(text: string) {
  const lines = text.split('\n');
  const cache = /^Ticket cache: (.*)$/.exec(lines[0] ?? '')?.[1];
  const principal = /^Default principal: (.*)$/.exec(lines[1] ?? '')?.[1];
  const configs: Array<{ key: string; principal: string; value: string }> = [];
  const tickets: KlistTicket[] = [];
  for (let i = 4; i < lines.length; i++) {
    const line = lines[i] as string;
    const conf = /^config: (\w+)\((.*)\) = (.*)$/.exec(line);
    if (conf !== null) {
      configs.push({ key: conf[1] as string, principal: conf[2] as string, value: conf[3] as string });
      continue;
    }
    const t = /^(\S+ \S+) {2}(\S+ \S+) {2}(\S+)$/.exec(line);
    if (t === null) continue;
    const extra = lines[i + 1] ?? '';
    const etype = /Etype \(skey, tkt\): (\S+), (\S+) $/.exec(lines[i + 2] ?? '');
    tickets.push({
      start: t[1] as string,
      end: t[2] as string,
      server: t[3] as string,
      renew: /renew until (\S+ \d\d:\d\d:\d\d)/.exec(extra)?.[1],
      flags: /Flags: (\w+)/.exec(extra)?.[1] ?? '',
      skey: etype?.[1] ?? '',
      tkt: etype?.[2] ?? '',
    });
  }
  return { cache, principal, configs, tickets };
}

/** MM/DD/YY HH:MM:SS (UTC) → seconds since the epoch. */
function klistSeconds(s: string): number {
  const m = /^(\d\d)\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)$/.exec(s);
  assert.ok(m, `bad klist time ${s}`);
  const [, mo, d, y, h, mi, se] = m.map(Number) as number[];
  return Date.UTC(2000 + (y as number), (mo as number) - 1, d, h, mi, se) / 1000;
}

for (const v of [1, 2, 3, 4]) {
  describe(`MIT ccache version ${v}`, () => {
    const bytes = fixture(`mit-ccache-v${v}.bin`);
    const text = fixtureText(`mit-ccache-v${v}.klist.txt`);
    const expected = parseKlistText(text);
    const cc = parseCcache(bytes);

    test('version, default principal and entry count', () => {
      assert.equal(cc.version, v);
      assert.equal(unparsePrincipal(cc.defaultPrincipal), expected.principal);
      assert.equal(cc.credentials.length, expected.configs.length + expected.tickets.length);
      // v1 has no name types at all; later versions keep MIT's NT-PRINCIPAL.
      assert.equal(cc.defaultPrincipal.name.nameType, v === 1 ? 0 : 1);
    });

    test('config entries match klist -C', () => {
      const configs = cc.credentials.filter(isConfigEntry);
      assert.deepEqual(
        configs.map((c) => ({ ...configEntryKey(c), value: new TextDecoder().decode(c.ticket) })),
        expected.configs,
      );
      for (const c of configs) {
        assert.equal(c.endTime, 0);
        assert.equal(unparsePrincipal(c.client), expected.principal);
      }
    });

    test('tickets match klist -ef field by field', () => {
      const tickets = cc.credentials.filter((c) => !isConfigEntry(c));
      assert.equal(tickets.length, expected.tickets.length);
      tickets.forEach((c, i) => {
        const e = expected.tickets[i] as KlistTicket;
        assert.equal(unparsePrincipal(c.server), e.server);
        assert.equal(c.startTime || c.authTime, klistSeconds(e.start));
        assert.equal(c.endTime, klistSeconds(e.end));
        assert.equal(c.renewTill, e.renew === undefined ? 0 : klistSeconds(e.renew));
        assert.equal(flagLetters(c.flags), e.flags);
        assert.equal(enctypeName(c.key.keytype), e.skey);
        assert.equal(c.key.keyvalue.length, 32);
        assert.equal(enctypeName(ticketEnctype(c.ticket) ?? -1), e.tkt);
        assert.equal(c.isSkey, false);
        assert.deepEqual(c.addresses, []);
        assert.equal(c.secondTicket.length, 0);
      });
    });

    test('our klist text is byte-identical to MIT klist -ef -C', () => {
      assert.equal(klistText(cc, { cacheName: expected.cache ?? '', showConfig: true }), text);
    });

    test('rewritten as v4 it parses back to the same content', () => {
      const again = parseCcache(serializeCcache(cc));
      assert.equal(again.version, 4);
      assert.deepEqual(again.credentials, cc.credentials);
      assert.deepEqual(again.defaultPrincipal, cc.defaultPrincipal);
    });
  });
}

test('MIT v4 ccache round-trips byte for byte', () => {
  const bytes = fixture('mit-ccache-v4.bin');
  const cc = parseCcache(bytes);
  assert.deepEqual(cc.header.kdcOffset, { seconds: 0, microseconds: 0 });
  assert.equal(hex(serializeCcache(cc)), hex(bytes));
});

test('every version holds the same kind of credentials (four kinit runs, four formats)', () => {
  // Keys and tickets differ run to run, and v1 has no name types: compare the rest.
  const strip = (c: Ccache) =>
    c.credentials.map((x) => ({
      client: unparsePrincipal(x.client),
      server: unparsePrincipal(x.server),
      times: [x.authTime, x.startTime, x.endTime, x.renewTill],
      flags: x.flags,
      keytype: x.key.keytype,
    }));
  const [a, ...rest] = [1, 2, 3, 4].map((v) => strip(parseCcache(fixture(`mit-ccache-v${v}.bin`))));
  for (const b of rest) assert.deepEqual(b, a);
});

describe('MIT keytab with five enctypes', () => {
  const expected = fixtureText('mit-multi-enctype.keytab.klist.txt')
    .split('\n')
    .map((l) => /^\s*(\d+) (\S+) \((\S+)\)\s+\(0x([0-9a-f]+)\)$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ kvno: Number(m[1]), principal: m[2], enctype: m[3], key: m[4] }));

  test('entries match klist -keK (kvno, principal, enctype, key)', () => {
    const kt = parseKeytab(fixture('mit-multi-enctype.keytab'));
    assert.equal(kt.version, 2);
    assert.equal(expected.length, 5);
    assert.deepEqual(
      kt.entries.map((e) => ({
        kvno: e.kvno,
        principal: unparsePrincipal(e.principal),
        enctype: enctypeName(e.key.keytype),
        key: hex(e.key.keyvalue),
      })),
      expected,
    );
  });
});
