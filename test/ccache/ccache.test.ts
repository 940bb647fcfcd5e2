import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type Ccache, type CcacheCredential, parseCcache, serializeCcache } from '../../src/ccache/ccache.js';
import { type KeytabEntry, parseKeytab, serializeKeytab } from '../../src/ccache/keytab.js';
import { klistText } from '../../src/ccache/klist-format.js';
import { parsePrincipal, unparsePrincipalName } from '../../src/ccache/principal-text.js';
import { listCcacheCollection, openCcache } from '../../src/ccache/store.js';
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

// src/ccache against MIT krb5 1.20: each test pins a behaviour MIT has.
process.env.TZ = 'UTC';
const dir = mkdtempSync(join(tmpdir(), 'spnego-ccache-mit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const isCode = (code: string) => (e: unknown) => e instanceof CredentialsError && e.code === code;

function ktEntry(keyvalue: Uint8Array, keytype = 18): KeytabEntry {
  return {
    principal: { realm: 'R', name: { nameType: 1, nameString: ['HTTP', 'h'] } },
    timestamp: 1000,
    kvno: 3,
    key: { keytype, keyvalue },
  };
}

test('keytab enctypes are signed 16-bit, as MIT reads them (negative Microsoft enctypes)', () => {
  const bytes = serializeKeytab([ktEntry(new Uint8Array([1, 2]), 0xff7b)]);
  const parsed = parseKeytab(bytes);
  assert.equal(parsed.entries[0]?.key.keytype, -133);
  assert.equal(hex(serializeKeytab(parsed.entries)), hex(bytes));
});

test('ccache enctypes and authdata types are signed 16-bit, as MIT ccmarshal reads them', () => {
  const base = parseCcache(fixture('mit-ccache-v4.bin'));
  const first = base.credentials[0] as CcacheCredential;
  const cred: CcacheCredential = {
    ...first,
    key: { keytype: 0xff79, keyvalue: first.key.keyvalue },
    authData: [{ adType: 0xffff, adData: Uint8Array.of(1) }],
  };
  const bytes = serializeCcache({ ...base, credentials: [cred] });
  const back = parseCcache(bytes).credentials[0];
  assert.equal(back?.key.keytype, -135);
  assert.equal(back?.authData[0]?.adType, -1);
  // Written back, the same two bytes: MIT reads its own file unchanged.
  assert.equal(hex(serializeCcache(parseCcache(bytes))), hex(bytes));
});

test('serializeKeytab refuses a length MIT would read as negative (it stops reading there)', () => {
  // `klist -k` on a keytab whose first key is 0x8000 bytes long lists no entry at all.
  assert.throws(() => serializeKeytab([ktEntry(new Uint8Array(0x8000))]), isCode('KEYTAB_FORMAT'));
  const ok = parseKeytab(serializeKeytab([ktEntry(new Uint8Array(0x7fff))]));
  assert.equal(ok.entries[0]?.key.keyvalue.length, 0x7fff);
});

test('a v4 ccache KDC-offset field (tag 1) that is not 8 bytes is CCACHE_FORMAT, as in MIT', () => {
  const good = fixture('mit-ccache-v4.bin');
  // 05 04, header length 12, tag 1 length 8 + 8 bytes: rewrite it as tag 1 length 4 + tag 2 length 0.
  assert.equal(hex(good.subarray(0, 8)), '0504000c00010008');
  const bad = good.slice();
  bad.set([0x00, 0x01, 0x00, 0x04], 4);
  bad.set([0x00, 0x02, 0x00, 0x00], 12);
  assert.throws(() => parseCcache(bad), isCode('CCACHE_FORMAT'));
});

test('principal text: an unescaped / after the realm separator is malformed, as in MIT', () => {
  assert.throws(() => parsePrincipal('user@R/x'), isCode('PRINCIPAL_NAME'));
  assert.equal(parsePrincipal('user@R\\/x').realm, 'R/x');
});

test('principal text: WELLKNOWN/... names get NT-WELLKNOWN (11), as MIT infers', () => {
  assert.equal(parsePrincipal('WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS').name.nameType, 11);
  assert.equal(parsePrincipal('WELLKNOWN@R').name.nameType, 1);
  assert.equal(parsePrincipal('krbtgt/R@R').name.nameType, 2);
});

test('unparsePrincipalName leaves @ unescaped, as KRB5_PRINCIPAL_UNPARSE_NO_REALM', () => {
  // MIT: krb5_unparse_name_flags(NO_REALM) of `u\@d@R` is `u@d`; `/` and `\` stay escaped.
  assert.equal(unparsePrincipalName(parsePrincipal('u\\@d@R').name), 'u@d');
  assert.equal(unparsePrincipalName({ nameType: 1, nameString: ['a/b\\', 'c'] }), 'a\\/b\\\\/c');
});

async function collection(name: string, members: string[], primary: string | undefined): Promise<string> {
  const coll = join(dir, name);
  mkdirSync(coll, { mode: 0o700 });
  for (const m of members) writeFileSync(join(coll, m), fixture('mit-ccache-v4.bin'));
  if (primary !== undefined) writeFileSync(join(coll, 'primary'), primary);
  return coll;
}

test('DIR: a primary line MIT rejects (no newline, backslash, longer than 62) is CCACHE_FORMAT', async () => {
  for (const [i, primary] of ['tktA', 'tktA\\\n', `tkt${'x'.repeat(60)}\n`].entries()) {
    const coll = await collection(`bad-primary-${i}`, ['tkt', 'tktA'], primary);
    await assert.rejects(openCcache(`DIR:${coll}`), isCode('CCACHE_FORMAT'));
  }
  const coll = await collection('good-primary', ['tkt', 'tktA'], 'tktA\n');
  assert.equal((await openCcache(`DIR:${coll}`)).name, `DIR::${coll}/tktA`);
});

test('DIR::file is a collection of that one cache: kdestroy -A must not empty the directory', async () => {
  const coll = await collection('subsidiary', ['tkt', 'tktA', 'tktB'], 'tkt\n');
  // MIT `KRB5CCNAME=DIR::.../tktB klist -l` lists tktB alone.
  const stores = await listCcacheCollection(`DIR::${coll}/tktB`);
  assert.deepEqual(
    stores.map((s) => s.name),
    [`DIR::${coll}/tktB`],
  );
  for (const s of stores) await s.destroy();
  assert.ok(existsSync(join(coll, 'tkt')) && existsSync(join(coll, 'tktA')));
  assert.deepEqual(await listCcacheCollection(`DIR::${coll}/tktB`), []);
});

test('DIR: the collection is still listed when the primary file is invalid, as MIT klist -l', async () => {
  const coll = await collection('listed', ['tkt', 'tktA'], 'bogus\n');
  assert.deepEqual(
    (await listCcacheCollection(`DIR:${coll}`)).map((s) => s.name),
    [`DIR::${coll}/tkt`, `DIR::${coll}/tktA`],
  );
});

test('klist text: `for client`, config values (octal space, wrap, 3 components) as MIT klist -ef -C', () => {
  const mit = parseCcache(fixture('mit-ccache-v4.bin'));
  const http = mit.credentials.find((c) => c.server.name.nameString[0] === 'HTTP') as CcacheCredential;
  const other = { realm: 'EXAMPLE.TEST', name: { nameType: 1, nameString: ['svc', 'a b'] } };
  const conf = (comps: string[], value: string): CcacheCredential => ({
    ...http,
    server: { realm: 'X-CACHECONF:', name: { nameType: 1, nameString: ['krb5_ccache_conf_data', ...comps] } },
    key: { keytype: 0, keyvalue: new Uint8Array(0) },
    authTime: 0,
    startTime: 0,
    endTime: 0,
    renewTill: 0,
    flags: 0,
    ticket: new TextEncoder().encode(value),
  });
  const c = {
    ...mit,
    credentials: [
      conf(['fast_avail'], 'a b'),
      conf(['pa_config_data', 'krbtgt/X@X'], `{"k": "${'v'.repeat(90)}"}`),
      conf(['empty'], ''),
      conf(['k', 'p1', 'p2'], 'x\n'),
      { ...http, client: other },
      { ...http, client: other, renewTill: 0 },
      { ...http, client: other, renewTill: 0, flags: 0 },
      { ...http, renewTill: 0 },
    ],
  };
  // `TZ=UTC klist -ef -C -c cc` (MIT 1.20.1) on serializeCcache(c).
  const etype = 'Etype (skey, tkt): aes256-cts-hmac-sha1-96, aes256-cts-hmac-sha1-96 ';
  const row = '11/28/26 12:18:35  11/28/26 22:18:35  HTTP/localhost@EXAMPLE.TEST';
  const expected = [
    'Ticket cache: FILE:/tmp/cc',
    'Default principal: user@EXAMPLE.TEST',
    '',
    'Valid starting     Expires            Service principal',
    'config: fast_avail = a\\040b',
    'config: pa_config_data(krbtgt/X@X) = {"k":\\040"vvvvvvvvvvvvvvvvvvvvvvvvvv',
    `        ${'v'.repeat(64)}"`,
    '        }',
    'config: empty = ',
    'config: k(p1)(p2) = x\\012',
    row,
    '\tfor client svc/a b@EXAMPLE.TEST, renew until 11/29/26 12:18:35, Flags: FRT',
    `\t${etype}`,
    row,
    `\tfor client svc/a b@EXAMPLE.TEST, Flags: FRT, ${etype}`,
    row,
    `\tfor client svc/a b@EXAMPLE.TEST, ${etype}`,
    row,
    `\tFlags: FRT, ${etype}`,
    '',
  ].join('\n');
  assert.equal(klistText(c, { cacheName: 'FILE:/tmp/cc', showConfig: true }), expected);
});
