// RFC 4559 HTTP Negotiate for clients: challenge parsing, the per-request flow, ky and fetch.
export { base64Decode, base64Encode } from '../spnego/base64.js';
export { type Challenge, type NegotiateOffer, negotiateOffer, parseChallenges } from './challenge.js';
export { type FetchLike, negotiateFetch } from './fetch.js';
export { negotiateFailure } from './flow.js';
export { type NegotiateKyOptions, negotiate } from './ky.js';
export {
  DISABLED,
  MutualAuth,
  type MutualAuthMode,
  type NegotiateOptions,
  OPTIONAL,
  REQUIRED,
} from './options.js';
