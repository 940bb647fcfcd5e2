// `spnego kinit`: obtain a TGT with a password (stdin when piped, a no-echo prompt on a TTY) or
// a keytab key, and store it in the ccache MIT would use — atomically, and in a DIR:
// collection in the principal's own member, which becomes the primary (as MIT kinit switches).

import { NameType } from '../asn1/types.js';
import { readKeytab } from '../ccache/keytab.js';
import { type Principal, parsePrincipal, unparsePrincipal } from '../ccache/principal-text.js';
import { expandCcacheParameters } from '../ccache/resolve.js';
import { ccacheForNewPrincipal, openCcache, switchPrimary } from '../ccache/store.js';
import { ConfigError, CredentialsError, SpnegoError } from '../errors.js';
import { type Krb5Config, requireDefaultRealm } from '../krb5/config.js';
import { loadConfig } from '../krb5/config-load.js';
import { parseDuration } from '../krb5/config-values.js';
import { type AcquireOptions, Credentials, storeOptions } from '../krb5/credentials.js';
import type { KdcTransport } from '../krb5/transport.js';
import { getEnv, getUsername } from '../runtime/env.js';
import { statFile } from '../runtime/fs.js';
import { hostName, promptPassword, readStdinLine, stdinIsTty } from '../runtime/terminal.js';
import { type CliIo, cliCcacheName } from './ccache-name.js';
import { getopt } from './getopt.js';

const USAGE =
  'usage: spnego kinit [-k [-i | -t KEYTAB]] [-R] [-c CCACHE] [-l LIFETIME] [-r RENEW] [-f | -F] [-p | -P] [-S SERVICE] [-C] [-E] [-V] [PRINCIPAL]\n';

export interface KinitIo extends CliIo {
  /** Reads the password; default: one line of stdin when piped, a no-echo prompt on a TTY. */
  readPassword?: (prompt: string) => Promise<string>;
  /** For tests: a parsed krb5.conf and a KDC transport instead of KRB5_CONFIG and the network. */
  config?: Krb5Config;
  transport?: KdcTransport;
  now?: () => number;
}

interface KinitArgs {
  keytab: boolean;
  clientKeytab: boolean;
  keytabName: string | undefined;
  cache: string | undefined;
  lifetime: number | undefined;
  renew: number | undefined;
  forwardable: boolean | undefined;
  proxiable: boolean | undefined;
  canonicalize: boolean;
  enterprise: boolean;
  verbose: boolean;
  renewExisting: boolean;
  service: string | undefined;
  principal: string | undefined;
}

type Parsed = { ok: true; args: KinitArgs } | { ok: false; code: number };

function parseArgs(argv: string[], io: CliIo): Parsed {
  const a: KinitArgs = {
    keytab: false,
    clientKeytab: false,
    keytabName: undefined,
    cache: undefined,
    lifetime: undefined,
    renew: undefined,
    forwardable: undefined,
    proxiable: undefined,
    canonicalize: false,
    enterprise: false,
    verbose: false,
    renewExisting: false,
    service: undefined,
    principal: undefined,
  };
  const usageError = (message: string): Parsed => {
    io.stderr(`spnego kinit: ${message}\n${USAGE}`);
    return { ok: false, code: 2 };
  };
  const r = getopt(argv, { flags: 'kifFpPCEVRh', withValue: 'tclrS', long: { help: false } });
  if (!r.ok) return usageError(r.message);
  for (const { name, value = '' } of r.opts) {
    switch (name) {
      case '-k':
        a.keytab = true;
        break;
      case '-i':
        a.clientKeytab = true;
        break;
      case '-t':
        a.keytabName = value;
        break;
      case '-c':
        a.cache = value;
        break;
      case '-l':
      case '-r': {
        const d = parseDuration(value);
        if (d === undefined || d <= 0) {
          io.stderr(`spnego kinit: bad lifetime value '${value}' (e.g. 10h, 1d, 3600, 8:00)\n`);
          return { ok: false, code: 2 };
        }
        if (name === '-l') a.lifetime = d;
        else a.renew = d;
        break;
      }
      case '-f':
      case '-F':
        a.forwardable = name === '-f';
        break;
      case '-p':
      case '-P':
        a.proxiable = name === '-p';
        break;
      case '-C':
        a.canonicalize = true;
        break;
      case '-E':
        a.enterprise = true;
        break;
      case '-V':
        a.verbose = true;
        break;
      case '-R':
        a.renewExisting = true;
        break;
      case '-S':
        a.service = value;
        break;
      default:
        // -h, --help
        io.stdout(USAGE);
        return { ok: false, code: 0 };
    }
  }
  if (r.operands.length > 1) return usageError(`extra argument '${r.operands[1]}'`);
  a.principal = r.operands[0];
  if ((a.keytabName !== undefined || a.clientKeytab) && !a.keytab) a.keytab = true;
  if (a.renewExisting && a.keytab) return usageError('-R cannot be combined with -k');
  return { ok: true, args: a };
}

