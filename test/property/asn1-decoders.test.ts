// Property campaign over EVERY decoder src/asn1 exports (found by name, so a new decoder is
// covered without editing this file): random bytes and mutations of real MIT traffic only ever
// give a value or an Asn1Error — never RangeError/TypeError, a hang, or a value holding more
// bytes than its input. CI runs PROPERTY_RUNS=100000 cases per decoder.
import { describe, it } from 'node:test';
import { asn1Decoders, asn1Seeds } from './asn1-seeds.js';
import { checkDecoder, PROPERTY_RUNS } from './fuzz-helpers.js';

const seeds = asn1Seeds();
const decoders = asn1Decoders();

describe(`asn1 decoders under fuzzing (${PROPERTY_RUNS} cases each, ${seeds.length} seeds)`, () => {
  it('covers the decoders of every message the issue lists', () => {
    const names = new Set(decoders.map(([n]) => n));
    for (const n of [
      'decodeAsReq',
      'decodeTgsRep',
      'decodeEncKdcRepPart',
      'decodeKrbError',
      'decodeKrbCred',
      'decodeEncKrbCredPart',
      'decodeApReq',
      'decodeAuthenticator',
      'decodeEncApRepPart',
      'decodeNegotiationToken',
      'decodeGssToken',
      'decodeEtypeInfo2',
    ]) {
      if (!names.has(n)) throw new Error(`${n} is not exported`);
    }
  });
  for (const [name, decode] of decoders) {
    it(name, () => checkDecoder(name, decode, seeds, ['ASN1_DECODE']));
  }
});
