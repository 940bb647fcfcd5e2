// SPNEGO (RFC 4178) initiator ↔ acceptor in-process with minted tickets: the optimistic krb5
// token, raw krb5, MS OID, the mechListMIC dance when Kerberos is not first, and failures.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeNegotiationToken,
  encodeMechTypeList,
  encodeNegTokenInit,
  encodeNegTokenResp,
  OID_KRB5,
  OID_MS_KRB5,
  OID_NTLMSSP,
} from '../../src/asn1/index.js';
import { MutualAuthenticationError, SPNEGOExchangeError } from '../../src/errors.js';
import { Krb5Initiator, MessageProtection, ReplayCache } from '../../src/krb5/gss/index.js';
import { createAcceptorContext, createInitiatorContext } from '../../src/spnego/index.js';
import { client, config, mint } from '../gss/helpers.js';

const target = 'HTTP/localhost@GSS.TEST';
const isSpnego = (code: string) => (e: unknown) => e instanceof SPNEGOExchangeError && e.code === code;

describe('SPNEGO contexts in-process', () => {
  it('mutual: NegTokenInit [krb5] + AP-REQ → accept-completed + AP-REP → both complete', async () => {
    const m = await mint();
    const ini = await createInitiatorContext({ credentials: m.credentials, target });
    const acc = createAcceptorContext({ keytab: m.keytab, replayCache: new ReplayCache(), config });
    const t1 = await ini.step();
    const init = decodeNegotiationToken(t1.token!);
    assert.equal(init.kind, 'init');
    assert.deepEqual(init.kind === 'init' && init.mechTypes, [OID_KRB5]);
    const t2 = await acc.step(t1.token);
    assert.equal(t2.complete, true);
    const resp = decodeNegotiationToken(t2.token!);
    assert.equal(resp.kind === 'resp' && resp.negState, 'accept-completed');
    assert.equal(resp.kind === 'resp' && resp.mechListMIC, undefined);
    const t3 = await ini.step(t2.token);
    assert.deepEqual(t3, { complete: true });
    assert.deepEqual(acc.result().client, client);
    const w = ini.wrap(new TextEncoder().encode('ping'));
    assert.equal(new TextDecoder().decode(acc.unwrap(w).message), 'ping');
    assert.throws(() => createAcceptorContext({ keytab: m.keytab }).result(), { code: 'NO_CONTEXT' });
  });

  it('raw krb5 both ways (mech: krb5), and a raw krb5 reply to a SPNEGO initiator', async () => {
    const m = await mint();
    const ini = await createInitiatorContext({ credentials: m.credentials, target, mech: 'krb5' });
    const acc = createAcceptorContext({ keytab: m.keytab, replayCache: new ReplayCache() });
    const t1 = await ini.step();
    assert.equal(t1.token![0], 0x60);
    const t2 = await acc.step(t1.token);
    assert.equal((await ini.step(t2.token)).complete, true);
    // SPNEGO initiator, server answers with the bare krb5 AP-REP.
    const ini2 = await createInitiatorContext({ credentials: m.credentials, target });
    const spnegoInit = decodeNegotiationToken((await ini2.step()).token!);
    assert.ok(spnegoInit.kind === 'init' && spnegoInit.mechToken);
    const raw = await createAcceptorContext({ keytab: m.keytab, replayCache: new ReplayCache() }).step(
      spnegoInit.mechToken,
    );
    assert.equal((await ini2.step(raw.token)).complete, true);
  });

  it('without mutual the initiator is complete after its first token', async () => {
    const m = await mint();
    const ini = await createInitiatorContext({ credentials: m.credentials, target, mutual: false });
    const t1 = await ini.step();
    assert.equal(t1.complete, true);
    const t2 = await createAcceptorContext({ keytab: m.keytab, replayCache: new ReplayCache() }).step(
      t1.token,
    );
    const resp = decodeNegotiationToken(t2.token!);
    assert.equal(resp.kind === 'resp' && resp.responseToken, undefined);
    assert.equal((await ini.step(t2.token)).complete, true);
  });

  it('accepts supportedMech = the Microsoft krb5 OID', async () => {
    const m = await mint();
    const ini = await createInitiatorContext({ credentials: m.credentials, target });
    const t1 = await ini.step();
    const acc = await createAcceptorContext({ keytab: m.keytab, replayCache: new ReplayCache() }).step(
      t1.token,
    );
    const resp = decodeNegotiationToken(acc.token!);
    assert.ok(resp.kind === 'resp');
    const ms = encodeNegTokenResp({ ...resp, supportedMech: OID_MS_KRB5 });
    assert.equal((await ini.step(ms)).complete, true);
    assert.equal(ini.mech, OID_MS_KRB5);
  });

  it('Kerberos second in the list: request-mic, then AP-REQ, then the mechListMIC exchange', async () => {
    const m = await mint();
    const mechTypes = [OID_NTLMSSP, OID_KRB5];
    const acc = createAcceptorContext({ keytab: m.keytab, replayCache: new ReplayCache() });
    const r1 = decodeNegotiationToken(
      (await acc.step(encodeNegTokenInit({ mechTypes, mechToken: Uint8Array.of(1, 2) }))).token!,
    );
    assert.ok(r1.kind === 'resp');
    // RFC 4178 §4.2.2: a counter-proposal says request-mic; MIT's init_ctx_reselect refuses
    // accept-incomplete there (krb5 src/lib/gssapi/spnego/spnego_mech.c).
    assert.equal(r1.negState, 'request-mic');
    assert.equal(r1.supportedMech, OID_KRB5);
    const krb = new Krb5Initiator({ ticket: m.ticket, mutual: true });
    const r2out = await acc.step(encodeNegTokenResp({ responseToken: krb.token }));
    assert.equal(r2out.complete, false);
    const r2 = decodeNegotiationToken(r2out.token!);
    assert.ok(r2.kind === 'resp' && r2.responseToken && r2.mechListMIC);
    assert.equal(r2.negState, 'accept-incomplete');
    krb.acceptReply(r2.responseToken);
    const der = encodeMechTypeList(mechTypes);
    krb.messages.verifyMIC(der, r2.mechListMIC);
    // A wrong MIC from the initiator is refused...
    const accBad = createAcceptorContext({ keytab: m.keytab, replayCache: new ReplayCache() });
    await accBad.step(encodeNegTokenInit({ mechTypes }));
    const krb2 = new Krb5Initiator({ ticket: m.ticket, mutual: true });
    const rb = decodeNegotiationToken(
      (await accBad.step(encodeNegTokenResp({ responseToken: krb2.token }))).token!,
    );
    assert.ok(rb.kind === 'resp' && rb.responseToken);
    krb2.acceptReply(rb.responseToken);
    const wrongList = krb2.messages.getMIC(encodeMechTypeList([OID_KRB5]));
    await assert.rejects(
      accBad.step(encodeNegTokenResp({ mechListMIC: wrongList })),
      isSpnego('BAD_MECHLIST_MIC'),
    );
    // ...and the right one completes the context.
    const done = await acc.step(encodeNegTokenResp({ mechListMIC: krb.messages.getMIC(der) }));
    assert.equal(done.complete, true);
    assert.equal(acc.mech, OID_KRB5);
  });

  it('initiator: verifies the acceptor mechListMIC, answers request-mic, refuses a bad MIC', async () => {
    const m = await mint();
    const der = encodeMechTypeList([OID_KRB5]);
    for (const variant of ['good', 'bad', 'request-mic'] as const) {
      const { ini, resp, accepted } = await firstReply(m);
      const mic = accepted.getMIC(variant === 'bad' ? encodeMechTypeList([OID_NTLMSSP]) : der);
      const reply = encodeNegTokenResp({
        ...resp,
        negState: variant === 'request-mic' ? 'request-mic' : 'accept-completed',
        mechListMIC: mic,
      });
      if (variant === 'bad') {
        await assert.rejects(ini.step(reply), isSpnego('BAD_MECHLIST_MIC'));
        continue;
      }
      const out = await ini.step(reply);
      assert.ok(out.token, 'the initiator answers with its own mechListMIC');
      const ours = decodeNegotiationToken(out.token);
      assert.ok(ours.kind === 'resp' && ours.mechListMIC);
      accepted.verifyMIC(der, ours.mechListMIC);
      // The acceptor's MIC verified and ours sent: complete either way (RFC 4178 §5 b-I).
      assert.equal(out.complete, true);
      if (variant === 'request-mic')
        assert.equal((await ini.step(encodeNegTokenResp({ negState: 'accept-completed' }))).complete, true);
    }
  });

  it('initiator: a bare request-mic with the AP-REP waits for the acceptor MIC before completing', async () => {
    const m = await mint();
    const der = encodeMechTypeList([OID_KRB5]);
    const { ini, resp, accepted } = await firstReply(m);
    const out = await ini.step(
      encodeNegTokenResp({ negState: 'request-mic', responseToken: resp.responseToken }),
    );
    assert.equal(out.complete, false);
    const ours = decodeNegotiationToken(out.token!);
    assert.ok(ours.kind === 'resp' && ours.mechListMIC);
    accepted.verifyMIC(der, ours.mechListMIC);
    const last = await ini.step(
      encodeNegTokenResp({ negState: 'accept-completed', mechListMIC: accepted.getMIC(der) }),
    );
    assert.deepEqual(last, { complete: true });
  });

  it('fails with typed errors: reject, a foreign mechanism, no AP-REP, garbage', async () => {
    const m = await mint();
    const start = async () => {
      const ini = await createInitiatorContext({ credentials: m.credentials, target });
      await ini.step();
      return ini;
    };
    await assert.rejects(
      (await start()).step(encodeNegTokenResp({ negState: 'reject' })),
      isSpnego('REJECTED'),
    );
    await assert.rejects(
      (await start()).step(encodeNegTokenResp({ negState: 'accept-incomplete', supportedMech: OID_NTLMSSP })),
      isSpnego('NO_COMMON_MECH'),
    );
    await assert.rejects(
      (await start()).step(encodeNegTokenResp({ negState: 'accept-completed', supportedMech: OID_KRB5 })),
      { code: 'DEFECTIVE_TOKEN' },
    );
    await assert.rejects(
      (await start()).step(Uint8Array.of(0xa1, 0x03, 0x30, 0x01)),
      isSpnego('DEFECTIVE_TOKEN'),
    );
    await assert.rejects(
      createAcceptorContext({ keytab: m.keytab }).step(
        encodeNegTokenInit({ mechTypes: [OID_NTLMSSP], mechToken: Uint8Array.of(1) }),
      ),
      isSpnego('NO_COMMON_MECH'),
    );
    await assert.rejects(
      createAcceptorContext({ keytab: m.keytab }).step(Uint8Array.of(1, 2, 3)),
      isSpnego('DEFECTIVE_TOKEN'),
    );
    // A modified AP-REP inside a good NegTokenResp.
    const ini = await createInitiatorContext({ credentials: m.credentials, target });
    const acc = await createAcceptorContext({ keytab: m.keytab, replayCache: new ReplayCache() }).step(
      (await ini.step()).token,
    );
    const resp = decodeNegotiationToken(acc.token!);
    assert.ok(resp.kind === 'resp' && resp.responseToken);
    const tampered = resp.responseToken.slice();
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    await assert.rejects(
      ini.step(encodeNegTokenResp({ ...resp, responseToken: tampered })),
      MutualAuthenticationError,
    );
  });
});

