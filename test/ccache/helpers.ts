// Shared by the ccache tests: fixture access and small builders.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ccache, CcacheCredential } from '../../src/ccache/ccache.js';

export const VECTORS = join(dirname(fileURLToPath(import.meta.url)), '..', 'vectors', 'ccache');

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(VECTORS, name)));
}

export function fixtureText(name: string): string {
  return readFileSync(join(VECTORS, name), 'utf8');
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function credential(over: Partial<CcacheCredential> = {}): CcacheCredential {
  return {
    client: { realm: 'EXAMPLE.TEST', name: { nameType: 1, nameString: ['user'] } },
    server: { realm: 'EXAMPLE.TEST', name: { nameType: 2, nameString: ['HTTP', 'www.example.test'] } },
    key: { keytype: 18, keyvalue: new Uint8Array(32).fill(7) },
    authTime: 1_700_000_000,
    startTime: 1_700_000_100,
    endTime: 1_700_036_000,
    renewTill: 1_700_600_000,
    isSkey: false,
    flags: 0x40e10000,
    addresses: [],
    authData: [],
    ticket: new Uint8Array([0x61, 0x03, 0x30, 0x01, 0x00]),
    secondTicket: new Uint8Array(0),
    ...over,
  };
}

export function ccacheWith(credentials: CcacheCredential[]): Ccache {
  return {
    version: 4,
    header: { kdcOffset: { seconds: 0, microseconds: 0 }, unknownFields: [] },
    defaultPrincipal: { realm: 'EXAMPLE.TEST', name: { nameType: 1, nameString: ['user'] } },
    credentials,
  };
}
