// Identity bits MIT's parameter expansion needs beyond env.ts: %{uid} is the REAL uid, while
// %{euid} and %{username} follow the effective one.

/** The real uid; falls back to 0 where the platform has none (Windows). */
export function getRealUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}

/** Random lowercase alphanumerics for new DIR: collection members (`tktXXXXXX`). */
export function randomName(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}
