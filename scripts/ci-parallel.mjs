#!/usr/bin/env node
// Runs independent CI stages side by side (at most SPNEGO_CI_JOBS at once, default 2: the CI
// machine has 2 cores), each stage's output kept apart and printed whole when it ends, then a
// table of each stage's wall time. Exit status 1 when any stage failed.
//   node scripts/ci-parallel.mjs 'name=command' 'name=command' ...
import { spawn } from 'node:child_process';

const jobs = process.argv.slice(2).map((a) => {
  const eq = a.indexOf('=');
  return { name: a.slice(0, eq), command: a.slice(eq + 1) };
});
const limit = Math.max(1, Number(process.env.SPNEGO_CI_JOBS ?? 2));
const results = [];
const started = Date.now();

function run(job) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn('bash', ['-c', job.command], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    child.on('close', (code, signal) => {
      const seconds = (Date.now() - t0) / 1000;
      process.stdout.write(
        `\n== ${job.name} (${seconds.toFixed(1)} s, ${code === 0 ? 'ok' : `FAILED: exit ${code ?? signal}`})\n`,
      );
      process.stdout.write(Buffer.concat(chunks));
      results.push({ name: job.name, seconds, ok: code === 0 });
      resolve();
    });
  });
}

const queue = [...jobs];
await Promise.all(
  Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await run(job);
  }),
);
console.log(
  `\n== stage wall times (${limit} at a time, ${((Date.now() - started) / 1000).toFixed(1)} s in all)`,
);
for (const r of results)
  console.log(`  ${r.ok ? 'ok    ' : 'FAILED'} ${r.seconds.toFixed(1).padStart(7)} s  ${r.name}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