/** The acceptor-side MessageProtection for an exchange, rebuilt from the AP-REQ and AP-REP. */
/**
 * An initiator that sent its NegTokenInit, the acceptor's reply (with the AP-REP), and the
 * acceptor's message protection rebuilt, to sign the mechanism list as the acceptor would.
 */
async function firstReply(m: Awaited<ReturnType<typeof mint>>) {
  const ini = await createInitiatorContext({ credentials: m.credentials, target });
  const t1 = await ini.step();
  const inner = decodeNegotiationToken(t1.token!);
  assert.ok(inner.kind === 'init' && inner.mechToken);
  const acc = await createAcceptorContext({ keytab: m.keytab, replayCache: new ReplayCache() }).step(
    t1.token,
  );
  const resp = decodeNegotiationToken(acc.token!);
  assert.ok(resp.kind === 'resp' && resp.responseToken);
  const accepted = await acceptorMessages(m, inner.mechToken, resp.responseToken);
  return { ini, resp: { ...resp, responseToken: resp.responseToken }, accepted };
}

async function acceptorMessages(
  m: Awaited<ReturnType<typeof mint>>,
  apReqToken: Uint8Array,
  apRepToken: Uint8Array,
): Promise<MessageProtection> {
  const { decodeKrb5Token } = await import('../../src/krb5/gss/index.js');
  const { decodeApReq, decodeAuthenticator, decodeApRep, decodeEncApRepPart } = await import(
    '../../src/asn1/index.js'
  );
  const { decrypt, makeKey } = await import('../../src/crypto/index.js');
  const sk = m.ticket.sessionKey;
  const auth = decodeAuthenticator(
    decrypt(sk, 11, decodeApReq(decodeKrb5Token(apReqToken).body).authenticator.cipher),
  );
  const rep = decodeEncApRepPart(
    decrypt(sk, 12, decodeApRep(decodeKrb5Token(apRepToken).body).encPart.cipher),
  );
  return new MessageProtection({
    isAcceptor: true,
    initiatorKey: makeKey(auth.subkey!.keytype, auth.subkey!.keyvalue),
    acceptorKey: makeKey(rep.subkey!.keytype, rep.subkey!.keyvalue),
    sendSeq: rep.seqNumber!,
    recvSeq: auth.seqNumber!,
    replayDetection: true,
    sequenceDetection: true,
  });
}