/** `user@domain@REALM` (RFC 6806 §5): everything before the last `@` is one name component. */
function enterprisePrincipal(text: string, realm: string): Principal {
  const at = text.lastIndexOf('@');
  const hasRealm = at > 0 && text.indexOf('@') !== at;
  return {
    realm: hasRealm ? text.slice(at + 1) : realm,
    name: { nameType: NameType.ENTERPRISE, nameString: [hasRealm ? text.slice(0, at) : text] },
  };
}

function keytabPath(name: string): string {
  const expanded = expandCcacheParameters(name);
  const m = /^(FILE|WRFILE):(.*)$/.exec(expanded);
  if (m) return m[2] as string;
  if (/^[A-Z]+:/.test(expanded) && !expanded.startsWith('/')) {
    throw new ConfigError('KEYTAB_TYPE_UNSUPPORTED', `keytab type of '${name}' is not supported`, {
      hint: 'use a FILE: keytab (a path)',
    });
  }
  return expanded;
}

/**
 * As MIT: -t names the keytab; -i the client keytab (KRB5_CLIENT_KTNAME, default_client_keytab_name);
 * plain -k the default keytab (KRB5_KTNAME, default_keytab_name). When that one is missing or
 * lacks the principal, the client keytab is tried too — that is where a user's own keys live.
 */
async function chooseKeytab(
  args: KinitArgs,
  config: Krb5Config,
  env: (n: string) => string | undefined,
  client: Principal,
): Promise<string> {
  const clientKt =
    env('KRB5_CLIENT_KTNAME') ??
    config.libdefaults.defaultClientKeytabName ??
    'FILE:/etc/krb5/user/%{euid}/client.keytab';
  if (args.keytabName !== undefined) return keytabPath(args.keytabName);
  if (args.clientKeytab) return keytabPath(clientKt);
  const dflt = keytabPath(env('KRB5_KTNAME') ?? config.libdefaults.defaultKeytabName);
  const holds = async (path: string): Promise<boolean> => {
    if (!(await statFile(path))?.isFile) return false;
    const kt = await readKeytab(path).catch(() => undefined);
    return (
      kt?.entries.some(
        (e) =>
          e.principal.realm === client.realm &&
          e.principal.name.nameString.join('/') === client.name.nameString.join('/'),
      ) ?? false
    );
  };
  if (await holds(dflt)) return dflt;
  const ckt = keytabPath(clientKt);
  if (await holds(ckt)) return ckt;
  return dflt;
}

/**
 * `kinit -R`, as MIT: renew the cache's TGT at the KDC and re-initialize the cache with the
 * renewed ticket alone (service tickets obtained with the old one go, as MIT's do).
 */
async function renewExisting(
  cacheName: string,
  config: Krb5Config,
  args: KinitArgs,
  io: KinitIo,
): Promise<number> {
  const creds = await Credentials.fromCcache(cacheName, {
    config,
    writeBack: false,
    ...(io.transport ? { transport: io.transport } : {}),
    ...(io.now ? { now: io.now } : {}),
  });
  if (args.principal !== undefined) {
    const wanted = parsePrincipal(
      args.principal,
      args.principal.includes('@') ? undefined : requireDefaultRealm(config),
    );
    if (unparsePrincipal(wanted) !== unparsePrincipal(creds.principal)) {
      throw new CredentialsError(
        'PRINCIPAL_MISMATCH',
        `the cache ${cacheName} holds ${unparsePrincipal(creds.principal)}, not ${unparsePrincipal(wanted)}`,
        { hint: 'name the cache that holds that principal with -c' },
      );
    }
  }
  const renewed = await creds.renew();
  const held = creds.toCcache();
  const store = await openCcache(cacheName);
  await store.write({ ...held, credentials: [renewed] });
  if (args.verbose)
    io.stderr(`Authenticated to Kerberos v5 (renewed) as ${unparsePrincipal(creds.principal)}\n`);
  return 0;
}

