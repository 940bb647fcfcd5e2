// The npm `kerberos@7` API (mongodb-js/kerberos) on our engine, so code written for the native
// addon — above all the MongoDB driver's GSSAPI provider — runs unchanged. Names, argument
// checks (the same TypeError messages), base64 strings in and out, promise results (null where
// the addon resolves null) and error texts follow the addon; where it leaks libkrb5 behaviour
// that callers rely on, that is reproduced here and says so, not spread into the core:
// - `initializeClient` reads `options.flags` (the typings say `gssFlag`, the addon ignores it);
//   the default is GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG.
// - base64 is decoded four characters at a time; anything invalid makes the whole input empty.
// - `wrap` always builds RFC 4752's final message (layer octet = none, the server's buffer size
//   echoed, then `options.user`, empty when absent), as the addon's `user` is never NULL.
// - `checkPassword` joins a realm-less user with `defaultRealm` even when it is undefined.
import { type Keytab, readKeytab } from '../ccache/keytab.js';
import { type Principal, parsePrincipal, unparsePrincipal } from '../ccache/principal-text.js';
import { CredentialsError } from '../errors.js';
import { type Krb5Config, libdefault } from '../krb5/config.js';
import { loadConfig } from '../krb5/config-load.js';
import { Credentials } from '../krb5/credentials.js';
import { ReplayCache, type ReplayCache as ReplayCacheLike } from '../krb5/gss/index.js';
import { getEnv } from '../runtime/env.js';
import { hostBasedToPrincipal } from '../sasl/server.js';
import { FileReplayCache } from '../server/replay-cache.js';
import { type AcceptorContext, createAcceptorContext } from '../spnego/acceptor.js';
import { InitiatorContext } from '../spnego/initiator.js';
import { VERSION } from '../version.js';
import { decodeNative, encodeNative } from './base64.js';
import { GSS_TEXT, gssFailure, KerberosCompatError, krb5Failure } from './messages.js';

export const GSS_C_DELEG_FLAG = 1;
export const GSS_C_MUTUAL_FLAG = 2;
export const GSS_C_REPLAY_FLAG = 4;
export const GSS_C_SEQUENCE_FLAG = 8;
export const GSS_C_CONF_FLAG = 16;
export const GSS_C_INTEG_FLAG = 32;
export const GSS_C_ANON_FLAG = 64;
export const GSS_C_PROT_READY_FLAG = 128;
export const GSS_C_TRANS_FLAG = 256;

export const GSS_C_NO_OID = 0;
/** The addon's codes for mechanisms are the DER lengths of their OIDs. */
export const GSS_MECH_OID_KRB5 = 9;
export const GSS_MECH_OID_SPNEGO = 6;

/** This package's version (the addon reports its own). */
export const version: string = VERSION;

/** Optional settings for `KerberosClient.wrap`. */
export interface WrapOptions {
  /** The user to authorize. */
  user?: string;
  /** Indicates if the wrap should request message confidentiality. */
  protect?: boolean;
}

/** Options for `initializeClient()`. */
export interface InitializeClientOptions {
  /** Optional client principal `user@REALM`; its cache in the collection (or the client keytab) is used. */
  principal?: string;
  /**
   * Optional GSS flags, as typed by the addon's index.d.ts; the addon itself (and so this
   * module) reads `flags`, and ignores this name.
   */
  gssFlag?: number;
  /** Optional mechanism: `GSS_MECH_OID_KRB5`, `GSS_MECH_OID_SPNEGO`; default `GSS_C_NO_OID` (krb5). */
  mechOID?: number;
  /** The username with which to authenticate. Only used on Windows. */
  user?: string;
  /** The password with which to authenticate. Only used on Windows. */
  pass?: string;
  /**
   * spnego's own addition (the native addon has none): the `Credentials` to initiate with, e.g.
   * from `service.impersonate(user)` (S4U2Proxy, constrained delegation). Takes precedence over
   * `principal`.
   */
  credentials?: Credentials;
}

/** The flags the addon reads (undocumented in its typings). */
interface NativeClientOptions extends InitializeClientOptions {
  flags?: number;
}

function mustBeString(value: unknown, name: string): void {
  if (typeof value !== 'string') throw new TypeError(`parameter \`${name}\` must be a string.`);
}

/** `svc@host` as GSS_C_NT_HOSTBASED_SERVICE; `svc@host@REALM` names the realm (MongoDB's SERVICE_REALM). */
function clientTarget(service: string): string {
  const parts = service.split('@');
  if (service.includes('/') || parts.length === 1)
    return parts.length === 1 ? `${service}@localhost` : service;
  if (parts.length === 3) return `${parts[0]}/${(parts[1] ?? '').toLowerCase()}@${parts[2]}`;
  return service;
}

