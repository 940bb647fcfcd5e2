// A throwaway Samba AD DC for interop tests: `samba-tool domain provision` into a temp dir
// (targetdir: its smb.conf, sam.ldb, logs and pid files all there, nothing under /etc or /var),
// the accounts a suite needs made in ONE python process (samba-tool's commands run in-process:
// each separate samba-tool costs seconds of start-up), then `samba` in the foreground with only
// its KDC (`server services = kdc`) on 127.0.0.1:88. Samba's KDC port is fixed, so only one suite
// may use it at a time; a suite provisions once (~3 s, the setup in one process a few more).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, run } from './mit-realm.js';

export const SAMBA_PACKAGES = 'samba samba-ad-dc krb5-user';
const isCi = (): boolean => process.env['CI'] === 'true';

export function missingSamba(): string | undefined {
  for (const b of ['samba', 'samba-tool', 'kinit']) {
    if (findBinary(b) === undefined) return `${b} is not installed (apt-get install ${SAMBA_PACKAGES})`;
  }
  if (process.getuid?.() !== 0) return 'a Samba AD DC binds port 88: run as root (CI does)';
  return undefined;
}

/** The `skip` option for a Samba suite: outside CI a missing Samba skips with a hint, in CI it fails. */
export function skipUnlessSamba(): string | false {
  const missing = missingSamba();
  if (missing === undefined || isCi()) return false;
  process.stderr.write(`\nSKIPPED interop (Samba AD): ${missing}\n`);
  return missing;
}

export interface SambaAd {
  readonly realm: string;
  readonly dir: string;
  readonly smbConf: string;
  /** A krb5.conf for clients: the realm's KDC at 127.0.0.1:88, `.domain` mapped to the realm. */
  readonly krb5ConfPath: string;
  /** The DC's log file (what the KDC says, at the `log level` given in `options`). */
  readonly logPath: string;
  /**
   * Runs samba-tool commands (each an argv after `samba-tool`; `{dir}` stands for `dir`) in one
   * python process, in order; resolves to what they printed.
   */
  tool(commands: readonly (readonly string[])[]): Promise<string>;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const TOOL_SCRIPT = `
import json, sys
from samba.netcmd.main import cmd_sambatool
for argv in json.load(open(sys.argv[1])):
    cmd = cmd_sambatool()
    try:
        rc = cmd._run("samba-tool", argv[0], *argv[1:])
    except SystemExit as e:
        rc = e.code
    if rc:
        sys.stderr.write("samba-tool %s failed (%s)\\n" % (" ".join(argv), rc))
        sys.exit(1)
`;

/**
 * Provisions `realm` (domain = its first label) and runs `setup` (samba-tool commands) before the
 * KDC starts, so accounts, SPNs, delegation settings and keytab exports cost one process.
 */
export async function startSambaAd(opts: {
  realm: string;
  adminPassword?: string;
  setup?: readonly (readonly string[])[];
  /** smb.conf options for the running DC (`log level = 1 kdc:4` to see the KDC's reasons). */
  options?: readonly string[];
}): Promise<SambaAd> {
  const missing = missingSamba();
  if (missing !== undefined) throw new Error(missing);
  if (await portOpen(88)) throw new Error('port 88 on 127.0.0.1 is taken (another KDC or Samba is running)');
  const base = process.env['SPNEGO_INTEROP_TMP'] ?? tmpdir();
  const dir = mkdtempSync(join(base, 'samba-ad-'));
  const realm = opts.realm;
  const domain = (realm.split('.')[0] as string).toUpperCase();
  const target = join(dir, 't');
  const smbConf = join(target, 'etc', 'smb.conf');
  let samba: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    const s = samba;
    if (s && s.exitCode === null && s.signalCode === null) {
      const exited = new Promise<void>((r) => s.once('exit', () => r()));
      s.kill('SIGTERM');
      const t = setTimeout(() => s.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    // Retried: a Samba helper process can still be closing files in the tree as it exits.
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };
  const tool = async (commands: readonly (readonly string[])[]): Promise<string> => {
    const script = join(dir, 'tool.py');
    const list = join(dir, `tool-${Date.now()}.json`);
    writeFileSync(script, TOOL_SCRIPT);
    // `{dir}` in an argument is this DC's temp dir (keytab exports before the KDC starts).
    writeFileSync(
      list,
      JSON.stringify(commands.map((c) => [...c.map((a) => a.replaceAll('{dir}', dir)), '-s', smbConf])),
    );
    const r = await run('/usr/bin/python3', [script, list], { timeoutMs: 180_000 });
    if (r.code !== 0) throw new Error(`samba-tool setup failed: ${r.stderr.slice(-2000)}`);
    return r.stdout;
  };
  try {
    const prov = await run(
      'samba-tool',
      [
        'domain',
        'provision',
        `--realm=${realm}`,
        `--domain=${domain}`,
        '--server-role=dc',
        '--dns-backend=NONE',
        `--adminpass=${opts.adminPassword ?? 'Adm1n-Passw0rd!'}`,
        `--targetdir=${target}`,
        '--option=interfaces=127.0.0.1',
        '--option=bind interfaces only=yes',
        `--option=log file=${join(dir, 'samba.log')}`,
        `--option=pid directory=${dir}`,
        '--option=server services=kdc',
      ],
      { timeoutMs: 300_000 },
    );
    if (prov.code !== 0)
      throw new Error(
        `samba-tool domain provision failed:\n${prov.stdout.slice(-2000)}${prov.stderr.slice(-2000)}`,
      );
    if (opts.setup && opts.setup.length > 0) await tool(opts.setup);
    const bin = findBinary('samba');
    if (bin === undefined) throw new Error('samba not found');
    // Interactive mode: samba ends when its stdin closes, so it cannot outlive this process.
    // One process (-M single): no forked workers left writing into the temp dir after stop().
    const logFd = openSync(join(dir, 'samba.log'), 'a');
    const extra = (opts.options ?? []).map((o) => `--option=${o}`);
    samba = spawn(bin, ['-i', '-M', 'single', '-s', smbConf, '--option=server services=kdc', ...extra], {
      // Interactive mode logs to stdout: kept in the DC's log file for tests that read it.
      stdio: ['pipe', logFd, logFd],
    });
    closeSync(logFd);
    writeFileSync(join(dir, 'samba.pid'), String(samba.pid ?? ''));
    for (let i = 0; !(await portOpen(88)); i++) {
      if (samba.exitCode !== null)
        throw new Error(`samba exited (${samba.exitCode}) before its KDC listened`);
      if (i > 600) throw new Error('the Samba KDC did not listen on 127.0.0.1:88');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const krb5ConfPath = join(dir, 'krb5.conf');
  writeFileSync(
    krb5ConfPath,
    `[libdefaults]
  default_realm = ${realm}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
  forwardable = true
[realms]
  ${realm} = {
    kdc = 127.0.0.1:88
  }
[domain_realm]
  .${realm.toLowerCase()} = ${realm}
`,
  );
  return { realm, dir, smbConf, krb5ConfPath, logPath: join(dir, 'samba.log'), tool, stop };
}
