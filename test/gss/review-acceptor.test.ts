// Acceptor review: the replay cache must cover the whole clock-skew window, and delegated
// credentials must be the authenticated client's own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeApReq, encodeAuthenticator, NameType } from '../../src/asn1/index.js';
import { TicketFlag } from '../../src/ccache/flags.js';
import { encrypt, generateRandomKey } from '../../src/crypto/index.js';
import { KerberosError } from '../../src/errors.js';
import { encodeGssChecksum } from '../../src/krb5/gss/checksum.js';
import {
  acceptApReq,
  buildKrbCred,
  encodeKrb5Token,
  GssFlag,
  Krb5Initiator,
  ReplayCache,
  TokenId,
} from '../../src/krb5/gss/index.js';
import type { KdcReply } from '../../src/krb5/kdc-reply.js';
import { client, type Minted, mint, mintTicket } from './helpers.js';

const krbErr = (name: string) => (e: unknown) => e instanceof KerberosError && e.errorName === name;

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

describe('acceptor review', () => {
  it('refuses a replay at the last instant of the skew window (ctime + clockskew)', async () => {
    const m = await mint();
    const t0 = Math.floor(Date.now() / 1000) * 1000;
    const ini = new Krb5Initiator({ ticket: m.ticket, mutual: true, now: () => t0 });
    const cache = new ReplayCache();
    acceptApReq(ini.token, { keytab: m.keytab, replayCache: cache, now: () => t0 });
    // t0 is a whole second, so ctime is t0 (cusec < 1000). At ctime + 300 s exactly the
    // authenticator still passes the skew check, so it must still be remembered.
    const edge = t0 + 300_000;
    assert.throws(
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
    assert.throws(
      () => acceptApReq(token, { keytab: m.keytab, replayCache: new ReplayCache() }),
      krbErr('KRB_AP_ERR_BADMATCH'),
    );
    // The client's own forwarded TGT still goes through.
    const own = apReqWithDelegation(
      m,
      buildKrbCred({ ...forwarded, client }, m.ticket.sessionKey, Date.now()),
    );
    const acc = acceptApReq(own, { keytab: m.keytab, replayCache: new ReplayCache() });
    assert.deepEqual(acc.delegated?.defaultPrincipal, client);
  });
});