// NegTokenResp fields an initiator must never send (RFC 4178 §4.2.2), refused
// as MIT's acceptor (spnego_mech.c acc_ctx_cont) refuses them.

/** An acceptor asked by [NTLM, krb5] for Kerberos: it waits for the AP-REQ in a NegTokenResp. */
async function counterProposed() {
  const m = await mint();
  const mechTypes = [OID_NTLMSSP, OID_KRB5];
  const acc = createAcceptorContext({ keytab: m.keytab, replayCache: new ReplayCache() });
  const first = await acc.step(encodeNegTokenInit({ mechTypes, mechToken: Uint8Array.of(1, 2) }));
  assert.equal(first.complete, false);
  return { m, acc, der: encodeMechTypeList(mechTypes) };
}

describe('SPNEGO acceptor: what an initiator must never send', () => {
  it('the acceptor refuses a supportedMech from the initiator (RFC 4178 §4.2.2: the target field of its first reply)', async () => {
    const { m, acc } = await counterProposed();
    const krb = new Krb5Initiator({ ticket: m.ticket, mutual: true });
    await assert.rejects(
      acc.step(encodeNegTokenResp({ supportedMech: OID_KRB5, responseToken: krb.token })),
      isSpnego('DEFECTIVE_TOKEN'),
    );
    assert.equal(acc.complete, false);
  });

  it('the acceptor refuses a mechanism token once Kerberos is complete, even with a good mechListMIC', async () => {
    const { m, acc, der } = await counterProposed();
    const krb = new Krb5Initiator({ ticket: m.ticket, mutual: true });
    const r = decodeNegotiationToken(
      (await acc.step(encodeNegTokenResp({ responseToken: krb.token }))).token!,
    );
    assert.ok(r.kind === 'resp' && r.responseToken && r.mechListMIC);
    krb.acceptReply(r.responseToken);
    krb.messages.verifyMIC(der, r.mechListMIC);
    // MIT's acceptor hands such a token to the finished krb5 context, which refuses it.
    const spurious = new Krb5Initiator({ ticket: m.ticket, mutual: true }).token;
    await assert.rejects(
      acc.step(encodeNegTokenResp({ responseToken: spurious, mechListMIC: krb.messages.getMIC(der) })),
      isSpnego('DEFECTIVE_TOKEN'),
    );
    assert.equal(acc.complete, false);
  });

  it('a raw NTLMSSP token (Windows fell back from Kerberos) is NO_COMMON_MECH with an SPN hint', async () => {
    const m = await mint();
    // NTLM NEGOTIATE_MESSAGE header: "NTLMSSP\0" then message type 1 (MS-NLMP 2.2.1.1).
    const ntlm = Uint8Array.of(
      0x4e,
      0x54,
      0x4c,
      0x4d,
      0x53,
      0x53,
      0x50,
      0,
      1,
      0,
      0,
      0,
      0x07,
      0x82,
      0x08,
      0xa2,
    );
    const acc = createAcceptorContext({ keytab: m.keytab, replayCache: new ReplayCache() });
    await assert.rejects(acc.step(ntlm), (e: unknown) => {
      assert.ok(isSpnego('NO_COMMON_MECH')(e));
      assert.match((e as SPNEGOExchangeError).hint ?? '', /SPN/);
      return true;
    });
  });
});
