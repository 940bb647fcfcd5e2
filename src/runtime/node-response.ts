// A WHATWG Response as the node:http IncomingMessage some clients (got) expect from a request
// function: a Readable of the body with statusCode, statusMessage, headers and url. The body was
// already decoded by fetch, so Content-Encoding and Content-Length are dropped, or the client
// would decode it a second time.
import type * as NodeStream from 'node:stream';
import type { Readable } from 'node:stream';
import { builtin } from './builtin.js';

export interface IncomingMessageLike extends Readable {
  statusCode: number;
  statusMessage: string;
  headers: Record<string, string | string[]>;
  rawHeaders: string[];
  url: string;
  httpVersion: string;
  complete: boolean;
}

export function incomingMessageLike(res: Response): IncomingMessageLike {
  const { Readable } = builtin<typeof NodeStream>('node:stream');
  const body = res.body
    ? Readable.fromWeb(res.body as unknown as Parameters<typeof NodeStream.Readable.fromWeb>[0])
    : Readable.from([]);
  const headers: Record<string, string | string[]> = {};
  const rawHeaders: string[] = [];
  for (const [k, v] of res.headers) {
    if (k === 'content-encoding' || k === 'content-length' || k === 'set-cookie') continue;
    headers[k] = v;
    rawHeaders.push(k, v);
  }
  const cookies = res.headers.getSetCookie?.() ?? [];
  if (cookies.length > 0) {
    headers['set-cookie'] = cookies;
    for (const c of cookies) rawHeaders.push('set-cookie', c);
  }
  const msg = body as IncomingMessageLike;
  msg.statusCode = res.status;
  msg.statusMessage = res.statusText;
  msg.headers = headers;
  msg.rawHeaders = rawHeaders;
  msg.url = res.url;
  msg.httpVersion = '1.1';
  msg.complete = false;
  body.once('end', () => {
    msg.complete = true;
  });
  return msg;
}
