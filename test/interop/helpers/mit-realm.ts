// A throwaway MIT krb5 realm for interop tests: its own database, kdc.conf and krb5.conf in a
// temp dir, a krb5kdc on a free loopback port run in the foreground (`-n`) as our child so we
// can always kill it, and helpers to drive MIT's client tools against it. Nothing under /etc is
// read or written: KRB5_CONFIG / KRB5_KDC_PROFILE are set only in the children's environment.

import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { type Relay, startRelay } from './relay.js';

/** The MIT binaries the harness needs, and where Debian puts them. */
export const MIT_BINARIES = [
  'krb5kdc',
  'kdb5_util',
  'kadmin.local',
  'kinit',
  'kvno',
  'klist',
  'kdestroy',
] as const;
export const MIT_PACKAGES = 'krb5-kdc krb5-admin-server krb5-user';
export const INSTALL_HINT =
  `MIT Kerberos is not installed. Install it with:\n` +
  `  sudo apt-get install -y ${MIT_PACKAGES}\n` +
  `(Debian/Ubuntu; Fedora: sudo dnf install krb5-server krb5-workstation) — or run ` +
  `'npm run test:interop' as root, which installs them.`;

const isCi = (): boolean => process.env['CI'] === 'true';

/** Resolves a binary on PATH and the sbin dirs (which a non-root PATH often lacks). */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function missingMitBinaries(): string[] {
  return MIT_BINARIES.filter((b) => findBinary(b) === undefined);
}

/**
 * The `skip` option for an interop suite. Outside CI a missing MIT install skips WITH the
 * install hint printed; in CI (CI=true) it returns false so the suite runs and fails loudly.
 */
export function skipUnlessMit(): string | false {
  const missing = missingMitBinaries();
  if (missing.length === 0) return false;
  const message = `missing MIT binaries: ${missing.join(', ')}. ${INSTALL_HINT}`;
  if (isCi()) return false;
  process.stderr.write(`\nSKIPPED interop: ${message}\n`);
  return message;
}

export interface RunOptions {
  input?: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Kill the child after this long (default 20 s). */
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Spawns `cmd` (resolved via findBinary), feeds `input`, and captures everything. Never throws on exit codes. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const path = cmd.includes('/') ? cmd : findBinary(cmd);
  if (path === undefined) {
    return Promise.reject(new Error(`${cmd}: not found. ${INSTALL_HINT}`));
  }
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, {
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 20_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    child.stdin.on('error', () => {
      // the child may exit before reading its input; the exit status tells the story
    });
    child.stdin.end(opts.input ?? '');
  });
}

function describe(cmd: string, args: readonly string[], r: RunResult): string {
  return (
    `${cmd} ${args.join(' ')} → exit ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''}\n` +
    `stdout: ${r.stdout.trim()}\nstderr: ${r.stderr.trim()}`
  );
}

const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => {
      const udp = createSocket('udp4');
      udp.once('error', () => srv.close(() => resolve(false)));
      udp.bind(port, '127.0.0.1', () => udp.close(() => srv.close(() => resolve(true))));
    });
  });
}

/**
 * A loopback port free for TCP and UDP, for a daemon to listen on. Chosen at random below the
 * kernel's ephemeral range (32768–60999 on Linux): a port from listen(0) is an ephemeral port, and
 * between our close and the daemon's bind any outgoing connection of a parallel test may take it
 * as its local port (`Address already in use`). Daemon starters still retry on a bind failure.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port in 20000–31999');
}

async function waitForPort(
  port: number,
  kdc: ChildProcess,
  logPath: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (kdc.exitCode !== null || kdc.signalCode !== null) {
      throw new Error(
        `krb5kdc exited (${kdc.exitCode ?? kdc.signalCode}) before listening:\n${readLog(logPath)}`,
      );
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`krb5kdc did not listen on ${port}:\n${readLog(logPath)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '(no kdc log)';
  }
}

export interface PrincipalSpec {
  name: string;
  /** Without a password the principal gets a random key (services). */
  password?: string;
}