interface ClientState {
  target: string;
  principal: string | undefined;
  given: Credentials | undefined;
  flags: number;
  mech: 'krb5' | 'spnego';
  context: InitiatorContext | undefined;
  credentials: Credentials | undefined;
  username: string | null;
  response: string | null;
  responseConf: number;
  complete: boolean;
}

let configPromise: Promise<Krb5Config> | undefined;
function config(): Promise<Krb5Config> {
  // Read per call chain, but at most once at a time: KRB5_CONFIG can change between tests.
  configPromise ??= loadConfig().finally(() => {
    configPromise = undefined;
  });
  return configPromise;
}

async function clientCredentials(principal: string | undefined): Promise<Credentials> {
  const cfg = await config();
  return Credentials.fromEnvironment({ config: cfg, ...(principal ? { principal } : {}) });
}

const clientState = new WeakMap<KerberosClient, ClientState>();
function cs(c: KerberosClient): ClientState {
  const s = clientState.get(c);
  if (!s) throw new TypeError('Illegal invocation');
  return s;
}

export class KerberosClient {
  /** Instances come from `initializeClient`. */
  protected constructor(state: ClientState) {
    clientState.set(this, state);
  }

  /** The username used for authentication (null until the context is complete). */
  get username(): string {
    return cs(this).username as string;
  }
  /** The last response produced (base64), or null. */
  get response(): string {
    return cs(this).response as string;
  }
  /** Whether the last unwrapped message was confidential (1) or not (0); typed string by the addon. */
  get responseConf(): string {
    return cs(this).responseConf as unknown as string;
  }
  get contextComplete(): boolean {
    return cs(this).complete;
  }

  /**
   * One client step: `''` first, then the server's base64 token. Resolves the next token in
   * base64, or null when there is none.
   */
  async step(challenge: string): Promise<string> {
    mustBeString(challenge, 'challenge');
    const s = cs(this);
    s.response = null;
    try {
      let out: { token?: Uint8Array; complete: boolean };
      if (s.context === undefined) {
        const credentials = s.given ?? (await clientCredentials(s.principal));
        s.credentials = credentials;
        s.context = new InitiatorContext({
          credentials,
          target: s.target,
          mech: s.mech,
          mutual: (s.flags & GSS_C_MUTUAL_FLAG) !== 0,
          delegate: (s.flags & GSS_C_DELEG_FLAG) !== 0,
        });
        out = await s.context.step();
      } else {
        if (s.complete)
          throw new KerberosCompatError('FAILURE', `${GSS_TEXT.FAILURE}: the context is already complete`);
        const input = challenge === '' ? undefined : decodeNative(challenge);
        out = await s.context.step(input && input.length > 0 ? input : undefined);
      }
      if (out.token && out.token.length > 0) s.response = encodeNative(out.token);
      if (out.complete) {
        s.complete = true;
        if (s.credentials) s.username = unparsePrincipal(s.credentials.principal);
      }
    } catch (e) {
      throw gssFailure(e);
    }
    return s.response as string;
  }

  /** Unwraps the server's base64 message; resolves it in base64 (also kept in `response`). */
  async unwrap(challenge: string): Promise<string> {
    mustBeString(challenge, 'challenge');
    const s = cs(this);
    s.response = null;
    s.responseConf = 0;
    try {
      const ctx = established(s.context);
      const out = ctx.unwrap(decodeNative(challenge));
      if (out.message.length > 0) {
        s.response = encodeNative(out.message);
        s.responseConf = out.confidential ? 1 : 0;
      }
    } catch (e) {
      throw gssFailure(e);
    }
    return s.response as string;
  }

  /**
   * Wraps the RFC 4752 reply to the unwrapped server offer in `challenge` (base64): no security
   * layer, the server's maximum buffer size echoed, then `options.user` as the authorization
   * identity. `protect` asks for confidentiality.
   */
  async wrap(challenge: string, options: WrapOptions = {}): Promise<string> {
    mustBeString(challenge, 'challenge');
    const opts = Object(options) as WrapOptions;
    if ('protect' in opts && typeof opts.protect !== 'boolean')
      throw new TypeError('options.protect must be a boolean.');
    const user = typeof opts.user === 'string' ? opts.user : '';
    const s = cs(this);
    s.response = null;
    try {
      const ctx = established(s.context);
      const offer = decodeNative(challenge);
      const userBytes = new TextEncoder().encode(user).subarray(0, 4091);
      const msg = new Uint8Array(4 + userBytes.length);
      msg.set(offer.subarray(0, 4));
      msg[0] = 1; // GSS_AUTH_P_NONE
      msg.set(userBytes, 4);
      const token = ctx.wrap(msg, { confidential: opts.protect === true });
      s.response = encodeNative(token);
    } catch (e) {
      throw gssFailure(e);
    }
    return s.response as string;
  }
}

