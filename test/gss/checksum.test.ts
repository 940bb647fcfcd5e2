import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KerberosError } from '../../src/errors.js';
import {
  channelBindingHash,
  decodeGssChecksum,
  encodeGssChecksum,
  GssFlag,
} from '../../src/krb5/gss/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('0x8003 authenticator checksum (RFC 4121 §4.1.1)', () => {
  it('hashes channel bindings as MD5 over the little-endian gss_channel_bindings_struct', () => {
    // Expected values from Python hashlib.md5 over the RFC 4121 §4.1.1.2 layout.
    assert.equal(hex(channelBindingHash(new Uint8Array(0))), '441018525208457705bf09a8ee3c1093');
    assert.equal(
      hex(channelBindingHash(new TextEncoder().encode('hello'))),
      '50f40d34cd26c144fc662ed1ec783a94',
    );
    assert.equal(hex(channelBindingHash(undefined)), '00'.repeat(16));
  });

  it('encodes Lgth, Bnd and Flags little-endian in 24 bytes without delegation', () => {
    const b = encodeGssChecksum({
      bindingHash: new Uint8Array(16).fill(7),
      flags: GssFlag.MUTUAL | GssFlag.INTEG,
    });
    assert.equal(b.length, 24);
    assert.equal(hex(b.subarray(0, 4)), '10000000');
    assert.equal(hex(b.subarray(20, 24)), '22000000');
    const d = decodeGssChecksum(b);
    assert.equal(d.flags, 0x22);
    assert.equal(d.delegation, undefined);
  });

  it('carries DlgOpt=1, Dlgth and the KRB-CRED when delegating, and ignores trailing extensions', () => {
    const cred = Uint8Array.of(0x76, 1, 2, 3);
    const b = encodeGssChecksum({ bindingHash: new Uint8Array(16), flags: GssFlag.MUTUAL, delegation: cred });
    assert.equal(hex(b.subarray(20, 28)), '0300000001000400');
    const withExt = new Uint8Array(b.length + 8);
    withExt.set(b);
    const d = decodeGssChecksum(withExt);
    assert.equal(d.flags & GssFlag.DELEG, GssFlag.DELEG);
    assert.deepEqual(d.delegation, cred);
  });

  it('refuses short, mis-sized and overrunning checksums with KRB_AP_ERR_INAPP_CKSUM', () => {
    const bad = [new Uint8Array(23), Uint8Array.from([...Array(24)].map((_, i) => (i === 0 ? 15 : 0)))];
    const over = encodeGssChecksum({
      bindingHash: new Uint8Array(16),
      flags: 0,
      delegation: new Uint8Array(10),
    }).subarray(0, 30);
    for (const b of [...bad, over]) {
      assert.throws(
        () => decodeGssChecksum(b),
        (e: unknown) => e instanceof KerberosError && e.errorName === 'KRB_AP_ERR_INAPP_CKSUM',
      );
    }
  });
});