export interface MitRealmOptions {
  realm: string;
  /** kdc.conf `supported_enctypes` entries, e.g. `aes256-cts-hmac-sha1-96:normal`. */
  enctypes: string[];
  /** Enctypes MIT clients may use (krb5.conf default_tkt/tgs/permitted); default: those of `enctypes`. */
  clientEnctypes?: string[];
  principals?: PrincipalSpec[];
  /** Put a recording relay between the clients and the KDC; krb5.conf then points at it. */
  relay?: boolean;
  /** Extra `[libdefaults]` lines for the clients' krb5.conf (e.g. `{ ccache_type: '3' }`). */
  libdefaults?: Record<string, string>;
  /** Extra relations for this realm in kdc.conf (e.g. `{ max_life: '10h' }`). */
  kdcRealmConf?: Record<string, string>;
  /**
   * `[libdefaults]` for the KDC itself, in kdc.conf (e.g. `{ allow_rc4: 'true' }`: MIT 1.20
   * issues rc4-hmac session keys only with it). The clients' krb5.conf is written after the KDC
   * starts, so its `libdefaults` do not reach the KDC.
   */
  kdcLibdefaults?: Record<string, string>;
  /** Extra kdc.conf sections, as text (e.g. the KDC's own `[capaths]`), read when the KDC starts. */
  kdcConfExtra?: string;
}

export interface MitRealm {
  readonly realm: string;
  /** The port in the clients' krb5.conf: the relay's when there is one, else the KDC's. */
  readonly port: number;
  /** The port the KDC itself listens on. */
  readonly kdcPort: number;
  readonly dir: string;
  readonly krb5ConfPath: string;
  readonly kdcConfPath: string;
  /** Environment for child processes: KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5CCNAME, KRB5_KTNAME. */
  readonly env: Record<string, string>;
  readonly relay: Relay | undefined;
  /** The default ccache of this realm (`FILE:<dir>/ccache`). */
  readonly ccache: string;
  run(cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Runs kadmin.local with one query; throws with its output when it fails. */
  kadmin(query: string): Promise<RunResult>;
  /** `addprinc -pw` or `addprinc -randkey`; the name is qualified with the realm when bare. */
  addPrincipal(name: string, password?: string): Promise<void>;
  /**
   * Exports `spn`'s CURRENT keys (`ktadd -norandkey`, so tickets already issued stay valid) to
   * `path` (appended to, as MIT does) or to a fresh `<dir>/<spn>.keytab`; returns the path.
   */
  keytab(spn: string, path?: string): Promise<string>;
  /** The keys a keytab holds, as `klist -k -K -e -t` prints them. */
  keytabKeys(path: string): Promise<KeytabKey[]>;
  /** MIT kinit with the password on stdin; throws with MIT's output when it fails. */
  kinit(principal: string, password: string, ccache?: string, args?: readonly string[]): Promise<RunResult>;
  /** MIT kvno: gets a service ticket into the ccache; throws when it fails. */
  kvno(spn: string, ccache?: string): Promise<RunResult>;
  /** MIT klist -e; throws when it fails (e.g. no ccache). */
  klist(ccache?: string, args?: readonly string[]): Promise<RunResult>;
  /** Writes a krb5.conf for this realm pointing at `port` (default: this realm's client port). */
  writeKrb5Conf(path: string, port?: number, libdefaults?: Record<string, string>): void;
  qualify(name: string): string;
  stop(): Promise<void>;
}

export interface KeytabKey {
  kvno: number;
  principal: string;
  enctypeName: string;
  key: Uint8Array;
}

const live = new Set<{ kdc: ChildProcess; dir: string }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that throws before its after() hook must still not leave a KDC running.
  process.once('exit', () => {
    for (const r of live) {
      if (r.kdc.exitCode === null && r.kdc.signalCode === null) r.kdc.kill('SIGKILL');
      rmSync(r.dir, { recursive: true, force: true });
    }
  });
}

function enctypeName(entry: string): string {
  return entry.split(':')[0] ?? entry;
}

function conf(sections: Record<string, string>): string {
  return `${Object.entries(sections)
    .map(([k, v]) => `[${k}]\n${v}`)
    .join('\n')}\n`;
}

function lines(rel: Record<string, string>, indent = '  '): string {
  return Object.entries(rel)
    .map(([k, v]) => `${indent}${k} = ${v}\n`)
    .join('');
}