async function defaultPassword(prompt: string): Promise<string> {
  if (stdinIsTty()) return promptPassword(prompt);
  return readStdinLine();
}

export async function kinitCommand(argv: string[], io: KinitIo): Promise<number> {
  const parsed = parseArgs(argv, io);
  if (!parsed.ok) return parsed.code;
  const args = parsed.args;
  const env = io.env ?? getEnv;
  try {
    const config = io.config ?? (await loadConfig({ env }));
    const cacheName = await cliCcacheName(args.cache, { ...io, env });
    if (args.renewExisting) return await renewExisting(cacheName, config, args, io);
    let client: Principal;
    if (args.principal !== undefined) {
      const realm = args.principal.includes('@') ? undefined : requireDefaultRealm(config);
      client = args.enterprise
        ? enterprisePrincipal(args.principal, realm ?? requireDefaultRealm(config))
        : parsePrincipal(args.principal, realm);
    } else if (args.keytab) {
      // MIT: a host ticket for this machine unless a principal is given.
      client = {
        realm: requireDefaultRealm(config),
        name: { nameType: NameType.SRV_HST, nameString: ['host', hostName().toLowerCase()] },
      };
    } else {
      // MIT: the principal of the existing cache, else the login name in the default realm.
      const existing = await openCcache(cacheName, storeOptions(config))
        .then((s) => s.readIfExists())
        .catch(() => undefined);
      client = existing?.defaultPrincipal ?? parsePrincipal(getUsername(), requireDefaultRealm(config));
    }
    const opts: AcquireOptions = {
      config,
      ...(io.transport ? { transport: io.transport } : {}),
      ...(io.now ? { now: io.now } : {}),
      ...(args.lifetime !== undefined ? { lifetime: args.lifetime } : {}),
      ...(args.renew !== undefined ? { renewLifetime: args.renew } : {}),
      ...(args.forwardable !== undefined ? { forwardable: args.forwardable } : {}),
      ...(args.proxiable !== undefined ? { proxiable: args.proxiable } : {}),
      ...(args.canonicalize ? { canonicalize: true } : {}),
      ...(args.enterprise ? { enterprise: true } : {}),
      ...(args.service !== undefined ? { service: args.service } : {}),
    };
    let creds: Credentials;
    if (args.keytab) {
      const path = await chooseKeytab(args, config, env, client);
      if (args.verbose) io.stderr(`Using keytab: FILE:${path}\n`);
      creds = await Credentials.fromKeytab(client, path, opts);
    } else {
      const prompt = `Password for ${unparsePrincipal(client)}: `;
      const password = await (io.readPassword ?? defaultPassword)(prompt);
      // As MIT's "Cannot read password": an empty stdin is no password, and trying one anyway
      // would only cost a failed pre-authentication (an account-lockout strike) at the KDC.
      if (password === '') {
        throw new CredentialsError('NO_PASSWORD', `no password was given for ${unparsePrincipal(client)}`, {
          hint: 'type it at the prompt or pipe it on stdin (one line), or use a keytab: spnego kinit -k -t KEYTAB PRINCIPAL',
        });
      }
      creds = await Credentials.fromPassword(client, password, opts);
    }
    // A canonicalized or enterprise request may come back under another name: store under that.
    const store = await ccacheForNewPrincipal(cacheName, creds.principal, storeOptions(config));
    const written = await creds.save(store.name);
    // A cache chosen within a collection becomes its primary, as MIT's kinit switches to it.
    if (store.name.startsWith('DIR::') || cacheName === 'KCM:') await switchPrimary(store);
    if (args.verbose)
      io.stderr(
        `Authenticated to Kerberos v5 as ${unparsePrincipal(creds.principal)}; stored in ${written}\n`,
      );
    return 0;
  } catch (e) {
    if (!(e instanceof SpnegoError)) {
      if (e instanceof Error && e.message === 'interrupted') return 1;
      throw e;
    }
    io.stderr(`spnego kinit: ${e.message}${e.hint === undefined ? '' : `\nhint: ${e.hint}`}\n`);
    return 1;
  }
}
