// A throwaway Apache 2.4 + mod_auth_gssapi, the reference SPNEGO server (see shared INTEROP.md).
// Everything lives in its own temp dir (under $SPNEGO_INTEROP_TMP when set, where the interop
// runner's cleanup trap finds apache.pid); Apache runs in the foreground (-D FOREGROUND) as our
// child so stop() and a process-exit backstop can always kill it.
//
// Apache refuses to serve as root, so workers run as www-data: the keytab, krb5.conf and CGI
// script are copied here world-readable (the MIT realm's own dir is 0700), and the replay cache
// and delegation dirs are world-writable.
//
// Default locations (every one answers X-Remote-User with the authenticated principal):
//   /public/        no authentication, static "public\n"
//   /private/       Negotiate required, static "private\n"
//   /echo           Negotiate required, CGI: method, user, then the request body verbatim
//   /public-echo    the same CGI without authentication
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary, freePort, type MitRealm } from './mit-realm.js';

export const APACHE_PACKAGES = 'apache2 libapache2-mod-auth-gssapi';
const MODULES_DIR = '/usr/lib/apache2/modules';

export interface ApacheLocation {
  /** URL path, e.g. `/api` (matched as an Apache <Location>). */
  path: string;
  /** Require Negotiate (AuthType GSSAPI + Require valid-user); default true. */
  auth?: boolean;
  /** With auth: what `Require` demands instead of `valid-user`, e.g. `user alice@REALM`. */
  require?: string;
  /** Serve the echo CGI here (method, user, body); default: a static file `<name>\n`. */
  echo?: boolean;
  /**
   * Serve a CGI that reads the whole request body and answers method, user and its byte count:
   * for large uploads, which the echo CGI cannot take (`cat` fills its stdout pipe while Apache
   * is still writing the body to its stdin, and both wait until Apache's Timeout, 60 s).
   */
  sink?: boolean;
  /** Extra Apache directives inside the <Location>, e.g. `GssapiAllowedMech krb5`. */
  directives?: string[];
}

export interface ApacheOptions {
  realm: MitRealm;
  /** Keytab holding HTTP/localhost (copied, made world-readable for www-data). */
  keytab: string;
  port?: number;
  /**
   * Where mod_auth_gssapi stores delegated credentials (GssapiDelegCcacheDir), created 1777;
   * `true` = `<dir>/deleg`. A path of your own must be reachable by www-data (not in a 0700 dir).
   */
  delegCcacheDir?: string | true;
  /** Locations added to the defaults (a same path replaces a default). */
  locations?: ApacheLocation[];
  /** Extra server-level directives. */
  directives?: string[];
  /** Serve https with this certificate and key (PEM files; copied readable for www-data). */
  tls?: { certFile: string; keyFile: string };
}

export interface Apache {
  readonly port: number;
  /** `http(s)://localhost:<port>` — the host name matters: the SPN is HTTP/localhost. */
  readonly url: string;
  readonly dir: string;
  readonly delegCcacheDir: string | undefined;
  /** The server's error log (mod_auth_gssapi's complaints land here). */
  errorLog(): string;
  stop(): Promise<void>;
}

export function missingApache(): string | undefined {
  if (findBinary('apache2') === undefined) return 'apache2';
  try {
    readFileSync(join(MODULES_DIR, 'mod_auth_gssapi.so'));
  } catch {
    return 'mod_auth_gssapi';
  }
  return undefined;
}

/** The `skip` option for suites needing Apache: skip with a hint outside CI, run (and fail) in CI. */
export function skipUnlessApache(): string | false {
  const missing = missingApache();
  if (missing === undefined || process.env['CI'] === 'true') return false;
  const message = `missing ${missing}: sudo apt-get install -y ${APACHE_PACKAGES}`;
  process.stderr.write(`\nSKIPPED interop: ${message}\n`);
  return message;
}

const ECHO_CGI = `#!/bin/sh
printf 'Content-Type: text/plain\\r\\nX-Method: %s\\r\\n\\r\\n' "$REQUEST_METHOD"
printf 'method=%s\\nuser=%s\\n' "$REQUEST_METHOD" "$REMOTE_USER"
exec cat
`;

