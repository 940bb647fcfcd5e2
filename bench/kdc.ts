// `node --import tsx bench/kdc.ts [ROUNDS]`: cold kinit + first service ticket against one real
// MIT KDC — ours in-process (load krb5.conf, AS exchange with pre-auth, TGS-REQ, write the
// ccache) versus MIT `kinit` + `kvno` as processes — interleaved round by round in one run, so
// both see the same machine load. Prints medians and the ratio MIT / ours.
import { join } from 'node:path';
import { loadConfig } from '../src/krb5/config-load.js';
import { Credentials } from '../src/krb5/credentials.js';
import { startMitRealm } from '../test/interop/helpers/mit-realm.js';

const ROUNDS = Number(process.argv[2] ?? 15);
const REALM = 'BENCH.TEST';
const PASSWORD = 'bench-password';
const SPN = `HTTP/localhost@${REALM}`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

const realm = await startMitRealm({
  realm: REALM,
  enctypes: ['aes256-cts-hmac-sha1-96:normal'],
  principals: [{ name: 'user', password: PASSWORD }, { name: 'HTTP/localhost' }],
});
try {
  const ours: number[] = [];
  const mit: number[] = [];
  // One warm-up of each so neither pays first-run disk/JIT costs inside the measurement.
  for (let i = -1; i < ROUNDS; i++) {
    const ourCc = `FILE:${join(realm.dir, `ours-${i}`)}`;
    const t0 = performance.now();
    const config = await loadConfig({ env: realm.env });
    const creds = await Credentials.fromPassword(`user@${REALM}`, PASSWORD, { config });
    await creds.getServiceTicket(SPN);
    await creds.save(ourCc);
    const t1 = performance.now();
    const mitCc = `FILE:${join(realm.dir, `mit-${i}`)}`;
    await realm.kinit('user', PASSWORD, mitCc);
    await realm.kvno(SPN, mitCc);
    const t2 = performance.now();
    if (i >= 0) {
      ours.push(t1 - t0);
      mit.push(t2 - t1);
    }
  }
  const o = median(ours);
  const m = median(mit);
  process.stdout.write(
    `cold kinit + first service ticket, aes256-cts-hmac-sha1-96, ${ROUNDS} rounds (median)\n` +
      `  spnego (in-process):       ${o.toFixed(1)} ms\n` +
      `  MIT kinit + kvno (procs):  ${m.toFixed(1)} ms\n` +
      `  ratio MIT / spnego:        ${(m / o).toFixed(2)}x\n`,
  );
} finally {
  await realm.stop();
}
