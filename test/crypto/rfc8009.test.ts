// RFC 8009 Appendix A: string-to-key, key derivation, encryption, checksums, PRF.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { kdfHmacSha2 } from '../../src/crypto/aes-sha2.js';
import { decrypt, encrypt, makeChecksum, makeKey, prf, verifyChecksum } from '../../src/crypto/index.js';
import { usageConstant } from '../../src/crypto/util.js';
import { hex, loadVectors, stringToKeyEveryWay, toHex } from './helpers.js';

interface Rfc8009 {
  enctype: 19 | 20;
  stringToKey: { iterations: number; password: string; saltHex: string; key: string };
  baseKey: string;
  usage: number;
  kc: string;
  ke: string;
  ki: string;
  encrypt: { plaintext: string; confounder: string; ciphertext: string }[];
  checksum: { cksumtype: number; data: string; checksum: string };
  prf: { input: string; output: string };
}
const { enctypes } = loadVectors<{ enctypes: Rfc8009[] }>('rfc8009.json');

for (const v of enctypes) {
  const hash = v.enctype === 19 ? sha256 : sha384;
  const base = makeKey(v.enctype, hex(v.baseKey));

  test(`RFC 8009 A: string-to-key, enctype ${v.enctype} (default iteration count 32768)`, async () => {
    const s = v.stringToKey;
    assert.equal(toHex((await stringToKeyEveryWay(v.enctype, s.password, hex(s.saltHex))).bytes), s.key);
    assert.equal(
      toHex((await stringToKeyEveryWay(v.enctype, s.password, hex(s.saltHex), hex('00008000'))).bytes),
      s.key,
    );
  });

  test(`RFC 8009 A: Kc, Ke, Ki for usage 2, enctype ${v.enctype}`, () => {
    const b = hex(v.baseKey);
    const macBits = v.enctype === 19 ? 128 : 192;
    const keBits = v.enctype === 19 ? 128 : 256;
    const none = new Uint8Array(0);
    assert.equal(toHex(kdfHmacSha2(hash, b, usageConstant(v.usage, 0x99), none, macBits)), v.kc);
    assert.equal(toHex(kdfHmacSha2(hash, b, usageConstant(v.usage, 0xaa), none, keBits)), v.ke);
    assert.equal(toHex(kdfHmacSha2(hash, b, usageConstant(v.usage, 0x55), none, macBits)), v.ki);
  });

  test(`RFC 8009 A: encryption vectors (empty, < block, = block, > block), enctype ${v.enctype}`, () => {
    assert.equal(v.encrypt.length, 4);
    for (const e of v.encrypt) {
      const ct = encrypt(base, v.usage, hex(e.plaintext), hex(e.confounder));
      assert.equal(toHex(ct), e.ciphertext, `plaintext of ${e.plaintext.length / 2} bytes`);
      assert.equal(toHex(decrypt(base, v.usage, hex(e.ciphertext))), e.plaintext);
    }
  });

  test(`RFC 8009 A: checksum, enctype ${v.enctype}`, () => {
    const c = v.checksum;
    assert.equal(toHex(makeChecksum(c.cksumtype, base, v.usage, hex(c.data))), c.checksum);
    assert.ok(verifyChecksum(c.cksumtype, base, v.usage, hex(c.data), hex(c.checksum)));
  });

  test(`RFC 8009 A: PRF, enctype ${v.enctype}`, () => {
    assert.equal(toHex(prf(base, hex(v.prf.input))), v.prf.output);
  });
}
