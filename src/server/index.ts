// spnego/server — accepting Kerberos (Negotiate) in Node, Bun and Deno servers.
export { KerberosError, SpnegoError } from '../errors.js';
export type { Acceptor, AcceptorOptions, AcceptResult } from './acceptor.js';
export { createAcceptor, NegotiateRejection } from './acceptor.js';
export type {
  CheckResult,
  MiddlewareOptions,
  NegotiateContext,
  NegotiateInfo,
  Next,
  RequestLike,
  ResponseLike,
} from './middleware.js';
export { checkAuthorization, negotiateHandler, negotiateMiddleware, negotiateToken } from './middleware.js';
export type {
  FileReplayCacheOptions,
  RedisClientLike,
  RedisReplayCacheOptions,
  ReplayCache,
  ReplayCacheOptions,
} from './replay-cache.js';
export { FileReplayCache, MemoryReplayCache, RedisReplayCache, ReplayCacheError } from './replay-cache.js';
