import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Ccache, parseCcache, serializeCcache } from '../../src/ccache/ccache.js';
import { CredentialsError } from '../../src/errors.js';
import { ccacheWith, credential, fixture, hex } from './helpers.js';

function rejects(bytes: Uint8Array, code = 'CCACHE_FORMAT'): void {
  assert.throws(
    () => parseCcache(bytes),
    (e: unknown) => e instanceof CredentialsError && e.code === code,
  );
}

test('every credential field survives write and read', () => {
  const c = credential({
    isSkey: true,
    flags: 0xfffe0000,
    addresses: [
      { addrType: 2, address: new Uint8Array([127, 0, 0, 1]) },
      { addrType: 24, address: new Uint8Array(16).fill(1) },
    ],
    authData: [{ adType: 1, adData: new Uint8Array([0x30, 0x00]) }],
    secondTicket: new Uint8Array([0x61, 0x01, 0x00]),
    authTime: 0xfffffff0,
    renewTill: 0,
  });
  const cc: Ccache = {
    ...ccacheWith([c]),
    header: {
      kdcOffset: { seconds: -5, microseconds: 250_000 },
      unknownFields: [{ tag: 9, value: new Uint8Array([1, 2]) }],
    },
  };
  const again = parseCcache(serializeCcache(cc));
  assert.deepEqual(again, cc);
});

test('a cache with only service tickets and no TGT is valid', () => {
  const cc = ccacheWith([
    credential(),
    credential({ server: { realm: 'R', name: { nameType: 3, nameString: ['host', 'h'] } } }),
  ]);
  assert.equal(parseCcache(serializeCcache(cc)).credentials.length, 2);
});

test('a cache with a principal and no credentials is valid (kinit before the first ticket)', () => {
  const cc = ccacheWith([]);
  assert.deepEqual(parseCcache(serializeCcache(cc)), cc);
});

test('unknown v4 header fields are kept; a file without tag 1 has no kdcOffset', () => {
  const cc = ccacheWith([credential()]);
  cc.header = { unknownFields: [{ tag: 0x7f7f, value: new Uint8Array([9, 9, 9]) }] };
  const bytes = serializeCcache(cc);
  const again = parseCcache(bytes);
  assert.equal(again.header.kdcOffset, undefined);
  assert.equal(hex(serializeCcache(again)), hex(bytes));
});

test('bad magic, unknown versions and empty files are CCACHE_FORMAT', () => {
  rejects(new Uint8Array([]));
  rejects(new Uint8Array([5]));
  rejects(new Uint8Array([4, 4, 0, 0]));
  rejects(new Uint8Array([5, 5, 0, 0]));
  rejects(new Uint8Array([5, 0]));
});

test('every truncation of an MIT cache is a CredentialsError, never a partial success', () => {
  const bytes = fixture('mit-ccache-v4.bin');
  const ends = new Set<number>();
  // Cutting exactly at an entry boundary is a valid shorter cache; anywhere else must fail.
  let off = 0;
  const full = parseCcache(bytes);
  for (let n = 0; n <= full.credentials.length; n++) {
    off = serializeCcache({ ...full, credentials: full.credentials.slice(0, n) }).length;
    ends.add(off);
  }
  for (let len = 0; len < bytes.length; len++) {
    const cut = bytes.subarray(0, len);
    if (ends.has(len)) assert.ok(parseCcache(cut).credentials.length < full.credentials.length);
    else rejects(cut);
  }
});

test('a 0xFFFFFFFF length is rejected without allocating', () => {
  const good = serializeCcache(ccacheWith([credential()]));
  // The realm length of the default principal sits after magic(2) + header(2+12) + type + count.
  const at = 2 + 2 + 12 + 8;
  const bad = good.slice();
  bad.set([0xff, 0xff, 0xff, 0xff], at);
  rejects(bad);
  // A huge component count is refused before looping.
  const bad2 = good.slice();
  bad2.set([0xff, 0xff, 0xff, 0xff], at - 4);
  rejects(bad2);
});

test('v1/v2 are read little-endian, v3 with the doubled enctype', () => {
  for (const v of [1, 2, 3]) {
    const cc = parseCcache(fixture(`mit-ccache-v${v}.bin`));
    assert.equal(cc.credentials[1]?.key.keytype, 18);
    assert.equal(cc.credentials[1]?.endTime, 1795904315);
  }
});
