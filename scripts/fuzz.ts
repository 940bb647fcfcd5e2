// `npm run fuzz`: the property-test inputs at depth, outside CI. Every asn1 decoder, the
// WWW-Authenticate challenge parser and the ccache / keytab / krb5.conf readers each get
// FUZZ_RUNS inputs (default 1,000,000) from the same generators and seeds the property tests
// use; any input that throws something other than the target's typed error, holds more than
// it was given, or takes over a second is a crash, reported with the seed and path that replay it.
//
//   npm run fuzz                           all targets, 1,000,000 inputs each
//   npm run fuzz -- --only=decodeKrb       targets whose name matches a regular expression
//   FUZZ_RUNS=10000 FUZZ_SEED=42 npm run fuzz -- --only=keytab
import fc from 'fast-check';
import {
  ccacheCheck,
  ccacheMutated,
  ccacheRandom,
  keytabCheck,
  keytabInput,
} from '../test/ccache/fuzz-inputs.js';
import { challengeCheck, challengeInput } from '../test/http/challenge-fuzz-inputs.js';
import { configCheck, configInput } from '../test/krb5/config-fuzz-inputs.js';
import { asn1Decoders, asn1Seeds } from '../test/property/asn1-seeds.js';
import { decoderCheck, fuzzInput } from '../test/property/fuzz-helpers.js';

interface Target {
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: each target pairs its own input type with its check
  input: fc.Arbitrary<any>;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  check: (input: any) => void;
}

const SLOW_MS = 1000;

function timed<T>(name: string, check: (input: T) => void): (input: T) => void {
  return (input) => {
    const started = performance.now();
    check(input);
    const ms = performance.now() - started;
    if (ms > SLOW_MS) throw new Error(`${name} took ${ms.toFixed(0)} ms on one input`);
  };
}

function targets(): Target[] {
  const seeds = asn1Seeds();
  const asn1Input = fuzzInput(seeds);
  return [
    ...asn1Decoders().map(([name, decode]) => ({
      name,
      input: asn1Input,
      check: decoderCheck(name, decode, ['ASN1_DECODE']),
    })),
    { name: 'WWW-Authenticate challenges', input: challengeInput, check: challengeCheck },
    { name: 'ccache (random after magic)', input: ccacheRandom, check: ccacheCheck },
    { name: 'ccache (mutated MIT v1-v4)', input: ccacheMutated(), check: ccacheCheck },
    { name: 'keytab', input: keytabInput(), check: keytabCheck },
    { name: 'krb5.conf', input: configInput, check: configCheck },
  ];
}

const runs = Number(process.env.FUZZ_RUNS ?? 1_000_000);
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const baseSeed = process.env.FUZZ_SEED === undefined ? Date.now() | 0 : Number(process.env.FUZZ_SEED);
const chosen = targets().filter((t) => only === undefined || new RegExp(only).test(t.name));
if (chosen.length === 0) {
  console.error(`no fuzz target matches ${only}`);
  process.exit(2);
}

console.log(`fuzz: ${chosen.length} targets, ${runs} inputs each, seed ${baseSeed}`);
let crashes = 0;
let total = 0;
const started = performance.now();
for (const [i, t] of chosen.entries()) {
  const seed = (baseSeed + i) | 0;
  const t0 = performance.now();
  const r = fc.check(fc.property(t.input, timed(t.name, t.check)), { numRuns: runs, seed });
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  total += r.numRuns;
  if (r.failed) {
    crashes++;
    const why = r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance);
    console.log(`CRASH ${t.name}: after ${r.numRuns} inputs (${secs} s): ${why}`);
    console.log(
      `  replay: FUZZ_SEED=${seed} FUZZ_RUNS=${runs} --only='^${t.name}$' (path ${r.counterexamplePath})`,
    );
    console.log(`  input: ${fc.stringify(r.counterexample)}`);
  } else {
    console.log(`ok ${t.name}: ${r.numRuns} inputs, 0 crashes (${secs} s)`);
  }
}
const mins = ((performance.now() - started) / 60000).toFixed(1);
console.log(`fuzz: ${total} inputs over ${chosen.length} targets, ${crashes} crashing targets, ${mins} min`);
process.exit(crashes === 0 ? 0 : 1);
