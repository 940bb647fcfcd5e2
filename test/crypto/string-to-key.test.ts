// string-to-key under a KDC's control: the PBKDF2 iteration count comes from an unauthenticated
// PREAUTH_REQUIRED, so the derivation must neither block the event loop nor run unbounded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodeEtypeInfo2,
  encodeKrbError,
  encodeMethodData,
  MessageType,
  PaDataType,
} from '../../src/asn1/index.js';
import {
  DEFAULT_MAX_S2K_ITERATIONS,
  getEnctype,
  MAX_PBKDF2_ITERATIONS,
  stringToKey,
} from '../../src/crypto/index.js';
import { pbkdf2Step } from '../../src/crypto/pbkdf2.js';
import { CryptoError } from '../../src/errors.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { doubleConfig, kdcDoubles, tgsName } from '../krb5/kdc-double.js';

const params = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);

/** Runs `work` while a 5 ms interval counts how often the event loop got to run it. */
async function ticksDuring(work: () => Promise<unknown>): Promise<number> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return ticks;
}

const isLimit = (e: unknown) =>
  e instanceof CryptoError &&
  e.code === 'S2K_ITERATIONS_LIMIT' &&
  /spnego_max_s2k_iterations/.test(e.hint ?? '') &&
  /maxStringToKeyIterations/.test(e.hint ?? '');

test('string-to-key keeps the event loop turning: a timer fires during a 1,000,000-iteration derivation', async () => {
  for (const et of [18, 20]) {
    const ticks = await ticksDuring(() => stringToKey(et, 'pw', 'EXAMPLE.TESTuser', params(1_000_000)));
    assert.ok(ticks >= 3, `enctype ${et}: the timer fired ${ticks} times while PBKDF2 ran`);
  }
});

test('without WebCrypto the @noble fallback yields to the event loop too', async () => {
  const plan = getEnctype(17).stringToKeyPlan(new TextEncoder().encode('salt'), params(200_000));
  assert.ok(plan.pbkdf2);
  const pbkdf2 = plan.pbkdf2;
  const ticks = await ticksDuring(() => pbkdf2Step(pbkdf2, new TextEncoder().encode('pw'), null));
  assert.ok(ticks >= 2, `the timer fired ${ticks} times while @noble PBKDF2 ran`);
});

test('an iteration count over the cap is a typed S2K_ITERATIONS_LIMIT error with a hint', async () => {
  assert.equal(DEFAULT_MAX_S2K_ITERATIONS, 1 << 20);
  for (const et of [17, 18, 19, 20]) {
    await assert.rejects(stringToKey(et, 'pw', 'salt', params(DEFAULT_MAX_S2K_ITERATIONS + 1)), isLimit);
    // MIT's own limit is a protocol-level refusal, whatever the cap.
    await assert.rejects(stringToKey(et, 'pw', 'salt', params(MAX_PBKDF2_ITERATIONS + 1)), (e: unknown) => {
      return e instanceof CryptoError && e.code === 'BAD_PARAMS';
    });
  }
  // The cap is a setting: lowered here so the test stays cheap; raising works the same way.
  await assert.rejects(stringToKey(18, 'pw', 'salt', params(8193), { maxIterations: 8192 }), isLimit);
  const k = await stringToKey(18, 'pw', 'salt', params(8192), { maxIterations: 8192 });
  assert.equal(k.bytes.length, 32);
  // It cannot be raised past MIT's limit (MIT would derive no key there).
  await assert.rejects(
    stringToKey(18, 'pw', 'salt', params(4096), { maxIterations: MAX_PBKDF2_ITERATIONS + 1 }),
    {
      code: 'BAD_PARAMS',
    },
  );
});

const startDouble = kdcDoubles();
const REALM = 'S2K.TEST';

/** A KDC double whose PREAUTH_REQUIRED names `count` PBKDF2 iterations for aes256. */
async function preauthAsking(count: number) {
  return startDouble(() => ({
    reply: encodeKrbError({
      pvno: 5,
      msgType: MessageType.KRB_ERROR,
      stime: new Date(Math.floor(Date.now() / 1000) * 1000),
      susec: 0,
      errorCode: 25,
      realm: REALM,
      sname: tgsName(REALM),
      eData: encodeMethodData([
        {
          padataType: PaDataType.ETYPE_INFO2,
          padataValue: encodeEtypeInfo2([{ etype: 18, salt: `${REALM}user`, s2kparams: params(count) }]),
        },
        { padataType: PaDataType.ENC_TIMESTAMP, padataValue: new Uint8Array(0) },
      ]),
    }),
  }));
}

test('a PREAUTH_REQUIRED asking for 3,000,000 iterations fails fromPassword with S2K_ITERATIONS_LIMIT, nothing sent', async () => {
  const d = await preauthAsking(3_000_000);
  await assert.rejects(
    Credentials.fromPassword(`user@${REALM}`, 'pw', { config: doubleConfig({ [REALM]: [d.port] }) }),
    isLimit,
  );
  assert.equal(d.requests.length, 1, 'no pre-authenticated request followed');
});

test('the cap comes from krb5.conf spnego_max_s2k_iterations, and the option overrides it', async () => {
  const d = await preauthAsking(8192);
  const config = doubleConfig({ [REALM]: [d.port] }, { extra: '  spnego_max_s2k_iterations = 5000' });
  assert.equal(config.libdefaultsFor(REALM).maxS2kIterations, 5000);
  await assert.rejects(Credentials.fromPassword(`user@${REALM}`, 'pw', { config }), (e: unknown) => {
    return isLimit(e) && /over the limit of 5000/.test((e as Error).message);
  });
  await assert.rejects(
    Credentials.fromPassword(`user@${REALM}`, 'pw', { config, maxStringToKeyIterations: 4096 }),
    (e: unknown) => isLimit(e) && /over the limit of 4096/.test((e as Error).message),
  );
  assert.throws(
    () => doubleConfig({ [REALM]: [d.port] }, { extra: '  spnego_max_s2k_iterations = 16777216' }),
    {
      code: 'CONFIG_VALUE',
    },
  );
});

test('the iteration cap holds for every PBKDF2 enctype, Camellia included', async () => {
  for (const et of [25, 26]) {
    await assert.rejects(stringToKey(et, 'pw', 'salt', params(DEFAULT_MAX_S2K_ITERATIONS + 1)), isLimit);
  }
});
