// Vectors produced by MIT krb5 1.20 libk5crypto (test/vectors/crypto/mit-aes.json): decrypt what
// MIT encrypted, and match MIT's string-to-key, checksums and PRF, for enctypes 17, 18, 19, 20.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decrypt, encrypt, makeChecksum, makeKey, prf, verifyChecksum } from '../../src/crypto/index.js';
import { hex, loadVectors, stringToKeyEveryWay, toHex } from './helpers.js';

interface Mit {
  enctype: number;
  name: string;
  string_to_key: { password: string; salt: string; params: string | null; key: string }[];
  decrypt: { key: string; usage: number; plaintext: string; ciphertext: string }[];
  checksum: { cksumtype: number; key: string; usage: number; data: string; checksum: string }[];
  prf: { key: string; input: string; output: string }[];
}
const { enctypes } = loadVectors<{ enctypes: Mit[] }>('mit-aes.json');

test('MIT vectors cover enctypes 17, 18, 19, 20', () => {
  assert.deepEqual(
    enctypes.map((e) => e.enctype),
    [17, 18, 19, 20],
  );
});

for (const e of enctypes) {
  test(`MIT ${e.name}: string_to_key`, async () => {
    assert.ok(e.string_to_key.length > 0);
    for (const v of e.string_to_key) {
      const k = await stringToKeyEveryWay(
        e.enctype,
        v.password,
        v.salt,
        v.params === null ? undefined : hex(v.params),
      );
      assert.equal(toHex(k.bytes), v.key, `${v.password} / ${v.salt} / ${v.params}`);
    }
  });

  test(`MIT ${e.name}: decrypt krb5_c_encrypt output, and our re-encryption round-trips`, () => {
    assert.ok(e.decrypt.length > 0);
    for (const v of e.decrypt) {
      const key = makeKey(e.enctype, hex(v.key));
      assert.equal(toHex(decrypt(key, v.usage, hex(v.ciphertext))), v.plaintext, `usage ${v.usage}`);
      // Our own encryption (fresh random confounder) has the same length and decrypts back.
      const again = encrypt(key, v.usage, hex(v.plaintext));
      assert.equal(again.length, v.ciphertext.length / 2);
      assert.equal(toHex(decrypt(key, v.usage, again)), v.plaintext);
    }
  });

  test(`MIT ${e.name}: checksum`, () => {
    assert.ok(e.checksum.length > 0);
    for (const v of e.checksum) {
      const key = makeKey(e.enctype, hex(v.key));
      assert.equal(toHex(makeChecksum(v.cksumtype, key, v.usage, hex(v.data))), v.checksum);
      assert.ok(verifyChecksum(v.cksumtype, key, v.usage, hex(v.data), hex(v.checksum)));
    }
  });

  test(`MIT ${e.name}: prf`, () => {
    assert.ok(e.prf.length > 0);
    for (const v of e.prf) {
      assert.equal(toHex(prf(makeKey(e.enctype, hex(v.key)), hex(v.input))), v.output);
    }
  });
}