const SINK_CGI = `#!/bin/sh
n=$(wc -c)
printf 'Content-Type: text/plain\\r\\n\\r\\nmethod=%s\\nuser=%s\\nbytes=%s\\n' "$REQUEST_METHOD" "$REMOTE_USER" "$n"
`;

const DEFAULT_LOCATIONS: ApacheLocation[] = [
  { path: '/public/', auth: false },
  { path: '/private/', auth: true },
  { path: '/echo', auth: true, echo: true },
  { path: '/public-echo', auth: false, echo: true },
];

const live = new Set<ChildProcess>();
let exitHook = false;

function waitForPort(
  port: number,
  child: ChildProcess,
  log: () => string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(
          new Error(`apache2 exited (${child.exitCode ?? child.signalCode}) before listening:\n${log()}`),
        );
        return;
      }
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        if (Date.now() > deadline) reject(new Error(`apache2 did not listen on ${port}:\n${log()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

function locationBlock(loc: ApacheLocation, docroot: string, delegDir: string | undefined): string {
  const lines: string[] = [];
  if (loc.echo || loc.sink) {
    lines.push('SetHandler cgi-script', 'Options +ExecCGI');
  }
  if (loc.auth ?? true) {
    lines.push(
      'AuthType GSSAPI',
      'AuthName "spnego interop"',
      'GssapiBasicAuth Off',
      'GssapiAllowedMech krb5',
      `GssapiCredStore keytab:${join(docroot, '..', 'http.keytab')}`,
      `Require ${loc.require ?? 'valid-user'}`,
    );
    if (delegDir) lines.push(`GssapiDelegCcacheDir ${delegDir}`);
  } else lines.push('Require all granted');
  lines.push(...(loc.directives ?? []));
  return `<Location "${loc.path}">\n${lines.map((l) => `  ${l}`).join('\n')}\n</Location>`;
}

/**
 * Starts Apache on a free loopback port; call stop() (also done at process exit as a backstop).
 * A port taken between freePort() and Apache's bind (another suite's daemon) means another port.
 */
export async function startApache(opts: ApacheOptions): Promise<Apache> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startApacheOn(opts, opts.port ?? (await freePort()));
    } catch (e) {
      const inUse = /Address already in use|could not bind/i.test(String(e));
      if (opts.port !== undefined || !inUse || attempt >= 5) throw e;
    }
  }
}

async function startApacheOn(opts: ApacheOptions, port: number): Promise<Apache> {
  const bin = findBinary('apache2');
  if (bin === undefined) throw new Error(`apache2 not found: sudo apt-get install -y ${APACHE_PACKAGES}`);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
  }
  const dir = mkdtempSync(join(process.env['SPNEGO_INTEROP_TMP'] || tmpdir(), 'apache-'));
  chmodSync(dir, 0o755);
  const docroot = join(dir, 'htdocs');
  const rcache = join(dir, 'rcache');
  mkdirSync(docroot, { mode: 0o755 });
  mkdirSync(rcache);
  chmodSync(rcache, 0o1777);
  const keytab = join(dir, 'http.keytab');
  copyFileSync(opts.keytab, keytab);
  chmodSync(keytab, 0o644);
  const krb5conf = join(dir, 'krb5.conf');
  copyFileSync(opts.realm.krb5ConfPath, krb5conf);
  chmodSync(krb5conf, 0o644);
  const delegDir = opts.delegCcacheDir === true ? join(dir, 'deleg') : opts.delegCcacheDir;
  if (delegDir) {
    mkdirSync(delegDir, { recursive: true });
    chmodSync(delegDir, 0o1777);
  }
  const cgi = join(dir, 'echo.cgi');
  writeFileSync(cgi, ECHO_CGI, { mode: 0o755 });
  const sinkCgi = join(dir, 'sink.cgi');
  writeFileSync(sinkCgi, SINK_CGI, { mode: 0o755 });

  const locations = new Map<string, ApacheLocation>();
  for (const l of [...DEFAULT_LOCATIONS, ...(opts.locations ?? [])]) locations.set(l.path, l);
  const blocks: string[] = [];
  const aliases: string[] = [];
  for (const l of locations.values()) {
    if (l.echo) aliases.push(`ScriptAlias "${l.path}" "${cgi}"`);
    else if (l.sink) aliases.push(`ScriptAlias "${l.path}" "${sinkCgi}"`);
    else {
      const name = l.path.replace(/^\/+|\/+$/g, '') || 'index';
      const sub = join(docroot, name);
      mkdirSync(sub, { recursive: true, mode: 0o755 });
      writeFileSync(join(sub, 'index.html'), `${name}\n`, { mode: 0o644 });
    }
    blocks.push(locationBlock(l, docroot, delegDir));
  }

  const tlsLines: string[] = [];
  if (opts.tls) {
    const cert = join(dir, 'tls-cert.pem');
    const key = join(dir, 'tls-key.pem');
    copyFileSync(opts.tls.certFile, cert);
    copyFileSync(opts.tls.keyFile, key);
    chmodSync(cert, 0o644);
    chmodSync(key, 0o644);
    tlsLines.push(
      `LoadModule ssl_module ${MODULES_DIR}/mod_ssl.so`,
      `LoadModule socache_shmcb_module ${MODULES_DIR}/mod_socache_shmcb.so`,
      `SSLSessionCache shmcb:${join(dir, 'ssl_scache')}(512000)`,
      'SSLEngine on',
      `SSLCertificateFile ${cert}`,
      `SSLCertificateKeyFile ${key}`,
    );
  }
  const mods = [
    'mpm_event',
    'authn_core',
    'authz_core',
    'authz_user',
    'auth_gssapi',
    'dir',
    'mime',
    'headers',
    'cgid',
    'alias',
    'env',
  ];
  const conf = [
    `ServerRoot "${dir}"`,
    `DefaultRuntimeDir "${dir}"`,
    `PidFile "${join(dir, 'apache.pid')}"`,
    `ErrorLog "${join(dir, 'error.log')}"`,
    'LogLevel warn auth_gssapi:debug',
    `ScriptSock "${join(dir, 'cgid.sock')}"`,
    `Mutex file:${dir} default`,
    ...mods.map((m) => `LoadModule ${m}_module ${MODULES_DIR}/mod_${m}.so`),
    'User www-data',
    'Group www-data',
    `Listen 127.0.0.1:${port}`,
    'ServerName localhost',
    ...tlsLines,
    `DocumentRoot "${docroot}"`,
    'TypesConfig /etc/mime.types',
    'DirectoryIndex index.html',
    'StartServers 1',
    'ServerLimit 1',
    'ThreadsPerChild 8',
    'MaxRequestWorkers 8',
    'KeepAlive On',
    `<Directory "${dir}">\n  Require all granted\n  Options +ExecCGI\n</Directory>`,
    // mod_auth_gssapi runs in the workers: they need the realm's krb5.conf and a writable rcache.
    `PassEnv KRB5_CONFIG KRB5RCACHEDIR`,
    'Header always set X-Remote-User "expr=%{REMOTE_USER}"',
    ...aliases,
    ...blocks,
    ...(opts.directives ?? []),
  ].join('\n');
  const confPath = join(dir, 'apache2.conf');
  writeFileSync(confPath, `${conf}\n`);

  const env: Record<string, string> = {
    ...process.env,
    KRB5_CONFIG: krb5conf,
    KRB5RCACHEDIR: rcache,
    KRB5_KTNAME: `FILE:${keytab}`,
    APACHE_RUN_DIR: dir,
    APACHE_LOCK_DIR: dir,
    APACHE_LOG_DIR: dir,
  } as Record<string, string>;
  delete env['KRB5CCNAME'];
  const child = spawn(bin, ['-f', confPath, '-D', 'FOREGROUND'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  live.add(child);
  const errorLog = (): string => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // SIGTERM: the parent stops its workers and removes the pid file.
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    live.delete(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, () => `${stderr}\n${errorLog()}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    port,
    url: `${opts.tls ? 'https' : 'http'}://localhost:${port}`,
    dir,
    delegCcacheDir: delegDir,
    errorLog,
    stop,
  };
}
