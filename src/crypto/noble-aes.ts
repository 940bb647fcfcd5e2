// The one export of @noble/ciphers' AES module that src/crypto/aes-cts.ts uses, as a module of
// its own for import(): a bundler keeps every export of a module loaded by import(), so importing
// @noble/ciphers/aes.js itself that way would ship (and evaluate) its GCM, SIV and key-wrap code
// too; through here it keeps the raw block functions only.
export { unsafe } from '@noble/ciphers/aes.js';
