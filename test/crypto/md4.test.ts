import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { md4 } from '../../src/crypto/md4.js';

interface Md4Vectors {
  vectors: { input: string; digest: string }[];
  paddingBoundaries: { vectors: { repeat: number; digest: string }[] };
}

const data = JSON.parse(
  readFileSync(new URL('../vectors/crypto/md4-rfc1320.json', import.meta.url), 'utf8'),
) as Md4Vectors;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('md4 (RFC 1320)', () => {
  it('passes the RFC 1320 Appendix A.5 test suite', () => {
    assert.equal(data.vectors.length, 7);
    for (const v of data.vectors) assert.equal(hex(md4(ascii(v.input))), v.digest, JSON.stringify(v.input));
  });

  it('matches OpenSSL around the 56- and 64-byte padding edges', () => {
    for (const v of data.paddingBoundaries.vectors) {
      assert.equal(hex(md4(ascii('x'.repeat(v.repeat)))), v.digest, `length ${v.repeat}`);
    }
  });

  it('does not modify its input and reads only the view it is given', () => {
    const backing = ascii('__abc__');
    const view = backing.subarray(2, 5);
    assert.equal(hex(md4(view)), data.vectors[2]!.digest);
    assert.equal(new TextDecoder().decode(backing), '__abc__');
  });
});
