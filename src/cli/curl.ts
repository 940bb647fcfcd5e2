// `spnego curl [-v] [-X METHOD] [-d DATA] [-H 'K: V'] [--mutual required|optional|disabled]
// [--opportunistic] [--delegate] [--target NAME] [--location-trusted] URL`: a request with HTTP
// Negotiate, the body on stdout, exit 0 on 2xx (22 otherwise, as `curl --fail`; 47 for too many
// redirects, as curl). With -v the Negotiate steps go to stderr: challenge, target, ticket from
// cache or KDC, token sizes, mutual result.
import { SpnegoError } from '../errors.js';
import { createNegotiator, defaultContextFactory, type NegotiateInternals } from '../http/fetch.js';
import { type ContextFactory, negotiateFailure } from '../http/flow.js';
import { DISABLED, type MutualAuthMode, type NegotiateOptions, OPTIONAL, REQUIRED } from '../http/options.js';
import { readFile } from '../runtime/fs.js';
import type { Logger } from '../runtime/log.js';
import type { CliIo } from './ccache-name.js';
import { getopt } from './getopt.js';

const USAGE =
  'usage: spnego curl [-v] [-X METHOD] [-d DATA|@FILE] [-H "K: V"]... [--mutual required|optional|disabled]\n' +
  '                   [--opportunistic] [--delegate] [--target NAME] [--location-trusted] URL\n';

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
}

function parseArgs(argv: string[], io: CliIo): Parsed | number {
  const headers: Array<[string, string]> = [];
  const options: NegotiateOptions = {};
  let url: string | undefined;
  let method: string | undefined;
  let data: string | undefined;
  let verbose = false;
  const r = getopt(argv, {
    flags: 'vsh',
    withValue: 'XdHu',
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
    } else if (name === '--opportunistic') options.opportunisticAuth = true;
    else if (name === '--delegate') options.delegate = true;
    else if (name === '--target') options.targetName = value;
    else if (name === '--location-trusted') options.trustSameServiceRedirects = true;
    // else --negotiate, -u/--user, -s/--silent: curl muscle memory, Negotiate is always on.
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
    ...(method === undefined ? {} : { method }),
    ...(data === undefined ? {} : { data }),
  };
}

export async function curlCommand(
  argv: string[],
  io: CurlIo,
  internals: NegotiateInternals = {},
): Promise<number> {
  const p = parseArgs(argv, io);
  if (typeof p === 'number') return p;
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
    body = p.data.startsWith('@') ? await readFile(p.data.slice(1)) : p.data;
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
    if (io.stdoutBytes) io.stdoutBytes(bytes);
    else io.stdout(new TextDecoder().decode(bytes));
    if (res.status >= 200 && res.status < 300) return 0;
    // The flow answers a local Kerberos failure (no ccache, expired TGT, unknown service) with
    // the server's 401, as requests-gssapi does: say why, with the error's hint.
    const failure = res.status === 401 ? (negotiateFailure(res) ?? localFailure) : undefined;
    if (failure !== undefined) io.stderr(`spnego curl: cannot authenticate: ${describe(failure)}`);
    io.stderr(`spnego curl: the server answered ${res.status} ${res.statusText}\n`);
    return 22;
  } catch (e) {
    io.stderr(`spnego curl: ${describe(e)}`);
    return e instanceof TypeError && e.cause instanceof SpnegoError && e.cause.code === 'REDIRECT_LIMIT'
      ? 47
      : 1;
  }
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
