// The edge app on plain Node, for bench/edge's reference row: same inputs, same JSON line.
import { handle } from './edge-app.js';

const t0 = Date.now();
const res = await handle({
  KRB5_CONF: process.env.KRB5_CONF ?? '',
  KEYTAB_B64: process.env.KEYTAB_B64 ?? '',
  PRINCIPAL: process.env.PRINCIPAL ?? '',
  URL: process.env.URL ?? '',
});
process.stdout.write(
  `${JSON.stringify({ kind: 'node', bundleGzipBytes: 0, coldMs: Date.now() - t0, answer: await res.json() })}\n`,
);
