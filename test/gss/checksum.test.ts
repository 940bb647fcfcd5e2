import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AuthorizationData,
  encodeAdIfRelevant,
  encodeApReq,
  encodeAuthenticator,
} from '../../src/asn1/index.js';
import { encrypt } from '../../src/crypto/index.js';
import { KerberosError } from '../../src/errors.js';
import {
  ApOption,
  acceptApReq,
  CKSUMTYPE_GSSAPI,
  channelBindingHash,
  decodeGssChecksum,
  encodeGssChecksum,
  encodeKrb5Token,
  GssError,
  GssFlag,
  KeyUsage,
  ReplayCache,
  TokenId,
} from '../../src/krb5/gss/index.js';
import { client, type Minted, mint } from './helpers.js';

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

// Channel-binding rules of MIT's acceptor (KERB_AP_OPTIONS_CBT, the
// channel-bound flag, initiator-settable flags) and 0x8003 checksums with a truncated delegation
// field (RFC 4121 §4.1.1).
const gssErr = (code: string) => (e: unknown) => e instanceof GssError && e.code === code;
const inappCksum = (e: unknown) => e instanceof KerberosError && e.errorName === 'KRB_AP_ERR_INAPP_CKSUM';

const CB = new TextEncoder().encode('tls-server-end-point:0123456789');
const BASE_FLAGS = GssFlag.MUTUAL | GssFlag.REPLAY | GssFlag.SEQUENCE | GssFlag.CONF | GssFlag.INTEG;

/** KERB-AUTH-DATA-AP-OPTIONS (ad-type 143) with `options` little-endian, in AD-IF-RELEVANT as Windows sends it. */
function apOptionsAd(options: number, wrap = true): AuthorizationData {
  const le = Uint8Array.of(options & 0xff, (options >>> 8) & 0xff, (options >>> 16) & 0xff, options >>> 24);
  const entry = { adType: 143, adData: le };
  return wrap ? [{ adType: 1, adData: encodeAdIfRelevant([entry]) }] : [entry];
}

/** An AP-REQ built field by field, for authenticators our initiator would not make. */
function apReq(
  m: Minted,
  o: { bindings?: Uint8Array; flags?: number; authorizationData?: AuthorizationData; checksum?: Uint8Array },
): Uint8Array {
  const now = Date.now();
  const checksum =
    o.checksum ??
    encodeGssChecksum({ bindingHash: channelBindingHash(o.bindings), flags: o.flags ?? BASE_FLAGS });
  const auth = encodeAuthenticator({
    authenticatorVno: 5,
    crealm: client.realm,
    cname: client.name,
    cksum: { cksumtype: CKSUMTYPE_GSSAPI, checksum },
    cusec: (now % 1000) * 1000 + Math.floor(Math.random() * 1000),
    ctime: new Date(Math.floor(now / 1000) * 1000),
    seqNumber: 12345,
    ...(o.authorizationData ? { authorizationData: o.authorizationData } : {}),
  });
  const key = m.ticket.sessionKey;
  const req = encodeApReq({
    pvno: 5,
    msgType: 14,
    apOptions: ApOption.MUTUAL_REQUIRED,
    ticket: m.ticket.ticket,
    authenticator: { etype: key.enctype, cipher: encrypt(key, KeyUsage.AP_REQ_AUTHENTICATOR, auth) },
  });
  return encodeKrb5Token(TokenId.AP_REQ, req);
}

const accept = (m: Minted, token: Uint8Array, channelBindings?: Uint8Array) =>
  acceptApReq(token, {
    keytab: m.keytab,
    replayCache: new ReplayCache(),
    ...(channelBindings ? { channelBindings } : {}),
  });

