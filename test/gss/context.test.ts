// The Kerberos mechanism end to end in-process: our initiator's AP-REQ accepted by our acceptor
// with a ticket minted here, the AP-REP verified, and each way it must fail.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeApRep,
  decodeApReq,
  decodeEncApRepPart,
  encodeApRep,
  encodeApReq,
  encodeAuthenticator,
  encodeEncApRepPart,
  encodeKrbError,
  encodeTicket,
  NameType,
} from '../../src/asn1/index.js';
import { newCcache } from '../../src/ccache/ccache.js';
import { TicketFlag } from '../../src/ccache/flags.js';
import { decrypt, encrypt, generateRandomKey, makeKey } from '../../src/crypto/index.js';
import { KerberosError, MutualAuthenticationError } from '../../src/errors.js';
import { encodeGssChecksum } from '../../src/krb5/gss/checksum.js';
import {
  acceptApReq,
  buildKrbCred,
  decodeKrb5Token,
  encodeKrb5Token,
  GssError,
  GssFlag,
  Krb5Initiator,
  openKrbCred,
  ReplayCache,
  TokenId,
} from '../../src/krb5/gss/index.js';
import type { KdcReply } from '../../src/krb5/kdc-reply.js';
import { client, type Minted, mint, mintTicket, service } from './helpers.js';

const krbErr = (name: string) => (e: unknown) => e instanceof KerberosError && e.errorName === name;
const gssErr = (code: string) => (e: unknown) => e instanceof GssError && e.code === code;

