// `spnego curl [-v] [-X METHOD] [-d DATA] [-H 'K: V'] [--mutual required|optional|disabled]
// [--opportunistic] [--delegate] [--target NAME] [--location-trusted] [-x PROXY] [--proxy-cacert FILE]
// [--proxy-mutual required|optional|disabled] [-i] [-D FILE|-] [-o FILE]
// [-s] [-S] [-f | --fail-with-body] URL`: a request with HTTP Negotiate, the body on stdout (or
// in -o FILE), the response headers with -i (before the body) or -D (to a file, `-` = stdout).
// Exit status: 0 on 2xx, 22 otherwise (this command's contract; curl itself exits 0 unless
// --fail). As curl: -f prints no body for a status >= 400 (exit 22) and lets 3xx through,
// --fail-with-body prints it and exits 22, -s mutes error messages (-S shows them again), 23 when
// the output cannot be written, 26 when -d @FILE cannot be read, 6 / 7 when the host does not
// resolve / refuses the connection, 47 for too many redirects, 56 when the proxy refuses the tunnel, 60
// when a certificate is not trusted (the https proxy's, or the origin's). With -v the Negotiate steps go to
// stderr: challenge, target, ticket from cache or KDC, token sizes, mutual result.
import { MutualAuthenticationError, SpnegoError } from '../errors.js';
import { createNegotiator, defaultContextFactory, type NegotiateInternals } from '../http/fetch.js';
import { type ContextFactory, negotiateFailure } from '../http/flow.js';
import { DISABLED, type MutualAuthMode, type NegotiateOptions, OPTIONAL, REQUIRED } from '../http/options.js';
import { readFile, writeFileAtomic } from '../runtime/fs.js';
import type { Logger } from '../runtime/log.js';
import type { CliIo } from './ccache-name.js';
import { getopt } from './getopt.js';

const USAGE =
  'usage: spnego curl [-v] [-X METHOD] [-d DATA|@FILE] [-H "K: V"]... [--mutual required|optional|disabled]\n' +
  '                   [--opportunistic] [--delegate] [--target NAME] [--location-trusted]\n' +
  '                   [-x|--proxy http(s)://HOST:PORT] [--proxy-cacert FILE] [--proxy-mutual required|optional|disabled]\n' +
  '                   [-i|--include] [-D|--dump-header FILE|-] [-o|--output FILE]\n' +
  '                   [-s|--silent] [-S|--show-error] [-f|--fail | --fail-with-body] URL\n';

export interface CurlIo extends CliIo {
  /** Raw body bytes; default: decoded as UTF-8 through stdout(). */
  stdoutBytes?(bytes: Uint8Array): void;
}

const MUTUAL: Record<string, MutualAuthMode> = { required: REQUIRED, optional: OPTIONAL, disabled: DISABLED };

interface Parsed {
  url: string;
  method?: string;
  data?: string;
  headers: Array<[string, string]>;
  verbose: boolean;
  options: NegotiateOptions;
  include: boolean;
  dumpHeader?: string;
  output?: string;
  silent: boolean;
  showError: boolean;
  /** -f: no body for >= 400; 'body': --fail-with-body. */
  fail: false | 'quiet' | 'body';
  /** --proxy-cacert: PEM file trusted for an https:// proxy. */
  proxyCaFile?: string;
}