/** Starts a throwaway realm; call `stop()` when done (also done at process exit as a backstop). */
export async function startMitRealm(opts: MitRealmOptions): Promise<MitRealm> {
  const missing = missingMitBinaries();
  if (missing.length > 0) throw new Error(`missing MIT binaries: ${missing.join(', ')}. ${INSTALL_HINT}`);
  installExitHook();

  const base = process.env['SPNEGO_INTEROP_TMP'] ?? tmpdir();
  const dir = mkdtempSync(join(base, `mit-${opts.realm.toLowerCase()}-`));
  const realm = opts.realm;
  const kdcPort = await freePort();
  const krb5ConfPath = join(dir, 'krb5.conf');
  const kdcConfPath = join(dir, 'kdc.conf');
  const kdcLog = join(dir, 'kdc.log');
  const clientEnctypes = (opts.clientEnctypes ?? opts.enctypes.map(enctypeName)).join(' ');

  const writeKdcConf = (): void =>
    writeFileSync(
      kdcConfPath,
      conf({
        // TCP only, on loopback: UDP would race other realms for the same port number.
        kdcdefaults: lines({ kdc_listen: '""', kdc_tcp_listen: `127.0.0.1:${kdcPort}` }),
        realms: `  ${realm} = {\n${lines(
          {
            database_name: join(dir, 'principal'),
            key_stash_file: join(dir, 'stash'),
            acl_file: join(dir, 'kadm5.acl'),
            admin_keytab: `FILE:${join(dir, 'kadm5.keytab')}`,
            master_key_type: 'aes256-cts-hmac-sha1-96',
            supported_enctypes: opts.enctypes.join(' '),
            // Every principal requires pre-authentication, as in real deployments: kinit then sees
            // KDC_ERR_PREAUTH_REQUIRED with ETYPE-INFO2 before its PA-ENC-TIMESTAMP.
            default_principal_flags: '+preauth',
            max_life: '10h',
            max_renewable_life: '7d',
            ...opts.kdcRealmConf,
          },
          '    ',
        )}  }\n`,
        logging: lines({ kdc: `FILE:${kdcLog}`, default: `FILE:${kdcLog}` }),
        ...(opts.kdcLibdefaults ? { libdefaults: lines(opts.kdcLibdefaults) } : {}),
      }) + (opts.kdcConfExtra ?? ''),
    );
  writeKdcConf();
  writeFileSync(join(dir, 'kadm5.acl'), '');

  let relay: Relay | undefined;
  const writeKrb5Conf = (path: string, port: number, libdefaults: Record<string, string> = {}): void => {
    writeFileSync(
      path,
      conf({
        libdefaults: lines({
          default_realm: realm,
          dns_lookup_kdc: 'false',
          dns_lookup_realm: 'false',
          dns_canonicalize_hostname: 'false',
          rdns: 'false',
          udp_preference_limit: '1',
          default_tkt_enctypes: clientEnctypes,
          default_tgs_enctypes: clientEnctypes,
          permitted_enctypes: clientEnctypes,
          forwardable: 'true',
          ...opts.libdefaults,
          ...libdefaults,
        }),
        realms: `  ${realm} = {\n    kdc = 127.0.0.1:${port}\n  }\n`,
        domain_realm: lines({ localhost: realm, '.localhost': realm }),
      }),
    );
  };

  const ccache = `FILE:${join(dir, 'ccache')}`;
  const env: Record<string, string> = {
    KRB5_CONFIG: krb5ConfPath,
    KRB5_KDC_PROFILE: kdcConfPath,
    KRB5CCNAME: ccache,
    KRB5_KTNAME: `FILE:${join(dir, 'default.keytab')}`,
    KRB5RCACHEDIR: dir,
  };
  const runIn = (cmd: string, args: readonly string[], o: RunOptions = {}): Promise<RunResult> =>
    run(cmd, args, { ...o, env: { ...env, ...o.env } });
  const must = async (cmd: string, args: readonly string[], o: RunOptions = {}): Promise<RunResult> => {
    const r = await runIn(cmd, args, o);
    if (r.code !== 0) throw new Error(describe(cmd, args, r));
    return r;
  };
  // kadmin.local's -q goes through the ss line parser, which honours double quotes.
  const quote = (v: string): string => {
    if (v.includes('"')) throw new Error(`kadmin quoting: ${JSON.stringify(v)} contains a double quote`);
    return `"${v}"`;
  };
  const addprinc = (name: string, password: string | undefined): string =>
    password !== undefined
      ? `addprinc -pw ${quote(password)} ${quote(name)}`
      : `addprinc -randkey ${quote(name)}`;
  const qualify = (name: string): string => (name.includes('@') ? name : `${name}@${realm}`);
  const kadmin = async (query: string): Promise<RunResult> => {
    const r = await must('kadmin.local', ['-r', realm, '-q', query]);
    // kadmin.local exits 0 even when the query fails; its complaints go to stderr.
    if (/error|failed|not found|unknown|usage/i.test(r.stderr))
      throw new Error(describe('kadmin.local', [query], r));
    return r;
  };

  let kdc: ChildProcess | undefined;
  const entry = { kdc: undefined as unknown as ChildProcess, dir };
  const stop = async (): Promise<void> => {
    if (relay) await relay.close();
    if (kdc && kdc.exitCode === null && kdc.signalCode === null) {
      const k = kdc;
      const exited = new Promise<void>((resolve) => k.once('exit', () => resolve()));
      k.kill('SIGTERM');
      const t = setTimeout(() => k.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    live.delete(entry);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await must('kdb5_util', ['-r', realm, 'create', '-s', '-P', 'master-password-not-secret']);
    const kdcPath = findBinary('krb5kdc');
    if (kdcPath === undefined) throw new Error(`krb5kdc: not found. ${INSTALL_HINT}`);
    // The port comes from the kernel's ephemeral range (freePort), so two realms started at once
    // practically never share it; note MIT binds with SO_REUSEPORT, so a clash would not fail
    // here but would show up as the wrong realm answering.
    const child = spawn(kdcPath, ['-n', '-r', realm, '-P', join(dir, 'krb5kdc.pid')], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', () => {
      // drained; the log file holds the details
    });
    kdc = child;
    entry.kdc = child;
    live.add(entry);
    await waitForPort(kdcPort, child, kdcLog);
    if (opts.relay) relay = await startRelay({ port: kdcPort });
    writeKrb5Conf(krb5ConfPath, relay?.port ?? kdcPort);
    for (const p of opts.principals ?? []) {
      await kadmin(addprinc(p.name, p.password));
    }
  } catch (e) {
    await stop();
    throw e;
  }

  const port = relay?.port ?? kdcPort;
  return {
    realm,
    port,
    kdcPort,
    dir,
    krb5ConfPath,
    kdcConfPath,
    env,
    relay,
    ccache,
    run: runIn,
    kadmin,
    async addPrincipal(name, password) {
      await kadmin(addprinc(name, password));
    },
    async keytab(spn, path) {
      const file = path ?? join(dir, `${spn.replace(/[^A-Za-z0-9.-]/g, '_')}.keytab`);
      // ktadd appends: start the default file afresh so repeated calls do not duplicate entries.
      if (path === undefined) rmSync(file, { force: true });
      await kadmin(`ktadd -norandkey -k ${quote(file)} ${quote(spn)}`);
      return file;
    },
    async keytabKeys(path) {
      const r = await must('klist', ['-k', '-K', '-e', '-t', path]);
      const keys: KeytabKey[] = [];
      // "   2 01/01/24 00:00:00 HTTP/localhost@R (aes256-cts-hmac-sha1-96)  (0x0011...)"
      for (const line of r.stdout.split('\n')) {
        const m = /^\s*(\d+)\s+\S+\s+\S+\s+(\S+)\s+\(([^)]+)\)\s+\(0x([0-9a-f]+)\)/i.exec(line);
        if (m) {
          keys.push({
            kvno: Number(m[1]),
            principal: m[2] ?? '',
            enctypeName: m[3] ?? '',
            key: Uint8Array.from(Buffer.from(m[4] ?? '', 'hex')),
          });
        }
      }
      return keys;
    },
    kinit(principal, password, cc = ccache, args = []) {
      return must('kinit', ['-c', cc, ...args, qualify(principal)], { input: `${password}\n` });
    },
    kvno(spn, cc = ccache) {
      return must('kvno', ['-c', cc, spn]);
    },
    klist(cc = ccache, args = []) {
      return must('klist', ['-e', '-c', cc, ...args]);
    },
    writeKrb5Conf(path, p = port, libdefaults = {}) {
      writeKrb5Conf(path, p, libdefaults);
    },
    qualify,
    stop,
  };
}
