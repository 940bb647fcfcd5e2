// The edge app on plain Node, for bench/edge's reference row: same inputs, same JSON line.
import { handle } from './edge-app.js';

const t0 = Date.now();
const cpu0 = process.cpuUsage();
const res = await handle({
  KRB5_CONF: process.env.KRB5_CONF ?? '',
  KEYTAB_B64: process.env.KEYTAB_B64 ?? '',
  PRINCIPAL: process.env.PRINCIPAL ?? '',
  URL: process.env.URL ?? '',
  ORDINARY: process.env.ORDINARY ?? '',
});
const cpuMs = (): number => {
  const u = process.cpuUsage(cpu0);
  return (u.user + u.system) / 1000;
};
process.stdout.write(
  `${JSON.stringify({ kind: 'node', bundleGzipBytes: 0, coldMs: Date.now() - t0, cpuMs: cpuMs(), answer: await res.json() })}\n`,
);
