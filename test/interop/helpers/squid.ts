// A throwaway Squid that demands Negotiate (its negotiate_kerberos_auth helper, keytab from an MIT
// realm), the reference Negotiate proxy. Everything lives in its own temp dir (under
// $SPNEGO_INTEROP_TMP, where the runner's cleanup finds squid.pid); Squid runs in the foreground
// (-N) as our child so stop() and an exit backstop can always end it.
//
// Squid started as root runs as `proxy`: the keytab, krb5.conf and replay-cache dir are made
// readable/writable for it. Its access log records the authenticated user of every request.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
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

export const SQUID_PACKAGES = 'squid';
const HELPER = '/usr/lib/squid/negotiate_kerberos_auth';

export function missingSquid(): string | undefined {
  if (findBinary('squid') === undefined) return 'squid';
  if (!existsSync(HELPER)) return 'negotiate_kerberos_auth';
  return undefined;
}

export function skipUnlessSquid(): string | false {
  const missing = missingSquid();
  if (missing === undefined || process.env['CI'] === 'true') return false;
  const message = `missing ${missing}: sudo apt-get install -y ${SQUID_PACKAGES}`;
  process.stderr.write(`\nSKIPPED interop: ${message}\n`);
  return message;
}

export interface Squid {
  readonly port: number;
  /** `http://localhost:<port>`: the proxy's SPN is HTTP/localhost. */
  readonly url: string;
  /** `https://localhost:<port>` when started with `tls`: the same proxy behind TLS (https_port). */
  readonly httpsUrl: string | undefined;
  readonly dir: string;
  /** Access-log lines: `<status> <method> <url> <user>`. */
  accessLog(): string[];
  cacheLog(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHook = false;

export interface SquidOptions {
  realm: MitRealm;
  keytab: string;
  spn?: string;
  /** Also listen with TLS (https_port; Debian's squid is built with GnuTLS): a certificate for localhost. */
  tls?: { certFile: string; keyFile: string };
}

/**
 * Starts Squid; a port taken between freePort() and Squid's bind (other suites start daemons
 * too) makes it exit before listening: it is started again on other ports.
 */
export async function startSquid(opts: SquidOptions): Promise<Squid> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startSquidOnce(opts);
    } catch (e) {
      if (attempt >= 3 || !/exited before listening|did not listen/.test(String(e))) throw e;
    }
  }
}

async function startSquidOnce(opts: SquidOptions): Promise<Squid> {
  const bin = findBinary('squid');
  if (bin === undefined) throw new Error(`squid not found: sudo apt-get install -y ${SQUID_PACKAGES}`);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
  }
  const dir = mkdtempSync(join(process.env['SPNEGO_INTEROP_TMP'] || tmpdir(), 'squid-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const tlsPort = opts.tls === undefined ? undefined : await freePort();
  const keytab = join(dir, 'proxy.keytab');
  copyFileSync(opts.keytab, keytab);
  chmodSync(keytab, 0o644);
  const krb5conf = join(dir, 'krb5.conf');
  copyFileSync(opts.realm.krb5ConfPath, krb5conf);
  chmodSync(krb5conf, 0o644);
  const rcache = join(dir, 'rcache');
  mkdirSync(rcache);
  chmodSync(rcache, 0o1777);
  const spn = opts.spn ?? `HTTP/localhost@${opts.realm.realm}`;
  const tlsLines: string[] = [];
  if (opts.tls !== undefined) {
    // Squid runs as `proxy`: its own readable copies of the certificate and key.
    const cert = join(dir, 'proxy-cert.pem');
    const key = join(dir, 'proxy-key.pem');
    copyFileSync(opts.tls.certFile, cert);
    copyFileSync(opts.tls.keyFile, key);
    chmodSync(cert, 0o644);
    chmodSync(key, 0o644);
    tlsLines.push(`https_port 127.0.0.1:${tlsPort} tls-cert=${cert} tls-key=${key}`);
  }
  const conf = [
    `http_port 127.0.0.1:${port}`,
    ...tlsLines,
    'visible_hostname localhost',
    `pid_filename ${join(dir, 'squid.pid')}`,
    `cache_log ${join(dir, 'cache.log')}`,
    'logformat spnego %>Hs %rm %ru %un',
    `access_log stdio:${join(dir, 'access.log')} spnego`,
    'logfile_rotate 0',
    'strip_query_terms off',
    `coredump_dir ${dir}`,
    'cache deny all',
    'cache_mem 8 MB',
    'shutdown_lifetime 0 seconds',
    'dns_v4_first on',
    `auth_param negotiate program ${HELPER} -k ${keytab} -c ${rcache} -s ${spn}`,
    'auth_param negotiate children 3',
    'auth_param negotiate keep_alive on',
    'acl authenticated proxy_auth REQUIRED',
    'http_access allow authenticated',
    'http_access deny all',
  ].join('\n');
  const confPath = join(dir, 'squid.conf');
  writeFileSync(confPath, `${conf}\n`, { mode: 0o644 });
  const env: Record<string, string | undefined> = {
    ...process.env,
    KRB5_CONFIG: krb5conf,
    KRB5RCACHEDIR: rcache,
    KRB5_KTNAME: `FILE:${keytab}`,
  };
  delete env['KRB5CCNAME'];
  const child = spawn(bin, ['-N', '-f', confPath], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  live.add(child);
  const read = (name: string): string => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    live.delete(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`squid exited before listening:\n${stderr}\n${read('cache.log')}`);
      const up = await new Promise<boolean>((resolve) => {
        const s = createConnection({ host: '127.0.0.1', port });
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (up && tlsPort !== undefined) {
        // https_port opens after http_port: wait for both.
        const tlsUp = await new Promise<boolean>((resolve) => {
          const s = createConnection({ host: '127.0.0.1', port: tlsPort });
          s.once('connect', () => {
            s.destroy();
            resolve(true);
          });
          s.once('error', () => resolve(false));
        });
        if (tlsUp) break;
      } else if (up) break;
      if (Date.now() > deadline)
        throw new Error(`squid did not listen on ${port}:\n${stderr}\n${read('cache.log')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    port,
    url: `http://localhost:${port}`,
    httpsUrl: tlsPort === undefined ? undefined : `https://localhost:${tlsPort}`,
    dir,
    accessLog: () => read('access.log').split('\n').filter(Boolean),
    cacheLog: () => read('cache.log'),
    stop,
  };
}
