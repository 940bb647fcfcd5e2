import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  findKeytabEntry,
  type KeytabEntry,
  parseKeytab,
  readKeytab,
  requireKeytabEntry,
  serializeKeytab,
  writeKeytab,
} from '../../src/ccache/keytab.js';
import { CredentialsError } from '../../src/errors.js';
import { fixture, hex } from './helpers.js';

function entry(kvno: number, keytype = 18, timestamp = 1000, comps = ['HTTP', 'h']): KeytabEntry {
  return {
    principal: { realm: 'R', name: { nameType: 1, nameString: comps } },
    timestamp,
    kvno,
    key: { keytype, keyvalue: new Uint8Array([kvno & 0xff, keytype]) },
  };
}

const kt = (entries: KeytabEntry[]) => ({ version: 2, entries });

test('MIT keytab round-trips through our writer', () => {
  const mit = parseKeytab(fixture('mit-multi-enctype.keytab'));
  const ours = serializeKeytab(mit.entries);
  assert.deepEqual(parseKeytab(ours), mit);
  // MIT 1.20 already writes the 32-bit kvno trailer, so the bytes are identical too.
  assert.equal(hex(ours), hex(fixture('mit-multi-enctype.keytab')));
});

test('the 32-bit kvno overrides the 8-bit one; a zero one is ignored', () => {
  const bytes = serializeKeytab([entry(300)]);
  assert.equal(parseKeytab(bytes).entries[0]?.kvno, 300);
  const zeroed = bytes.slice();
  zeroed.fill(0, zeroed.length - 4);
  assert.equal(parseKeytab(zeroed).entries[0]?.kvno, 300 & 0xff);
});

test('records without the 32-bit trailer (pre-1.14) and with slack bytes < 4', () => {
  const full = serializeKeytab([entry(7)]);
  // Drop the trailer and shorten the record length accordingly, then add 3 bytes of slack.
  const body = full.slice(6, full.length - 4);
  const withSlack = new Uint8Array(2 + 4 + body.length + 3);
  withSlack.set([5, 2]);
  new DataView(withSlack.buffer).setInt32(2, body.length + 3);
  withSlack.set(body, 6);
  assert.equal(parseKeytab(withSlack).entries[0]?.kvno, 7);
});

test('holes (negative lengths) are skipped and a zero length ends the file', () => {
  const one = serializeKeytab([entry(1)]).subarray(2);
  const two = serializeKeytab([entry(2)]).subarray(2);
  const hole = new Uint8Array(4 + 10);
  new DataView(hole.buffer).setInt32(0, -10);
  const end = new Uint8Array(4 + 20).fill(0xee);
  end.fill(0, 0, 4);
  const bytes = Uint8Array.from([5, 2, ...one, ...hole, ...two, ...end]);
  assert.deepEqual(
    parseKeytab(bytes).entries.map((e) => e.kvno),
    [1, 2],
  );
});

test('version 0x0501: little-endian, realm counted among components, no name type', () => {
  const realm = Buffer.from('R');
  const parts = [Buffer.from('HTTP'), Buffer.from('h')];
  const le16 = (n: number) => [n & 0xff, n >> 8];
  const rec = [
    ...le16(3),
    ...le16(realm.length),
    ...realm,
    ...parts.flatMap((p) => [...le16(p.length), ...p]),
    ...[0x10, 0, 0, 0], // timestamp 16
    5, // kvno
    ...le16(17),
    ...le16(2),
    0xaa,
    0xbb,
  ];
  const bytes = Uint8Array.from([5, 1, rec.length, 0, 0, 0, ...rec]);
  const parsed = parseKeytab(bytes);
  assert.equal(parsed.version, 1);
  assert.deepEqual(parsed.entries, [
    {
      principal: { realm: 'R', name: { nameType: 0, nameString: ['HTTP', 'h'] } },
      timestamp: 16,
      kvno: 5,
      key: { keytype: 17, keyvalue: new Uint8Array([0xaa, 0xbb]) },
    },
  ]);
});

