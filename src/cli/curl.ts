// `spnego curl [-v] [-X METHOD] [-d DATA] [-H 'K: V'] [--mutual required|optional|disabled]
// [--opportunistic] [--delegate] [--target NAME] URL`: a request with HTTP Negotiate, the body on
// stdout, exit 0 on 2xx (22 otherwise, as `curl --fail`). With -v the Negotiate steps go to
// stderr: challenge, target, ticket from cache or KDC, token sizes, mutual result.
import { SpnegoError } from '../errors.js';
import { createNegotiator, type NegotiateInternals } from '../http/fetch.js';
import { DISABLED, type MutualAuthMode, type NegotiateOptions, OPTIONAL, REQUIRED } from '../http/options.js';
import { readFile } from '../runtime/fs.js';
import type { Logger } from '../runtime/log.js';
import type { CliIo } from './ccache-name.js';

const USAGE =
  'usage: spnego curl [-v] [-X METHOD] [-d DATA|@FILE] [-H "K: V"]... [--mutual required|optional|disabled]\n' +
  '                   [--opportunistic] [--delegate] [--target NAME] URL\n';

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
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = (): string | undefined => {
      const v = argv[++i];
      if (v === undefined) io.stderr(`spnego curl: option ${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '-h' || a === '--help') {
      io.stdout(USAGE);
      return 0;
    } else if (a === '-v' || a === '--verbose') verbose = true;
    else if (a === '-X' || a === '--request') {
      const v = value();
      if (v === undefined) return 2;
      method = v.toUpperCase();
    } else if (a === '-d' || a === '--data') {
      const v = value();
      if (v === undefined) return 2;
      data = data === undefined ? v : `${data}&${v}`;
    } else if (a === '-H' || a === '--header') {
      const v = value();
      if (v === undefined) return 2;
      const colon = v.indexOf(':');
      if (colon <= 0) {
        io.stderr(`spnego curl: bad header ${JSON.stringify(v)} (expected "Name: value")\n`);
        return 2;
      }
      headers.push([v.slice(0, colon).trim(), v.slice(colon + 1).trim()]);
    } else if (a === '--mutual') {
      const v = value();
      if (v === undefined) return 2;
      const m = MUTUAL[v.toLowerCase()];
      if (m === undefined) {
        io.stderr(`spnego curl: --mutual takes required, optional or disabled, not ${JSON.stringify(v)}\n`);
        return 2;
      }
      options.mutualAuthentication = m;
    } else if (a === '--opportunistic') options.opportunisticAuth = true;
    else if (a === '--delegate') options.delegate = true;
    else if (a === '--target') {
      const v = value();
      if (v === undefined) return 2;
      options.targetName = v;
    } else if (a === '--negotiate' || a === '-u' || a === '-s' || a === '--silent') {
      // curl muscle memory: Negotiate is always on; `-u :` takes a value we ignore.
      if (a === '-u') i++;
    } else if (a.startsWith('-') && a !== '-') {
      io.stderr(`spnego curl: unknown option ${a}\n${USAGE}`);
      return 2;
    } else if (url === undefined) url = a;
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
  try {
    const negotiator = createNegotiator({ ...p.options, ...(p.verbose ? { logger } : {}) }, internals);
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
    io.stderr(`spnego curl: the server answered ${res.status} ${res.statusText}\n`);
    return 22;
  } catch (e) {
    if (e instanceof SpnegoError) {
      io.stderr(`spnego curl: ${e.name} ${e.code}: ${e.message}\n${e.hint ? `hint: ${e.hint}\n` : ''}`);
    } else io.stderr(`spnego curl: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