function established(ctx: InitiatorContext | undefined): InitiatorContext {
  if (!ctx?.complete) {
    throw new KerberosCompatError(
      'NO_CONTEXT',
      `${GSS_TEXT.NO_CONTEXT}: the security context is not established yet`,
    );
  }
  return ctx;
}

interface ServerState {
  principal: string | undefined;
  keytab: Keytab;
  context: AcceptorContext | undefined;
  username: string | null;
  targetName: string | null;
  response: string | null;
  complete: boolean;
}

const serverState = new WeakMap<KerberosServer, ServerState>();
function ss(c: KerberosServer): ServerState {
  const s = serverState.get(c);
  if (!s) throw new TypeError('Illegal invocation');
  return s;
}

/**
 * The per-host replay cache, as the native addon gets from MIT's default rcache: an
 * authenticator one process accepted is refused by every other process of this user on this
 * host (KRB5RCACHEDIR, else the temp dir), not only by this one.
 */
const replayCache = (): ReplayCacheLike => FileReplayCache.forDirectory();

export class KerberosServer {
  protected constructor(state: ServerState) {
    serverState.set(this, state);
  }
  /** The authenticated client, `user@REALM` (null until complete). */
  get username(): string {
    return ss(this).username as string;
  }
  /** The last response produced (base64), or null. */
  get response(): string {
    return ss(this).response as string;
  }
  /** The service principal the client asked for; set only when `initializeServer('')` took any key. */
  get targetName(): string {
    return ss(this).targetName as string;
  }
  get contextComplete(): boolean {
    return ss(this).complete;
  }

  /** Accepts the client's base64 token; resolves the reply token in base64, or null. */
  async step(challenge: string): Promise<string> {
    mustBeString(challenge, 'challenge');
    const s = ss(this);
    s.response = null;
    if (challenge === '')
      throw new KerberosCompatError('NO_TOKEN', 'No challenge parameter in request from client');
    try {
      s.context ??= createAcceptorContext({
        keytab: s.keytab,
        replayCache: replayCache(),
        config: await config(),
        ...(s.principal === undefined ? {} : { principal: s.principal }),
      });
      const out = await s.context.step(decodeNative(challenge));
      if (out.token && out.token.length > 0) s.response = encodeNative(out.token);
      if (out.complete) {
        s.username = unparsePrincipal(s.context.result().client);
        const server = s.context.accepted?.server;
        if (s.principal === undefined && server) s.targetName = unparsePrincipal(server);
        s.complete = true;
      }
    } catch (e) {
      throw gssFailure(e);
    }
    return s.response as string;
  }
}

/** Makes the classes' protected constructors reachable for the factories below only. */
const makeClient = (state: ClientState): KerberosClient =>
  new (KerberosClient as unknown as new (s: ClientState) => KerberosClient)(state);
const makeServer = (state: ServerState): KerberosServer =>
  new (KerberosServer as unknown as new (s: ServerState) => KerberosServer)(state);

/** KRB5_KTNAME, else krb5.conf default_keytab_name, else /etc/krb5.keytab. */
async function defaultKeytabPath(): Promise<string> {
  const name = getEnv('KRB5_KTNAME') ?? (await config()).libdefaults.defaultKeytabName;
  return name.replace(/^(FILE|WRFILE):/, '');
}

/**
 * Initializes a context for client-side authentication with the given service principal
 * (`type@fqdn`). Credentials are found at the first `step` (default ccache, or the client
 * keytab), as libkrb5 does.
 */
export async function initializeClient(
  service: string,
  options: InitializeClientOptions = { mechOID: GSS_C_NO_OID },
): Promise<KerberosClient> {
  mustBeString(service, 'service');
  const o = Object(options) as NativeClientOptions;
  const principal = typeof o.principal === 'string' && o.principal !== '' ? o.principal : undefined;
  const flags = typeof o.flags === 'number' ? o.flags >>> 0 : GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG;
  const mech = o.mechOID === GSS_MECH_OID_SPNEGO ? 'spnego' : 'krb5';
  const given = o.credentials instanceof Credentials ? o.credentials : undefined;
  if (principal !== undefined && given === undefined) {
    // gss_acquire_cred for a named principal fails at once when nothing holds it.
    try {
      await clientCredentials(principal);
    } catch (e) {
      throw gssFailure(e);
    }
  }
  return makeClient({
    target: clientTarget(service),
    principal,
    given,
    flags,
    mech,
    context: undefined,
    credentials: undefined,
    username: null,
    response: null,
    responseConf: 0,
    complete: false,
  });
}

/**
 * Initializes a context for server-side authentication with the given service principal
 * (`type@fqdn`, e.g. `imap@mail.example.com`), or `''` for any key of the keytab
 * (KRB5_KTNAME, else the default keytab).
 */
