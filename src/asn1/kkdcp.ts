// MS-KKDCP §2.2.2: the message a KDC proxy carries over HTTPS.

import { readRealm, writeRealm } from './basic.js';
import {
  ctx,
  optCtx,
  readInt32,
  readOctetString,
  root,
  SeqCursor,
  sequence,
  writeInt32,
  writeOctetString,
} from './der.js';

/**
 * KDC-PROXY-MESSAGE ::= SEQUENCE {
 *   kerb-message   [0] OCTET STRING,   -- the Kerberos message with its TCP 4-octet length prefix
 *   target-domain  [1] KERB-REALM OPTIONAL,
 *   dclocator-hint [2] INTEGER OPTIONAL }
 */
export interface KdcProxyMessage {
  kerbMessage: Uint8Array;
  targetDomain?: string;
  dclocatorHint?: number;
}

export function encodeKdcProxyMessage(v: KdcProxyMessage): Uint8Array {
  return sequence([
    ctx(0, writeOctetString(v.kerbMessage)),
    optCtx(1, v.targetDomain, writeRealm),
    optCtx(2, v.dclocatorHint, (n) => writeInt32(n, 'KDC-PROXY-MESSAGE.dclocator-hint')),
  ]);
}

export function decodeKdcProxyMessage(bytes: Uint8Array): KdcProxyMessage {
  const s = new SeqCursor(root(bytes, 'KDC-PROXY-MESSAGE'));
  const kerbMessage = readOctetString(s.req(0, 'kerb-message'));
  const domain = s.opt(1, 'target-domain');
  const hint = s.opt(2, 'dclocator-hint');
  s.done();
  const out: KdcProxyMessage = { kerbMessage };
  if (domain !== undefined) out.targetDomain = readRealm(domain);
  if (hint !== undefined) out.dclocatorHint = readInt32(hint);
  return out;
}