function parseArgs(argv: string[], io: CliIo): Parsed | number {
  const headers: Array<[string, string]> = [];
  const options: NegotiateOptions = {};
  let url: string | undefined;
  let method: string | undefined;
  let data: string | undefined;
  let verbose = false;
  let include = false;
  let dumpHeader: string | undefined;
  let output: string | undefined;
  let silent = false;
  let showError = false;
  let fail: Parsed['fail'] = false;
  let proxyCaFile: string | undefined;
  const r = getopt(argv, {
    flags: 'vshiSf',
    withValue: 'XdHuDoxU',
    long: {
      help: false,
      verbose: false,
      silent: false,
      negotiate: false,
      opportunistic: false,
      delegate: false,
      request: true,
      data: true,
      header: true,
      user: true,
      mutual: true,
      target: true,
      'location-trusted': false,
      include: false,
      'dump-header': true,
      output: true,
      'show-error': false,
      fail: false,
      'fail-with-body': false,
      proxy: true,
      'proxy-negotiate': false,
      'proxy-user': true,
      'proxy-cacert': true,
      'proxy-mutual': true,
    },
  });
  if (!r.ok) {
    io.stderr(`spnego curl: ${r.message}\n${USAGE}`);
    return 2;
  }
  for (const { name, value = '' } of r.opts) {
    if (name === '-h' || name === '--help') {
      io.stdout(USAGE);
      return 0;
    } else if (name === '-v' || name === '--verbose') verbose = true;
    else if (name === '-X' || name === '--request') method = value.toUpperCase();
    else if (name === '-d' || name === '--data') data = data === undefined ? value : `${data}&${value}`;
    else if (name === '-H' || name === '--header') {
      const colon = value.indexOf(':');
      if (colon <= 0) {
        io.stderr(`spnego curl: bad header ${JSON.stringify(value)} (expected "Name: value")\n`);
        return 2;
      }
      headers.push([value.slice(0, colon).trim(), value.slice(colon + 1).trim()]);
    } else if (name === '--mutual') {
      const m = MUTUAL[value.toLowerCase()];
      if (m === undefined) {
        io.stderr(
          `spnego curl: --mutual takes required, optional or disabled, not ${JSON.stringify(value)}\n`,
        );
        return 2;
      }
      options.mutualAuthentication = m;
    } else if (name === '--proxy-mutual') {
      const m = MUTUAL[value.toLowerCase()];
      if (m === undefined) {
        io.stderr(
          `spnego curl: --proxy-mutual takes required, optional or disabled, not ${JSON.stringify(value)}\n`,
        );
        return 2;
      }
      options.proxyMutualAuthentication = m;
    } else if (name === '--proxy-cacert') proxyCaFile = value;
    else if (name === '--opportunistic') options.opportunisticAuth = true;
    else if (name === '--delegate') options.delegate = true;
    else if (name === '--target') options.targetName = value;
    else if (name === '--location-trusted') options.trustSameServiceRedirects = true;
    else if (name === '-i' || name === '--include') include = true;
    else if (name === '-D' || name === '--dump-header') dumpHeader = value;
    else if (name === '-o' || name === '--output') output = value;
    else if (name === '-s' || name === '--silent') silent = true;
    else if (name === '-S' || name === '--show-error') showError = true;
    else if (name === '-f' || name === '--fail') fail = 'quiet';
    else if (name === '--fail-with-body') fail = 'body';
    else if (name === '-x' || name === '--proxy') options.proxy = value === '' ? false : value;
    // else --negotiate, -u/--user, --proxy-negotiate, -U/--proxy-user: curl muscle memory,
    // Negotiate is always on (with the proxy too, when it asks).
  }
  for (const a of r.operands) {
    if (url === undefined) url = a;
    else {
      io.stderr(`spnego curl: only one URL, got ${url} and ${a}\n`);
      return 2;
    }
  }
  if (url === undefined) {
    io.stderr(USAGE);
    return 2;
  }
  return {
    url,
    headers,
    verbose,
    options,
    include,
    silent,
    showError,
    fail,
    ...(dumpHeader === undefined ? {} : { dumpHeader }),
    ...(output === undefined ? {} : { output }),
    ...(method === undefined ? {} : { method }),
    ...(data === undefined ? {} : { data }),
    ...(proxyCaFile === undefined ? {} : { proxyCaFile }),
  };
}