test('malformed keytabs are KEYTAB_FORMAT', () => {
  const good = serializeKeytab([entry(1)]);
  for (const bad of [
    new Uint8Array([5, 3]),
    new Uint8Array([6, 2]),
    Uint8Array.from([5, 2, 0x7f, 0xff, 0xff, 0xff]),
    Uint8Array.from([5, 2, 0x80, 0, 0, 0]),
    good.subarray(0, good.length - 6),
  ]) {
    assert.throws(
      () => parseKeytab(bad),
      (e: unknown) => e instanceof CredentialsError && e.code === 'KEYTAB_FORMAT',
    );
  }
});

test('selection: highest kvno by default, enctype filter, exact kvno', () => {
  const t = kt([entry(2, 18), entry(3, 17), entry(3, 18), entry(1, 18)]);
  assert.equal(findKeytabEntry(t, { principal: 'HTTP/h', realm: 'R' })?.kvno, 3);
  assert.deepEqual(
    findKeytabEntry(t, { principal: ['HTTP', 'h'], realm: 'R', enctype: 18 })?.key.keyvalue,
    new Uint8Array([3, 18]),
  );
  assert.equal(findKeytabEntry(t, { principal: 'HTTP/h', realm: 'R', kvno: 2 })?.kvno, 2);
  assert.equal(findKeytabEntry(t, { principal: 'HTTP/h', realm: 'R', kvno: 9 }), undefined);
  assert.equal(findKeytabEntry(t, { principal: 'HTTP/h', realm: 'OTHER' }), undefined);
  assert.equal(findKeytabEntry(t, { principal: 'HTTP/h', realm: 'R', enctype: 23 }), undefined);
});

test('selection: an 8-bit kvno that wrapped past 255 is newer when written no earlier', () => {
  const t = kt([entry(255, 18, 1000), entry(1, 18, 2000)]);
  assert.equal(findKeytabEntry(t, { principal: 'HTTP/h', realm: 'R' })?.kvno, 1);
  const older = kt([entry(255, 18, 3000), entry(1, 18, 2000)]);
  assert.equal(findKeytabEntry(older, { principal: 'HTTP/h', realm: 'R' })?.kvno, 255);
});

test('selection: a kvno above 255 matches an entry holding only its low 8 bits', () => {
  const t = kt([entry(2, 18)]);
  assert.equal(findKeytabEntry(t, { principal: 'HTTP/h', realm: 'R', kvno: 258 })?.kvno, 2);
  // ...but an exact 32-bit match wins.
  const both = kt([entry(2, 18), entry(258, 18)]);
  assert.equal(findKeytabEntry(both, { principal: 'HTTP/h', realm: 'R', kvno: 258 })?.kvno, 258);
});

test('requireKeytabEntry tells a wrong kvno from a missing principal', () => {
  const t = kt([entry(2)]);
  const code = (q: Parameters<typeof requireKeytabEntry>[1]) => {
    try {
      requireKeytabEntry(t, q);
      return 'found';
    } catch (e) {
      return e instanceof CredentialsError ? e.code : 'other';
    }
  };
  assert.equal(code({ principal: 'HTTP/h', realm: 'R' }), 'found');
  assert.equal(code({ principal: 'HTTP/h', realm: 'R', kvno: 5 }), 'KEYTAB_KVNO_NOT_FOUND');
  assert.equal(code({ principal: 'HTTP/x', realm: 'R' }), 'KEYTAB_ENTRY_NOT_FOUND');
});

const dir = mkdtempSync(join(tmpdir(), 'spnego-kt-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('writeKeytab writes 0600 atomically and readKeytab reads it back', async () => {
  const path = join(dir, 'k.keytab');
  await writeKeytab(path, [entry(4), entry(5, 17)]);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual((await readKeytab(path)).entries, [entry(4), entry(5, 17)]);
  await assert.rejects(
    readKeytab(join(dir, 'missing')),
    (e: unknown) => e instanceof CredentialsError && e.code === 'KEYTAB_NOT_FOUND',
  );
});