describe('krb5 mechanism: initiator ↔ acceptor in-process', () => {
  for (const enctype of [17, 18, 19, 20, 23, 25, 26]) {
    it(`mutual authentication with enctype ${enctype}: AP-REP verified, subkey and seq adopted`, async () => {
      const m = await mint({ enctype });
      const ini = new Krb5Initiator({ ticket: m.ticket, mutual: true });
      assert.equal(ini.complete, false);
      const acc = await acceptApReq(ini.token, { keytab: m.keytab, replayCache: new ReplayCache() });
      assert.deepEqual(acc.client, client);
      assert.equal(acc.flags & GssFlag.MUTUAL, GssFlag.MUTUAL);
      assert.deepEqual(acc.key, { kvno: 3, enctype });
      assert.ok(acc.token);
      assert.equal(decodeKrb5Token(acc.token).tokId, TokenId.AP_REP);
      ini.acceptReply(acc.token);
      assert.equal(ini.complete, true);
      // Both sides now protect with the acceptor subkey (the initiator's for rc4-hmac): a MIC
      // and a sealed Wrap token cross in each direction.
      const msg = new TextEncoder().encode('hi');
      acc.messages.verifyMIC(msg, ini.messages.getMIC(msg));
      ini.messages.verifyMIC(msg, acc.messages.getMIC(msg));
      assert.deepEqual(ini.messages.unwrap(acc.messages.wrap(msg, true)).message, msg);
      assert.deepEqual(acc.messages.unwrap(ini.messages.wrap(msg, true)).message, msg);
      assert.equal(acc.messages.tokenFormat, enctype === 23 ? 'rfc4757' : 'rfc4121');
    });
  }

  it('an rc4-hmac context gets no acceptor subkey in the AP-REP, as MIT sends it (RFC 4757 tokens cannot name one)', async () => {
    for (const enctype of [23, 18]) {
      const m = await mint({ enctype });
      const ini = new Krb5Initiator({ ticket: m.ticket, mutual: true });
      const acc = await acceptApReq(ini.token, { keytab: m.keytab, replayCache: new ReplayCache() });
      const rep = decodeKrb5Token(acc.token!);
      const part = decodeEncApRepPart(decrypt(m.ticket.sessionKey, 12, decodeApRep(rep.body).encPart.cipher));
      assert.equal(part.subkey === undefined, enctype === 23);
      assert.equal(typeof part.seqNumber, 'number');
    }
  });

  it('without mutual: no AP-REP, the context is complete at once and messages still flow', async () => {
    const m = await mint();
    const ini = new Krb5Initiator({ ticket: m.ticket, mutual: false });
    assert.equal(ini.complete, true);
    const acc = await acceptApReq(ini.token, { keytab: m.keytab, replayCache: new ReplayCache() });
    assert.equal(acc.token, undefined);
    const w = acc.messages.wrap(new TextEncoder().encode('secret'), true);
    assert.equal(new TextDecoder().decode(ini.messages.unwrap(w).message), 'secret');
  });

  it('refuses a modified AP-REP', async () => {
    const m = await mint();
    const ini = new Krb5Initiator({ ticket: m.ticket, mutual: true });
    const acc = await acceptApReq(ini.token, { keytab: m.keytab, replayCache: new ReplayCache() });
    const bad = acc.token!.slice();
    bad[bad.length - 5] = (bad[bad.length - 5] ?? 0) ^ 1;
    assert.throws(
      () => ini.acceptReply(bad),
      (e: unknown) => e instanceof MutualAuthenticationError && e.code === 'AP_REP_INVALID',
    );
    assert.equal(ini.complete, false);
  });

  it('refuses an AP-REP that does not echo our ctime/cusec', async () => {
    const m = await mint();
    const ini = new Krb5Initiator({ ticket: m.ticket, mutual: true });
    const acc = await acceptApReq(ini.token, { keytab: m.keytab, replayCache: new ReplayCache() });
    const sk = m.ticket.sessionKey;
    const real = decodeEncApRepPart(decrypt(sk, 12, decodeApRepCipher(acc.token!)));
    const forged = encodeEncApRepPart({ ...real, ctime: new Date(real.ctime.getTime() - 1000) });
    const token = encodeKrb5Token(
      TokenId.AP_REP,
      encodeApRep({ pvno: 5, msgType: 15, encPart: { etype: sk.enctype, cipher: encrypt(sk, 12, forged) } }),
    );
    assert.throws(
      () => ini.acceptReply(token),
      (e: unknown) => e instanceof MutualAuthenticationError && e.code === 'AP_REP_MISMATCH',
    );
  });

  it('an AP-REP made for one context is refused by another made with the same ticket in the same millisecond', async () => {
    // Both contexts reuse one service ticket (so one session key), as concurrent requests do;
    // only the authenticator time ties an AP-REP to its AP-REQ. Math.random pinned: the time
    // must be unique by construction (as MIT's krb5_us_timeofday), not by chance.
    const m = await mint();
    const t0 = Date.now();
    const now = () => t0;
    const random = Math.random;
    Math.random = () => 0.5;
    let a: Krb5Initiator;
    let b: Krb5Initiator;
    try {
      a = new Krb5Initiator({ ticket: m.ticket, mutual: true, now });
      b = new Krb5Initiator({ ticket: m.ticket, mutual: true, now });
    } finally {
      Math.random = random;
    }
    const acc = await acceptApReq(a.token, {
      keytab: m.keytab,
      replayCache: new ReplayCache(),
      now: () => now(),
    });
    assert.throws(
      () => b.acceptReply(acc.token as Uint8Array),
      (e: unknown) => e instanceof MutualAuthenticationError && e.code === 'AP_REP_MISMATCH',
    );
    a.acceptReply(acc.token as Uint8Array);
    assert.equal(a.complete, true);
  });

  it('turns a KRB-ERROR token (03 00) into a KerberosError', async () => {
    const m = await mint();
    const ini = new Krb5Initiator({ ticket: m.ticket, mutual: true });
    const err = encodeKrbError({
      pvno: 5,
      msgType: 30,
      stime: new Date(0),
      susec: 0,
      errorCode: 37,
      realm: service.realm,
      sname: service.name,
    });
    assert.throws(() => ini.acceptReply(encodeKrb5Token(TokenId.KRB_ERROR, err)), krbErr('KRB_AP_ERR_SKEW'));
  });

  it('refuses a replayed AP-REQ (KRB_AP_ERR_REPEAT)', async () => {
    const m = await mint();
    const cache = new ReplayCache();
    const ini = new Krb5Initiator({ ticket: m.ticket, mutual: true });
    await acceptApReq(ini.token, { keytab: m.keytab, replayCache: cache });
    await assert.rejects(
      () => acceptApReq(ini.token, { keytab: m.keytab, replayCache: cache }),
      krbErr('KRB_AP_ERR_REPEAT'),
    );
  });

  it('a full replay cache refuses new authenticators and never forgets a live one', () => {
    const cache = new ReplayCache({ maxEntries: 3 });
    for (let i = 0; i < 3; i++) assert.equal(cache.checkAndStore(Uint8Array.of(i), 10_000, 0), true);
    assert.throws(() => cache.checkAndStore(Uint8Array.of(9), 10_000, 0), { code: 'REPLAY_CACHE_FULL' });
    assert.equal(cache.size, 3);
    // Flooding it did not push the first entry out: its replay is still refused.
    assert.equal(cache.checkAndStore(Uint8Array.of(0), 10_000, 5_000), false);
    // Expired entries are forgotten, which makes room again.
    assert.equal(cache.checkAndStore(Uint8Array.of(9), 200_000, 100_000), true);
    assert.equal(cache.size, 1);
  });

  it('names a ticket for another key version KRB_AP_ERR_BADKEYVER', async () => {
    const m = await mint({ kvno: 3 });
    const ini = new Krb5Initiator({ ticket: m.ticket, mutual: true });
    const rotated = {
      version: 2,
      entries: [
        { ...m.keytab.entries[0]!, kvno: 4, key: { keytype: 18, keyvalue: generateRandomKey(18).bytes } },
      ],
    };
    await assert.rejects(
      () => acceptApReq(ini.token, { keytab: rotated, replayCache: new ReplayCache() }),
      krbErr('KRB_AP_ERR_BADKEYVER'),
    );
  });

  it('falls back over the principal keys when the kvno does not match but a key does (as MIT)', async () => {
    const m = await mint({ kvno: 3 });
    const ini = new Krb5Initiator({ ticket: m.ticket, mutual: false });
    const renumbered = { version: 2, entries: [{ ...m.keytab.entries[0]!, kvno: 7 }] };
    const acc = await acceptApReq(ini.token, { keytab: renumbered, replayCache: new ReplayCache() });
    assert.equal(acc.key.kvno, 7);
  });

  it('says which key is missing for an enctype the keytab lacks (KRB_AP_ERR_NOKEY)', async () => {
    const m = await mint({ enctype: 17 });
    const ini = new Krb5Initiator({ ticket: m.ticket, mutual: false });
    const other = {
      version: 2,
      entries: [{ ...m.keytab.entries[0]!, key: { keytype: 18, keyvalue: new Uint8Array(32) } }],
    };
    await assert.rejects(
      () => acceptApReq(ini.token, { keytab: other, replayCache: new ReplayCache() }),
      krbErr('KRB_AP_ERR_NOKEY'),
    );
  });

  it('refuses an authenticator outside the clock skew, and an expired ticket', async () => {
    const m = await mint();
    const ini = new Krb5Initiator({ ticket: m.ticket, mutual: true, now: () => Date.now() - 600_000 });
    await assert.rejects(
      () => acceptApReq(ini.token, { keytab: m.keytab, replayCache: new ReplayCache() }),
      krbErr('KRB_AP_ERR_SKEW'),
    );
    const old = await mint({ start: Date.now() - 7_200_000 });
    const ini2 = new Krb5Initiator({ ticket: old.ticket, mutual: true });
    await assert.rejects(
      () => acceptApReq(ini2.token, { keytab: old.keytab, replayCache: new ReplayCache() }),
      krbErr('KRB_AP_ERR_TKT_EXPIRED'),
    );
  });

  it('refuses an authenticator naming another client than the ticket (KRB_AP_ERR_BADMATCH)', async () => {
    const m = await mint();
    const mallory = { realm: client.realm, name: { nameType: NameType.PRINCIPAL, nameString: ['mallory'] } };
    const ticket = mintTicket(m.serviceKey, 3, m.ticket.sessionKey, { ticketClient: mallory });
    const ini = new Krb5Initiator({
      ticket: { ...m.ticket, ticket, ticketBytes: encodeTicket(ticket) },
      mutual: true,
    });
    await assert.rejects(
      () => acceptApReq(ini.token, { keytab: m.keytab, replayCache: new ReplayCache() }),
      krbErr('KRB_AP_ERR_BADMATCH'),
    );
  });

  it('refuses a ticket for another service when the acceptor is bound to a principal', async () => {
    const m = await mint();
    const ini = new Krb5Initiator({ ticket: m.ticket, mutual: true });
    const other = {
      realm: service.realm,
      name: { nameType: NameType.SRV_HST, nameString: ['HTTP', 'other'] },
    };
    await assert.rejects(
      () => acceptApReq(ini.token, { keytab: m.keytab, principal: other, replayCache: new ReplayCache() }),
      krbErr('KRB_AP_ERR_NOT_US'),
    );
  });

  it('checks channel bindings when both sides give them', async () => {
    const m = await mint();
    const cb = new TextEncoder().encode('tls-server-end-point:abc');
    const good = new Krb5Initiator({ ticket: m.ticket, mutual: true, channelBindings: cb });
    await acceptApReq(good.token, { keytab: m.keytab, channelBindings: cb, replayCache: new ReplayCache() });
    const wrong = new Krb5Initiator({
      ticket: m.ticket,
      mutual: true,
      channelBindings: new TextEncoder().encode('tls-server-end-point:xyz'),
    });
    await assert.rejects(
      () =>
        acceptApReq(wrong.token, { keytab: m.keytab, channelBindings: cb, replayCache: new ReplayCache() }),
      gssErr('BAD_BINDINGS'),
    );
    // No bindings from the client: accepted, as MIT does by default.
    const none = new Krb5Initiator({ ticket: m.ticket, mutual: true });
    await acceptApReq(none.token, { keytab: m.keytab, channelBindings: cb, replayCache: new ReplayCache() });
  });

  it('carries a forwarded TGT in a KRB-CRED sealed with the session key (usage 14)', async () => {
    const m = await mint();
    const tgtKey = generateRandomKey(18);
    const krbtgt = {
      realm: client.realm,
      name: { nameType: NameType.SRV_INST, nameString: ['krbtgt', client.realm] },
    };
    const tgtTicket = mintTicket(generateRandomKey(18), 1, tgtKey, {
      flags: TicketFlag.FORWARDED | TicketFlag.FORWARDABLE,
    });
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const forwarded: KdcReply = {
      client,
      server: krbtgt,
      ticket: { ...tgtTicket, sname: krbtgt.name },
      ticketBytes: new Uint8Array(0),
      sessionKey: { keytype: 18, keyvalue: tgtKey.bytes },
      flags: TicketFlag.FORWARDED | TicketFlag.FORWARDABLE,
      authTime: now,
      startTime: now,
      endTime: new Date(now.getTime() + 3_600_000),
      renewTill: undefined,
      encPart: {} as KdcReply['encPart'],
    };
    const ini = new Krb5Initiator({ ticket: m.ticket, mutual: true, forwarded });
    const acc = await acceptApReq(ini.token, { keytab: m.keytab, replayCache: new ReplayCache() });
    assert.equal(acc.flags & GssFlag.DELEG, GssFlag.DELEG);
    assert.ok(acc.delegated);
    assert.deepEqual(acc.delegated.defaultPrincipal, client);
    const cred = acc.delegated.credentials[0]!;
    assert.deepEqual(cred.server.name.nameString, ['krbtgt', client.realm]);
    assert.deepEqual(cred.key.keyvalue, tgtKey.bytes);
    assert.equal(cred.flags & TicketFlag.FORWARDED, TicketFlag.FORWARDED);
    // Direct: sealed with the wrong key it does not open.
    const kc = buildKrbCred(forwarded, m.ticket.sessionKey, Date.now());
    assert.throws(() => openKrbCred(kc, [makeKey(18, new Uint8Array(32))]), krbErr('KRB_AP_ERR_MODIFIED'));
    assert.equal(openKrbCred(kc, [m.ticket.sessionKey]).credentials.length, 1);
    assert.equal(newCcache(client).credentials.length, 0);
  });

  it('refuses garbage and foreign tokens with typed errors', async () => {
    const m = await mint();
    for (const t of [
      Uint8Array.of(1, 2, 3),
      Uint8Array.of(0x60, 0x03, 0x06, 0x01, 0x00),
      new Uint8Array(0),
    ]) {
      await assert.rejects(() => acceptApReq(t, { keytab: m.keytab }), gssErr('DEFECTIVE_TOKEN'));
    }
    const ini = new Krb5Initiator({ ticket: m.ticket, mutual: true });
    const apReq = decodeKrb5Token(ini.token);
    assert.equal(decodeApReq(apReq.body).apOptions, 0x20000000);
  });
});

