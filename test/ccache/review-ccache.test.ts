// Review of src/ccache against MIT krb5 1.20: each test pins a behaviour MIT has and we lacked.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type CcacheCredential, parseCcache, serializeCcache } from '../../src/ccache/ccache.js';
import { type KeytabEntry, parseKeytab, serializeKeytab } from '../../src/ccache/keytab.js';
import { klistText } from '../../src/ccache/klist-format.js';
import { parsePrincipal, unparsePrincipalName } from '../../src/ccache/principal-text.js';
import { listCcacheCollection, openCcache } from '../../src/ccache/store.js';
import { CredentialsError } from '../../src/errors.js';
import { fixture, hex } from './helpers.js';

process.env.TZ = 'UTC';
const dir = mkdtempSync(join(tmpdir(), 'spnego-review-'));
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
