// The RFC 4752 §3.3 security-layer message: one octet of layer bits, three octets of maximum
// buffer size (network order), then, from the client only, the authorization identity in UTF-8.
// Both directions travel inside a GSS Wrap token once the Kerberos context is established.
import { SaslError } from './errors.js';

/** The layer bits of the first octet (RFC 4752 §3.3). */
export const SecurityLayer = {
  NONE: 1,
  INTEGRITY: 2,
  CONFIDENTIALITY: 4,
} as const;

export type LayerName = 'none' | 'integrity' | 'confidentiality';

export const ALL_LAYERS: readonly LayerName[] = ['none', 'integrity', 'confidentiality'];

/** The largest size three octets can carry. */
export const MAX_BUFFER_LIMIT = 0xffffff;

/** Cyrus SASL's default maxbufsize: what we announce unless told otherwise. */
export const DEFAULT_MAX_BUFFER = 65536;

const BIT: Readonly<Record<LayerName, number>> = {
  none: SecurityLayer.NONE,
  integrity: SecurityLayer.INTEGRITY,
  confidentiality: SecurityLayer.CONFIDENTIALITY,
};

/** Strongest first: what a client picks among the layers both sides accept. */
const STRENGTH: readonly LayerName[] = ['confidentiality', 'integrity', 'none'];

export function layerBits(layers: readonly LayerName[]): number {
  let bits = 0;
  for (const l of layers) bits |= BIT[l];
  return bits;
}

export function layersOf(bits: number): LayerName[] {
  return ALL_LAYERS.filter((l) => (bits & BIT[l]) !== 0);
}

export function layerBit(layer: LayerName): number {
  return BIT[layer];
}

/** The strongest layer present in both bit sets, or undefined. */
export function strongestCommon(offered: number, acceptable: number): LayerName | undefined {
  return STRENGTH.find((l) => (offered & acceptable & BIT[l]) !== 0);
}

export interface LayerMessage {
  bits: number;
  maxBuffer: number;
  /** Present (possibly empty) in the client's message only. */
  authorizationId?: string;
}

export function encodeLayerMessage(m: LayerMessage): Uint8Array {
  const authz =
    m.authorizationId === undefined ? new Uint8Array(0) : new TextEncoder().encode(m.authorizationId);
  const out = new Uint8Array(4 + authz.length);
  out[0] = m.bits & 0xff;
  out[1] = (m.maxBuffer >>> 16) & 0xff;
  out[2] = (m.maxBuffer >>> 8) & 0xff;
  out[3] = m.maxBuffer & 0xff;
  out.set(authz, 4);
  return out;
}

/**
 * The server's message is exactly four octets (RFC 4752 §3.1: the client fails otherwise); the
 * client's has the authorization identity after them, which must be valid UTF-8.
 */
export function decodeLayerMessage(bytes: Uint8Array, from: 'server' | 'client'): LayerMessage {
  if (from === 'server' ? bytes.length !== 4 : bytes.length < 4) {
    throw new SaslError(
      'BAD_LAYER_MESSAGE',
      `the ${from}'s security-layer message is ${bytes.length} octets; RFC 4752 §3.${from === 'server' ? '1 wants exactly 4' : '3 wants at least 4'}`,
    );
  }
  const bits = bytes[0] ?? 0;
  const maxBuffer = ((bytes[1] ?? 0) << 16) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0);
  if (from === 'server') return { bits, maxBuffer };
  let authorizationId: string;
  try {
    authorizationId = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(4));
  } catch (e) {
    throw new SaslError('BAD_LAYER_MESSAGE', 'the authorization identity is not valid UTF-8', { cause: e });
  }
  if (authorizationId.includes('\u0000'))
    throw new SaslError('BAD_LAYER_MESSAGE', 'the authorization identity contains a NUL character');
  return { bits, maxBuffer, authorizationId };
}

export function checkLayers(layers: readonly LayerName[] | undefined, what: string): readonly LayerName[] {
  if (layers === undefined) return ALL_LAYERS;
  if (!Array.isArray(layers) || layers.length === 0 || !layers.every((l) => ALL_LAYERS.includes(l)))
    throw new SaslError(
      'BAD_OPTION',
      `${what} must be a non-empty list of 'none', 'integrity', 'confidentiality'`,
    );
  return layers;
}

export function checkMaxBuffer(n: number | undefined): number {
  if (n === undefined) return DEFAULT_MAX_BUFFER;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_BUFFER_LIMIT)
    throw new SaslError(
      'BAD_OPTION',
      `maxBufferSize must be an integer from 1 to ${MAX_BUFFER_LIMIT}, got ${String(n)}`,
    );
  return n;
}