describe('GSS krb5: channel bindings', () => {
  it('refuses zero bindings from a client asserting KERB_AP_OPTIONS_CBT when the acceptor has bindings (as MIT)', async () => {
    const m = await mint();
    // Without the CBT option, zero bindings are still accepted (MIT's default).
    assert.equal((await accept(m, apReq(m, {}), CB)).channelBound, false);
    for (const wrap of [true, false]) {
      const cbt = apReq(m, { authorizationData: apOptionsAd(0x4000, wrap) });
      await assert.rejects(() => accept(m, cbt, CB), gssErr('BAD_BINDINGS'));
      // The option only matters to an acceptor that has bindings ...
      assert.equal((await accept(m, cbt)).channelBound, false);
      // ... and matching bindings satisfy it.
      const bound = await accept(
        m,
        apReq(m, { bindings: CB, authorizationData: apOptionsAd(0x4000, wrap) }),
        CB,
      );
      assert.equal(bound.channelBound, true);
    }
    // Other AP options bits do not promise bindings.
    await accept(m, apReq(m, { authorizationData: apOptionsAd(0x2000) }), CB);
  });

  it('reports CHANNEL_BOUND only for verified bindings, never taken from the client flags', async () => {
    const m = await mint();
    const bound = await accept(m, apReq(m, { bindings: CB }), CB);
    assert.equal(bound.channelBound, true);
    assert.equal(bound.flags & GssFlag.CHANNEL_BOUND, GssFlag.CHANNEL_BOUND);
    // A client that sets the bit itself (and unknown bits) does not get it reported.
    const forged = await accept(m, apReq(m, { flags: BASE_FLAGS | GssFlag.CHANNEL_BOUND | 0x00100000 }), CB);
    assert.equal(forged.channelBound, false);
    assert.equal(forged.flags & GssFlag.CHANNEL_BOUND, 0);
    assert.equal(forged.flags & 0x00100000, 0);
    assert.equal(forged.flags & BASE_FLAGS, BASE_FLAGS);
    // Bindings sent to an acceptor without any are not "bound".
    const unchecked = await accept(m, apReq(m, { bindings: CB }));
    assert.equal(unchecked.channelBound, false);
    assert.equal(unchecked.flags & GssFlag.CHANNEL_BOUND, 0);
  });
});

describe('GSS krb5: 0x8003 delegation field', () => {
  it('refuses GSS_C_DELEG_FLAG with a 1-3 byte delegation field (RFC 4121 §4.1.1: 28 + Dlgth octets)', async () => {
    // Our encoder drops the flag without a KRB-CRED, so set it by hand (Flags is little-endian).
    const base = encodeGssChecksum({ bindingHash: new Uint8Array(16), flags: BASE_FLAGS });
    base[20] = (base[20] ?? 0) | GssFlag.DELEG;
    assert.equal(base.length, 24);
    // Exactly 24 bytes: the flag without DlgOpt, read as no delegation (as MIT).
    assert.equal(decodeGssChecksum(base).flags & GssFlag.DELEG, 0);
    for (const extra of [1, 2, 3]) {
      const b = new Uint8Array(24 + extra);
      b.set(base);
      b[24] = 1;
      assert.throws(() => decodeGssChecksum(b), inappCksum);
    }
    const m = await mint();
    const short = new Uint8Array(26);
    short.set(base);
    short[24] = 1;
    await assert.rejects(() => accept(m, apReq(m, { checksum: short })), inappCksum);
    // Without the flag, octets past Flags are extensions and ignored (RFC 4121 §4.1.1).
    const ext = new Uint8Array(26);
    ext.set(encodeGssChecksum({ bindingHash: new Uint8Array(16), flags: GssFlag.MUTUAL }));
    assert.equal(decodeGssChecksum(ext).delegation, undefined);
  });

  it('a replay cache bound that is not a finite number is refused, not silently unbounded', () => {
    for (const maxEntries of [Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new ReplayCache({ maxEntries }), { code: 'BAD_OPTION' });
    }
    const one = new ReplayCache({ maxEntries: 0.5 });
    const now = Date.now();
    assert.equal(one.checkAndStore(Uint8Array.of(1), now + 60_000, now), true);
    assert.throws(() => one.checkAndStore(Uint8Array.of(2), now + 60_000, now), {
      code: 'REPLAY_CACHE_FULL',
    });
    assert.equal(one.size, 1);
  });
});
