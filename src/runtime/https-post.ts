// One HTTPS POST with a bounded reply, for KDC proxies (MS-KKDCP). The trust anchors are
// either the platform's default store or, when krb5.conf names `http_anchors`, only those
// certificates (as MIT's k5tls does). Where node:https is absent (edge runtimes) the caller
// passes a fetch-based poster instead; see src/krb5/transport.ts.
import type * as NodeFs from 'node:fs';
import type * as NodeHttps from 'node:https';
import type * as NodePath from 'node:path';
import { builtin } from './builtin.js';

const fsp = () => builtin<typeof NodeFs>('node:fs').promises;
const https = () => builtin<typeof NodeHttps>('node:https');
const nodePath = () => builtin<typeof NodePath>('node:path');

export interface HttpsPostOptions {
  /** Milliseconds since the epoch after which the request is abandoned. */
  deadline: number;
  /** Largest body accepted; a longer (or longer-announced) one fails at once. */
  maxBytes: number;
  /** PEM certificates to trust instead of the default store. */
  ca?: readonly string[];
  headers?: Record<string, string>;
}

export interface HttpsPostReply {
  status: number;
  contentType: string | undefined;
  body: Uint8Array;
}

/** An Error with a `code`: `TLS`, `HTTP_TOO_LARGE`, `TIMEOUT`, or Node's own (ECONNREFUSED...). */
function codedError(code: string, message: string, cause?: unknown): Error {
  const e = new Error(message, cause === undefined ? undefined : { cause }) as Error & { code: string };
  e.code = code;
  return e;
}

// Node's codes for a certificate it would not trust (tls.TLSSocket verifyError, checkServerIdentity).
const TLS_CODES =
  /^(ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|CERT_UNTRUSTED|CERT_REJECTED|CERT_SIGNATURE_FAILURE|HOSTNAME_MISMATCH|ERR_SSL_.*)$/;

/**
 * POSTs through node:https where the platform has it (custom trust anchors possible), else through
 * fetch (edge runtimes: the platform's trust store only).
 */
export function httpsPost(url: string, body: Uint8Array, opts: HttpsPostOptions): Promise<HttpsPostReply> {
  let node: typeof NodeHttps | undefined;
  try {
    node = https();
  } catch {
    node = undefined;
  }
  return node === undefined ? fetchPost(url, body, opts) : nodeHttpsPost(node, url, body, opts);
}

/** The fetch-based POST, with the same bounds (deadline, reply size) and error codes. */
export async function fetchPost(
  url: string,
  body: Uint8Array,
  opts: HttpsPostOptions,
): Promise<HttpsPostReply> {
  if (opts.ca !== undefined) {
    throw codedError(
      'TLS',
      'http_anchors cannot be applied here: this platform has no node:https, and fetch trusts only the platform store',
    );
  }
  const remaining = Math.max(1, opts.deadline - Date.now());
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), remaining);
  try {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: opts.headers ?? {},
        body: new Uint8Array(body),
        signal: ctrl.signal,
        redirect: 'manual',
      });
    } catch (e) {
      if (ctrl.signal.aborted) throw codedError('TIMEOUT', `timed out after ${remaining} ms`);
      const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
      const code = typeof cause?.code === 'string' ? cause.code : '';
      if (TLS_CODES.test(code)) throw codedError('TLS', `${code}: ${String(cause?.message ?? '')}`, e);
      throw e;
    }
    const announced = Number(res.headers.get('content-length'));
    if (Number.isFinite(announced) && announced > opts.maxBytes) {
      await res.body?.cancel();
      throw codedError(
        'HTTP_TOO_LARGE',
        `reply of ${announced} bytes exceeds the ${opts.maxBytes}-byte limit`,
      );
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = res.body?.getReader();
    for (;;) {
      if (reader === undefined) break;
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > opts.maxBytes) {
        await reader.cancel();
        throw codedError('HTTP_TOO_LARGE', `reply exceeds the ${opts.maxBytes}-byte limit`);
      }
      chunks.push(value);
    }
    const out = new Uint8Array(size);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.length;
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? undefined, body: out };
  } finally {
    clearTimeout(timer);
  }
}

function nodeHttpsPost(
  node: typeof NodeHttps,
  url: string,
  body: Uint8Array,
  opts: HttpsPostOptions,
): Promise<HttpsPostReply> {
  return new Promise((resolve, reject) => {
    const remaining = Math.max(1, opts.deadline - Date.now());
    let settled = false;
    const finish = (e: Error | null, reply?: HttpsPostReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (e) {
        req.destroy();
        reject(e);
      } else if (reply) resolve(reply);
    };
    const req = node.request(
      url,
      {
        method: 'POST',
        headers: { 'Content-Length': String(body.length), ...opts.headers },
        ...(opts.ca === undefined ? {} : { ca: [...opts.ca] }),
        agent: false,
      },
      (res) => {
        const announced = Number(res.headers['content-length']);
        if (Number.isFinite(announced) && announced > opts.maxBytes) {
          finish(
            codedError(
              'HTTP_TOO_LARGE',
              `reply of ${announced} bytes exceeds the ${opts.maxBytes}-byte limit`,
            ),
          );
          return;
        }
        const chunks: Uint8Array[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > opts.maxBytes) {
            finish(codedError('HTTP_TOO_LARGE', `reply exceeds the ${opts.maxBytes}-byte limit`));
            return;
          }
          chunks.push(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
        });
        res.on('error', (e) => finish(e));
        res.on('end', () => {
          const out = new Uint8Array(size);
          let off = 0;
          for (const c of chunks) {
            out.set(c, off);
            off += c.length;
          }
          const ct = res.headers['content-type'];
          finish(null, { status: res.statusCode ?? 0, contentType: ct, body: out });
        });
      },
    );
    const timer = setTimeout(
      () => finish(codedError('TIMEOUT', `timed out after ${remaining} ms`)),
      remaining,
    );
    timer.unref?.();
    req.on('error', (e: Error & { code?: string }) => {
      const code = e.code ?? '';
      finish(TLS_CODES.test(code) ? codedError('TLS', `${code}: ${e.message}`, e) : e);
    });
    req.end(body);
  });
}

/**
 * The PEM certificates `http_anchors` values name, as MIT reads them: `FILE:path` (a PEM file),
 * `DIR:path` (every PEM file in it), `ENV:NAME` (the environment variable names a PEM file).
 */
export async function loadHttpAnchors(specs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    const kind = colon < 0 ? '' : spec.slice(0, colon).toUpperCase();
    const rest = colon < 0 ? spec : spec.slice(colon + 1);
    if (kind === 'FILE') out.push(await fsp().readFile(rest, 'utf8'));
    else if (kind === 'ENV') {
      const path = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[
        rest
      ];
      if (path === undefined || path === '')
        throw codedError('ANCHOR', `http_anchors ${spec}: ${rest} is not set`);
      out.push(await fsp().readFile(path, 'utf8'));
    } else if (kind === 'DIR') {
      for (const name of (await fsp().readdir(rest)).sort()) {
        const p = nodePath().join(rest, name);
        if (!(await fsp().stat(p)).isFile()) continue;
        const text = await fsp().readFile(p, 'utf8');
        if (text.includes('-----BEGIN CERTIFICATE-----')) out.push(text);
      }
    } else throw codedError('ANCHOR', `http_anchors ${spec}: expected FILE:, DIR: or ENV:`);
  }
  return out;
}