export async function initializeServer(service: string): Promise<KerberosServer> {
  mustBeString(service, 'service');
  let keytab: Keytab;
  let principal: string | undefined;
  try {
    keytab = await readKeytab(await defaultKeytabPath());
    if (service !== '') {
      principal = hostBasedToPrincipal(service);
      const wanted = parsePrincipal(principal, '\u0000');
      const has = keytab.entries.some(
        (e) =>
          e.principal.name.nameString.join('/') === wanted.name.nameString.join('/') &&
          (wanted.realm === '\u0000' || wanted.realm === e.principal.realm),
      );
      if (!has) {
        throw new CredentialsError('KEYTAB_NO_PRINCIPAL', `No key table entry found matching ${principal}`, {
          hint: 'klist -k lists the keytab; KRB5_KTNAME selects another',
        });
      }
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new KerberosCompatError('NO_CRED', `${GSS_TEXT.NO_CRED}: ${why}`, { cause: e });
  }
  return makeServer({
    principal,
    keytab,
    context: undefined,
    username: null,
    targetName: null,
    response: null,
    complete: false,
  });
}

/**
 * The first principal of the default keytab whose name starts with `service/hostname@`.
 */
export async function principalDetails(service: string, hostname: string): Promise<string> {
  mustBeString(service, 'service');
  mustBeString(hostname, 'hostname');
  let keytab: Keytab;
  try {
    keytab = await readKeytab(await defaultKeytabPath());
  } catch (e) {
    throw new KerberosCompatError('KEYTAB_NOT_FOUND', 'Cannot get sequence cursor from keytab (2)', {
      cause: e,
    });
  }
  const prefix = `${service}/${hostname}@`;
  for (const e of keytab.entries) {
    const name = unparsePrincipal(e.principal);
    if (name.startsWith(prefix)) return name;
  }
  throw new KerberosCompatError('PRINCIPAL_NOT_FOUND', 'Principal not found in keytab (-1)');
}

/**
 * Checks that `username`/`password` obtain a TGT, and — unlike the addon, which stops there and
 * so can be fooled by a spoofed KDC — that the KDC knows `service`'s key: a ticket for `service`
 * must open with the key the keytab holds for it (MIT's krb5_verify_init_creds). When the
 * keytab has no key for `service`, the check passes unverified unless krb5.conf sets
 * `verify_ap_req_nofail = true`, as MIT does.
 */
export async function checkPassword(
  username: string,
  password: string,
  service: string,
  defaultRealm?: string,
): Promise<void> {
  mustBeString(username, 'username');
  mustBeString(password, 'password');
  mustBeString(service, 'service');
  if (defaultRealm && typeof defaultRealm !== 'string')
    throw new TypeError('if specified, parameter `defaultRealm` must be a string.');
  const cfg = await config();
  let server: Principal;
  let client: string;
  try {
    server = parsePrincipal(service, cfg.libdefaults.defaultRealm ?? '');
    client = username.includes('@') ? username : `${username}@${String(defaultRealm)}`;
    parsePrincipal(client);
  } catch (e) {
    throw krb5Failure(e);
  }
  let creds: Credentials;
  try {
    creds = await Credentials.fromPassword(client, password, { config: cfg });
  } catch (e) {
    throw krb5Failure(e);
  }
  await verifyKdc(creds, server, cfg);
  return null as unknown as undefined;
}

async function verifyKdc(creds: Credentials, server: Principal, cfg: Krb5Config): Promise<void> {
  const nofail = /^(1|true|yes|on)$/i.test(libdefault(cfg, 'verify_ap_req_nofail') ?? '');
  let keytab: Keytab | undefined;
  try {
    keytab = await readKeytab(await defaultKeytabPath());
  } catch {
    keytab = undefined;
  }
  const name = server.name.nameString.join('/');
  const held = keytab?.entries.some(
    (e) => e.principal.name.nameString.join('/') === name && e.principal.realm === server.realm,
  );
  if (!keytab || !held) {
    if (!nofail) return;
    throw new KerberosCompatError(
      'KDC_NOT_VERIFIED',
      `Keytab contains no suitable keys for ${unparsePrincipal(server)} (-1765328203)`,
      { hint: 'put the service key in the keytab (KRB5_KTNAME), or leave verify_ap_req_nofail unset' },
    );
  }
  try {
    const ini = new InitiatorContext({ credentials: creds, target: server, mech: 'krb5', mutual: false });
    const acc = createAcceptorContext({ keytab, principal: server, replayCache: new ReplayCache() });
    const first = await ini.step();
    if (!first.token) throw new CredentialsError('KDC_NOT_VERIFIED', 'no AP-REQ was built');
    await acc.step(first.token);
  } catch (e) {
    throw krb5Failure(e);
  }
}
