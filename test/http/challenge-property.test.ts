// Hostile WWW-Authenticate values only ever give well-formed challenges, and negotiateOffer a
// result or an SPNEGOExchangeError. PROPERTY_RUNS sets the case count (CI sets 100000).
import { test } from 'node:test';
import fc from 'fast-check';
import { challengeCheck, challengeInput } from './challenge-fuzz-inputs.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);

test('random and mutated WWW-Authenticate values parse to well-formed challenges or a typed error', () => {
  fc.assert(fc.property(challengeInput, challengeCheck), { numRuns: RUNS });
});
