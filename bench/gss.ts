// `node --import tsx bench/gss.ts`: SPNEGO tokens per second for a warm service ticket — our
// createInitiatorContext + step() against the native npm `kerberos` package's
// initializeClient().step('') (MIT libgssapi_krb5), on the same MIT ccache, in one run.
//
// The native package is never a dependency of this project: install it in a scratch dir
// (`apt-get install libkrb5-dev; cd /tmp/x && npm install kerberos`) and point
// KERBEROS_NATIVE_DIR at that dir; without it only our number is printed.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadConfig } from '../src/krb5/config-load.js';
import { Credentials } from '../src/krb5/credentials.js';
import { createInitiatorContext } from '../src/spnego/index.js';
import { startMitRealm } from '../test/interop/helpers/mit-realm.js';

const DURATION_MS = Number(process.env['BENCH_MS'] ?? 3000);

interface NativeClient {
  step(challenge: string): Promise<string>;
}
interface NativeKerberos {
  initializeClient(service: string, options: { mechOID?: unknown }): Promise<NativeClient>;
  GSS_MECH_OID_SPNEGO: unknown;
}

async function measure(name: string, one: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 50; i++) await one(); // warm-up (JIT, caches)
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < DURATION_MS) {
    await one();
    n++;
  }
  const rate = n / ((performance.now() - start) / 1000);
  console.log(`${name.padEnd(44)} ${rate.toFixed(0).padStart(8)} tokens/s  (${n} in ${DURATION_MS} ms)`);
  return rate;
}

const realm = await startMitRealm({
  realm: 'BENCH.TEST',
  enctypes: ['aes256-cts-hmac-sha1-96:normal'],
  principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'HTTP/localhost' }],
});
try {
  await realm.kinit('alice', 'alice-pw');
  await realm.kvno('HTTP/localhost'); // the warm ticket, in the ccache both sides read
  const credentials = await Credentials.fromCcache(realm.ccache, {
    config: await loadConfig({ files: [realm.krb5ConfPath] }),
  });
  const ours = await measure('ours: createInitiatorContext + step()', async () => {
    const ctx = await createInitiatorContext({ credentials, target: 'HTTP@localhost' });
    return ctx.step();
  });
  const dir = process.env['KERBEROS_NATIVE_DIR'];
  if (dir) {
    Object.assign(process.env, { KRB5_CONFIG: realm.krb5ConfPath, KRB5CCNAME: realm.ccache });
    const kerberos = createRequire(join(dir, 'package.json'))('kerberos') as NativeKerberos;
    const native = await measure("native kerberos: initializeClient().step('')", async () => {
      const client = await kerberos.initializeClient('HTTP@localhost', {
        mechOID: kerberos.GSS_MECH_OID_SPNEGO,
      });
      return client.step('');
    });
    console.log(`ratio ours/native: ${(ours / native).toFixed(1)}x`);
  } else {
    console.log('native `kerberos` not measured: set KERBEROS_NATIVE_DIR (see the header of this file)');
  }
} finally {
  await realm.stop();
}
