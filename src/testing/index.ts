// spnego/testing — test helpers (MiniKdc).
export { SpnegoError } from '../errors.js';
