// RFC 3961 Appendix A.1 n-fold vectors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nfold } from '../../src/crypto/nfold.js';
import { CryptoError } from '../../src/errors.js';
import { hex, loadVectors, toHex } from './helpers.js';

const { vectors } = loadVectors<{ vectors: { bits: number; input: string; output: string }[] }>(
  'rfc3961-nfold.json',
);

test('n-fold: every RFC 3961 A.1 vector', () => {
  assert.equal(vectors.length, 11);
  for (const v of vectors) {
    assert.equal(toHex(nfold(hex(v.input), v.bits / 8)), v.output, `${v.bits}-fold(${v.input})`);
  }
});

test('n-fold: output a multiple of the input starts with the input (RFC 3961 A.1 note)', () => {
  const input = new TextEncoder().encode('kerberos');
  assert.deepEqual(nfold(input, 8), input);
  assert.deepEqual(nfold(input, 16).subarray(0, 8), input);
});

test('n-fold: empty input is a CryptoError, not a RangeError', () => {
  assert.throws(() => nfold(new Uint8Array(0), 16), CryptoError);
});
