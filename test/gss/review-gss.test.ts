// GSS/SPNEGO review: NegTokenResp fields an initiator must never send (RFC 4178 §4.2.2), refused
// as MIT's acceptor (spnego_mech.c acc_ctx_cont) refuses them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeNegotiationToken,
  encodeMechTypeList,
  encodeNegTokenInit,
  encodeNegTokenResp,
  OID_KRB5,
  OID_NTLMSSP,
} from '../../src/asn1/index.js';
import { SPNEGOExchangeError } from '../../src/errors.js';
import { Krb5Initiator, ReplayCache } from '../../src/krb5/gss/index.js';
import { createAcceptorContext } from '../../src/spnego/index.js';
import { mint } from './helpers.js';

const isSpnego = (code: string) => (e: unknown) => e instanceof SPNEGOExchangeError && e.code === code;

/** An acceptor asked by [NTLM, krb5] for Kerberos: it waits for the AP-REQ in a NegTokenResp. */
async function counterProposed() {
  const m = await mint();
  const mechTypes = [OID_NTLMSSP, OID_KRB5];
  const acc = createAcceptorContext({ keytab: m.keytab, replayCache: new ReplayCache() });
  const first = await acc.step(encodeNegTokenInit({ mechTypes, mechToken: Uint8Array.of(1, 2) }));
  assert.equal(first.complete, false);
  return { m, acc, der: encodeMechTypeList(mechTypes) };
}

describe('SPNEGO review', () => {
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