export async function curlCommand(
  argv: string[],
  io: CurlIo,
  internals: NegotiateInternals = {},
): Promise<number> {
  const parsed = parseArgs(argv, io);
  if (typeof parsed === 'number') return parsed;
  const p = parsed;
  // -s mutes error messages (not usage errors, as curl), -S shows them again.
  const err = (text: string): void => {
    if (!p.silent || p.showError) io.stderr(text);
  };
  let url: URL;
  try {
    url = new URL(p.url);
  } catch {
    io.stderr(`spnego curl: not a URL: ${p.url}\n`);
    return 2;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    io.stderr(`spnego curl: only http and https URLs, not ${url.protocol}\n`);
    return 2;
  }
  const say = (line: string): void => {
    if (p.verbose) io.stderr(`* ${line}\n`);
  };
  const logger: Logger = { debug: (m) => say(m) };
  let body: string | Uint8Array | undefined;
  if (p.data !== undefined) {
    // curl's -d @file reads the request body from a file.
    if (p.data.startsWith('@')) {
      try {
        body = await readFile(p.data.slice(1));
      } catch (e) {
        err(`spnego curl: cannot read ${p.data.slice(1)}: ${describe(e)}`);
        return 26;
      }
    } else body = p.data;
  }
  if (p.proxyCaFile !== undefined) {
    try {
      p.options.proxyCa = new TextDecoder().decode(await readFile(p.proxyCaFile));
    } catch (e) {
      err(`spnego curl: cannot read ${p.proxyCaFile}: ${describe(e)}`);
      // curl: "Problem with the SSL CA cert (path? access rights?)"
      return 77;
    }
  }
  const headers = new Headers();
  if (body !== undefined) headers.set('content-type', 'application/x-www-form-urlencoded');
  for (const [k, v] of p.headers) headers.set(k, v);
  const method = p.method ?? (body === undefined ? 'GET' : 'POST');
  // The last error of our own side of the exchange, to explain a 401 the flow hands back.
  let localFailure: unknown;
  const record = (e: unknown): never => {
    localFailure = e;
    throw e;
  };
  const watchedFactory =
    (inner: ContextFactory): ContextFactory =>
    async (req) => {
      const ctx = await inner(req).catch(record);
      const step = ctx.step.bind(ctx);
      ctx.step = (input) => step(input).catch(record);
      return ctx;
    };
  try {
    const negotiator = createNegotiator(
      { ...p.options, ...(p.verbose ? { logger } : {}) },
      {
        ...internals,
        contextFactory: watchedFactory(
          internals.contextFactory ??
            defaultContextFactory({ ...p.options, ...(p.verbose ? { logger } : {}) }),
        ),
      },
    );
    const send = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const req = input instanceof Request ? input : new Request(input, init);
      say(
        `> ${req.method} ${req.url}${req.headers.has('authorization') ? ' (with Authorization: Negotiate)' : ''}`,
      );
      const res = await globalThis.fetch(req, init);
      say(`< ${res.status} ${res.statusText}`);
      return res;
    };
    const res = await negotiator.fetch(
      url,
      { method, headers, ...(body === undefined ? {} : { body: body as BodyInit }) },
      send,
    );
    const bytes = new Uint8Array(await res.arrayBuffer());
    const httpError = res.status >= 400;
    const stdout = (b: Uint8Array): void => {
      if (io.stdoutBytes) io.stdoutBytes(b);
      else io.stdout(new TextDecoder().decode(b));
    };
    // -f: curl fails before writing anything of an error response.
    if (!(httpError && p.fail === 'quiet')) {
      const head = new TextEncoder().encode(headerBlock(res));
      try {
        if (p.dumpHeader === '-') stdout(head);
        else if (p.dumpHeader !== undefined) await writeFileAtomic(p.dumpHeader, head, 0o644);
        if (p.include) stdout(head);
        if (p.output !== undefined && p.output !== '-') await writeFileAtomic(p.output, bytes, 0o644);
        else stdout(bytes);
      } catch (e) {
        err(`spnego curl: cannot write the output: ${describe(e)}`);
        return 23;
      }
    }
    const failed = p.fail === false ? res.status < 200 || res.status >= 300 : httpError;
    if (!failed) return 0;
    // The flow answers a local Kerberos failure (no ccache, expired TGT, unknown service) with
    // the server's 401, as requests-gssapi does: say why, with the error's hint.
    const failure = res.status === 401 ? (negotiateFailure(res) ?? localFailure) : undefined;
    if (failure !== undefined) err(`spnego curl: cannot authenticate: ${describe(failure)}`);
    err(`spnego curl: (22) the server answered ${res.status} ${res.statusText}\n`);
    return 22;
  } catch (e) {
    err(`spnego curl: ${describe(e)}`);
    return exitCodeOf(e);
  }
}

/** The status line and headers as curl -i prints them (fetch does not say the HTTP version). */
function headerBlock(res: Response): string {
  let out = `HTTP/1.1 ${res.status}${res.statusText ? ` ${res.statusText}` : ''}\r\n`;
  for (const [k, v] of res.headers) out += `${k}: ${v}\r\n`;
  return `${out}\r\n`;
}

const TLS_TRUST = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** curl's exit codes for what fetch reports as a TypeError with a system error as cause. */
function exitCodeOf(e: unknown): number {
  if (!(e instanceof Error)) return 1;
  if (e.cause instanceof SpnegoError && e.cause.code === 'REDIRECT_LIMIT') return 47;
  // The proxy failed mutual authentication: 1, as for the origin.
  if (e.cause instanceof MutualAuthenticationError) return 1;
  // curl: "CONNECT tunnel failed" is a receive error.
  if (e.cause instanceof SpnegoError && e.cause.code.startsWith('PROXY_')) return 56;
  let c: unknown = e.cause;
  for (let i = 0; i < 4 && c instanceof Error; i++) {
    const code = (c as { code?: unknown }).code;
    // curl 60: "Peer certificate cannot be authenticated with known CA certificates".
    if (typeof code === 'string' && TLS_TRUST.has(code)) return 60;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 6;
    if (code === 'ECONNREFUSED') return 7;
    if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return 28;
    c = c.cause;
  }
  return 1;
}

/** A typed error as `Name CODE: message` and its hint; others with their cause (fetch's "fetch failed" hides it). */
function describe(e: unknown): string {
  if (e instanceof SpnegoError)
    return `${e.name} ${e.code}: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}`;
  if (!(e instanceof Error)) return `${String(e)}\n`;
  // A redirect the flow would not follow: fetch's shape outside, our explanation inside.
  if (e.cause instanceof SpnegoError) return `${e.message}: ${describe(e.cause)}`;
  const cause = e.cause instanceof Error ? e.cause.message : undefined;
  return `${e.message}${cause === undefined || e.message.includes(cause) ? '' : `: ${cause}`}\n`;
}