function decodeApRepCipher(token: Uint8Array): Uint8Array {
  const t = decodeKrb5Token(token);
  // AP-REP ::= [APPLICATION 15] SEQUENCE { pvno, msg-type, enc-part }
  return decodeApRepEnc(t.body);
}

function decodeApRepEnc(b: Uint8Array): Uint8Array {
  return decodeApRep(b).encPart.cipher;
}

// Acceptor: the replay cache must cover the whole clock-skew window, and delegated
// credentials must be the authenticated client's own.

/** An AP-REQ for `m` whose checksum carries `delegation` (a KRB-CRED), built by hand. */
function apReqWithDelegation(m: Minted, delegation: Uint8Array): Uint8Array {
  const sk = m.ticket.sessionKey;
  const now = Date.now();
  const auth = encodeAuthenticator({
    authenticatorVno: 5,
    crealm: client.realm,
    cname: client.name,
    cksum: {
      cksumtype: 0x8003,
      checksum: encodeGssChecksum({
        bindingHash: new Uint8Array(16),
        flags: GssFlag.MUTUAL | GssFlag.DELEG,
        delegation,
      }),
    },
    cusec: (now % 1000) * 1000,
    ctime: new Date(Math.floor(now / 1000) * 1000),
    seqNumber: 1,
  });
  const ap = encodeApReq({
    pvno: 5,
    msgType: 14,
    apOptions: 0x20000000,
    ticket: m.ticket.ticket,
    authenticator: { etype: sk.enctype, cipher: encrypt(sk, 11, auth) },
  });
  return encodeKrb5Token(TokenId.AP_REQ, ap);
}

