// Real KCM daemons for interop tests, each in its own mount namespace so nothing under /var or
// /run is touched: sssd-kcm (its confdb and secrets database bind-mounted from a temp dir, the
// socket where its [kcm] socket_path says) and Heimdal's kcm (unpacked by scripts/interop/run.sh
// beside MIT, since its packages conflict with MIT's; it always listens on
// /var/run/.heim_org.h5l.kcm-socket, so a temp dir is bind-mounted over /run). Both run as our
// children in the foreground and leave a pid file for the runner's cleanup.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './mit-realm.js';

export type KcmKind = 'sssd' | 'heimdal';

export interface KcmDaemonHandle {
  readonly kind: KcmKind;
  readonly socketPath: string;
  readonly dir: string;
  /** What the daemon wrote to stdout/stderr, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const SSSD_KCM = '/usr/libexec/sssd/sssd_kcm';
/** Where scripts/interop/run.sh unpacks heimdal-kcm and its libraries (dpkg -x). */
export const HEIMDAL_KCM_ROOT =
  process.env['SPNEGO_HEIMDAL_KCM_ROOT'] ?? '/var/cache/spnego-interop/heimdal-kcm';
const heimdalKcm = (): string => join(HEIMDAL_KCM_ROOT, 'usr/sbin/kcm');

/** Why a daemon cannot run here, or undefined. */
export function missingKcm(kind: KcmKind): string | undefined {
  if (process.getuid?.() !== 0) return 'KCM daemons are run in their own mount namespace, which needs root';
  if (findBinary('unshare') === undefined) return 'unshare (util-linux) is missing';
  if (kind === 'sssd') {
    if (!existsSync(SSSD_KCM) || findBinary('sssd') === undefined)
      return 'sssd-kcm is not installed: sudo apt-get install -y sssd-kcm';
    return undefined;
  }
  if (!existsSync(heimdalKcm())) {
    return (
      `Heimdal's kcm is not unpacked at ${HEIMDAL_KCM_ROOT}: run 'npm run test:interop' as root ` +
      '(it runs apt-get download heimdal-kcm and its libraries, then dpkg -x), or set SPNEGO_HEIMDAL_KCM_ROOT'
    );
  }
  return undefined;
}

/** `skip` for a suite: the reason outside CI (printed); in CI false, so the suite fails loudly. */
export function skipUnlessKcm(kind: KcmKind): string | false {
  const why = missingKcm(kind);
  if (why === undefined || process.env['CI'] === 'true') return false;
  process.stderr.write(`\nSKIPPED interop (${kind} kcm): ${why}\n`);
  return why;
}

async function waitForSocket(path: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!existsSync(path)) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `KCM daemon exited before listening (${child.exitCode ?? child.signalCode}):\n${output()}`,
      );
    if (Date.now() > deadline) throw new Error(`KCM daemon did not create ${path} within 10 s:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts a daemon of `kind` in a fresh temp dir; `stop()` ends it and removes the dir. */
export async function startKcm(kind: KcmKind): Promise<KcmDaemonHandle> {
  const why = missingKcm(kind);
  if (why !== undefined) throw new Error(why);
  const dir = mkdtempSync(join(process.env['SPNEGO_INTEROP_TMP'] ?? tmpdir(), `kcm-${kind}-`));
  chmodSync(dir, 0o755);
  let script: string;
  let socketPath: string;
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  if (kind === 'sssd') {
    for (const d of ['db', 'secrets', 'log']) mkdirSync(join(dir, d));
    socketPath = join(dir, 'kcm.socket');
    const conf = join(dir, 'sssd.conf');
    writeFileSync(conf, `[sssd]\nservices = kcm\n\n[kcm]\nsocket_path = ${socketPath}\n`, { mode: 0o600 });
    // sssd_kcm reads its settings from the confdb that --genconf-section builds; both the confdb
    // and the ccache store (secrets.ldb) live at fixed paths, private to this namespace.
    script = [
      'set -e',
      `mount --bind ${dir}/db /var/lib/sss/db`,
      `mount --bind ${dir}/secrets /var/lib/sss/secrets`,
      `mount --bind ${dir}/log /var/log/sssd`,
      `sssd -c ${conf} --genconf-section=kcm`,
      `exec ${SSSD_KCM} --uid 0 --gid 0 --logger=stderr`,
    ].join('\n');
  } else {
    const run = join(dir, 'run');
    mkdirSync(run);
    socketPath = join(run, '.heim_org.h5l.kcm-socket');
    env['LD_LIBRARY_PATH'] = join(HEIMDAL_KCM_ROOT, 'usr/lib/x86_64-linux-gnu');
    script = ['set -e', `mount --bind ${run} /run`, `exec ${heimdalKcm()}`].join('\n');
  }
  // unshare and sh exec in place: the child's pid is the daemon's.
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    if (out.length < 64 * 1024) out += b.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  writeFileSync(join(dir, 'kcm.pid'), `${child.pid}\n`);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForSocket(socketPath, child, () => out);
  } catch (e) {
    await stop();
    throw e;
  }
  return { kind, socketPath, dir, output: () => out, stop };
}
