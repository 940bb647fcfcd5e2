// One HTTPS POST with a bounded reply, for KDC proxies (MS-KKDCP). The trust anchors are
// either the platform's default store or, when krb5.conf names `http_anchors`, only those
// certificates (as MIT's k5tls does). Where node:https is absent (edge runtimes) the caller
// passes a fetch-based poster instead; see src/krb5/transport.ts.
import { readdir, readFile, stat } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';

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

export function httpsPost(url: string, body: Uint8Array, opts: HttpsPostOptions): Promise<HttpsPostReply> {
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
    const req = request(
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
    if (kind === 'FILE') out.push(await readFile(rest, 'utf8'));
    else if (kind === 'ENV') {
      const path = process.env[rest];
      if (path === undefined || path === '')
        throw codedError('ANCHOR', `http_anchors ${spec}: ${rest} is not set`);
      out.push(await readFile(path, 'utf8'));
    } else if (kind === 'DIR') {
      for (const name of (await readdir(rest)).sort()) {
        const p = join(rest, name);
        if (!(await stat(p)).isFile()) continue;
        const text = await readFile(p, 'utf8');
        if (text.includes('-----BEGIN CERTIFICATE-----')) out.push(text);
      }
    } else throw codedError('ANCHOR', `http_anchors ${spec}: expected FILE:, DIR: or ENV:`);
  }
  return out;
}