describe('acceptor: replay window and delegated credentials', () => {
  it('refuses a replay at the last instant of the skew window (ctime + clockskew)', async () => {
    const m = await mint();
    const t0 = Math.floor(Date.now() / 1000) * 1000;
    const ini = new Krb5Initiator({ ticket: m.ticket, mutual: true, now: () => t0 });
    const cache = new ReplayCache();
    await acceptApReq(ini.token, { keytab: m.keytab, replayCache: cache, now: () => t0 });
    // t0 is a whole second, so ctime is t0 (cusec < 1000). At ctime + 300 s exactly the
    // authenticator still passes the skew check, so it must still be remembered.
    const edge = t0 + 300_000;
    await assert.rejects(
      () => acceptApReq(ini.token, { keytab: m.keytab, replayCache: cache, now: () => edge }),
      krbErr('KRB_AP_ERR_REPEAT'),
    );
  });

  it('refuses delegated credentials of another principal than the ticket client', async () => {
    const m = await mint();
    const bob = { realm: client.realm, name: { nameType: NameType.PRINCIPAL, nameString: ['bob'] } };
    const krbtgt = {
      realm: client.realm,
      name: { nameType: NameType.SRV_INST, nameString: ['krbtgt', client.realm] },
    };
    const tgtKey = generateRandomKey(18);
    const tgt = mintTicket(generateRandomKey(18), 1, tgtKey, { ticketClient: bob });
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const forwarded: KdcReply = {
      client: bob,
      server: krbtgt,
      ticket: { ...tgt, sname: krbtgt.name },
      ticketBytes: new Uint8Array(0),
      sessionKey: { keytype: 18, keyvalue: tgtKey.bytes },
      flags: TicketFlag.FORWARDED | TicketFlag.FORWARDABLE,
      authTime: now,
      startTime: now,
      endTime: new Date(now.getTime() + 3_600_000),
      renewTill: undefined,
      encPart: {} as KdcReply['encPart'],
    };
    const token = apReqWithDelegation(m, buildKrbCred(forwarded, m.ticket.sessionKey, Date.now()));
    await assert.rejects(
      () => acceptApReq(token, { keytab: m.keytab, replayCache: new ReplayCache() }),
      krbErr('KRB_AP_ERR_BADMATCH'),
    );
    // The client's own forwarded TGT still goes through.
    const own = apReqWithDelegation(
      m,
      buildKrbCred({ ...forwarded, client }, m.ticket.sessionKey, Date.now()),
    );
    const acc = await acceptApReq(own, { keytab: m.keytab, replayCache: new ReplayCache() });
    assert.deepEqual(acc.delegated?.defaultPrincipal, client);
  });
});
