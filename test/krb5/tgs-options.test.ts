// KDC options our requests carry, as MIT's client sets them: AS requests start from
// kdc_default_options (RENEWABLE_OK by default), TGS requests copy the presented TGT's
// FORWARDABLE/PROXIABLE/RENEWABLE (MIT's FLAGS2OPTS), and the KDC side (MiniKdc, as MIT's KDC)
// takes the unkeyed rsa-md5 req-body checksum Windows clients send.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeTicket, encodeTgsReq } from '../../src/asn1/index.js';
import { TicketFlag } from '../../src/ccache/flags.js';
import { makeKey } from '../../src/crypto/index.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { KdcOption, readKdcAnswer } from '../../src/krb5/kdc-reply.js';
import { buildTgsReq, openTgsRep, type TgtCredential } from '../../src/krb5/tgs.js';
import { MiniKdc } from '../../src/testing/index.js';

const REALM = 'OPTS.TEST';
const PRINCIPALS = [{ name: 'alice', password: 'pw' }, 'HTTP/localhost'];

function tgtOf(creds: Credentials): TgtCredential {
  const c = creds.toCcache().credentials.find((x) => x.server.name.nameString[0] === 'krbtgt');
  assert.ok(c);
  return {
    client: c.client,
    server: c.server,
    ticket: decodeTicket(c.ticket),
    sessionKey: makeKey(c.key.keytype, c.key.keyvalue),
    flags: c.flags,
    renewTill: new Date(c.renewTill * 1000),
  };
}

describe('AS requests: kdc_default_options (MIT default RENEWABLE_OK)', () => {
  it('a lifetime longer than the KDC allows comes back renewable, as MIT kinit gets FRI', async () => {
    await using kdc = await MiniKdc.start({ realm: REALM, principals: PRINCIPALS, lifetime: 3600 });
    // krb5.conf asks 10 h and no renew_lifetime: only RENEWABLE_OK makes the TGT renewable.
    const config = kdc.clientConfig({ libdefaults: { ticket_lifetime: '36000', renew_lifetime: '0' } });
    const creds = await Credentials.fromPassword('alice', 'pw', { config });
    const as = kdc.requests.filter((r) => r.type === 'AS-REQ').at(-1);
    assert.ok(as);
    const opts = as.kdcOptions;
    assert.ok((opts & KdcOption.RENEWABLE_OK) !== 0);
    assert.equal(opts & KdcOption.RENEWABLE, 0);
    const tgt = tgtOf(creds);
    assert.ok(((tgt.flags ?? 0) & TicketFlag.RENEWABLE) !== 0, 'renewable');
    assert.ok(((tgt.flags ?? 0) & TicketFlag.FORWARDABLE) !== 0, 'forwardable');
  });

  it('kdc_default_options = 0 sends none; renew_lifetime asks RENEWABLE instead of RENEWABLE_OK', async () => {
    await using kdc = await MiniKdc.start({ realm: REALM, principals: PRINCIPALS, lifetime: 3600 });
    const none = kdc.clientConfig({
      libdefaults: { ticket_lifetime: '36000', renew_lifetime: '0', kdc_default_options: '0' },
    });
    const plain = await Credentials.fromPassword('alice', 'pw', { config: none });
    assert.equal((tgtOf(plain).flags ?? 0) & TicketFlag.RENEWABLE, 0);
    const renew = kdc.clientConfig({ libdefaults: { renew_lifetime: '86400' } });
    await Credentials.fromPassword('alice', 'pw', { config: renew });
    const last = kdc.requests.filter((r) => r.type === 'AS-REQ').at(-1);
    assert.ok(last);
    const opts = last.kdcOptions;
    assert.ok((opts & KdcOption.RENEWABLE) !== 0);
    assert.equal(opts & KdcOption.RENEWABLE_OK, 0);
  });
});

describe('TGS requests copy the TGT flags (MIT FLAGS2OPTS)', () => {
  it('a service ticket from a forwardable, renewable TGT is both, with forwardable unset in krb5.conf', async () => {
    await using kdc = await MiniKdc.start({ realm: REALM, principals: PRINCIPALS });
    const config = kdc.clientConfig({ libdefaults: { forwardable: 'false' } });
    const creds = await Credentials.fromPassword('alice', 'pw', { config, forwardable: true });
    const st = await creds.getServiceTicket('HTTP/localhost');
    const tgs = kdc.requests.filter((r) => r.type === 'TGS-REQ').at(-1);
    assert.ok(tgs);
    const opts = tgs.kdcOptions;
    assert.ok((opts & KdcOption.FORWARDABLE) !== 0);
    assert.ok((opts & KdcOption.RENEWABLE) !== 0);
    assert.ok((st.flags & TicketFlag.FORWARDABLE) !== 0);
    assert.ok((st.flags & TicketFlag.RENEWABLE) !== 0);
  });

  it('a TGT that is not forwardable gives a request without FORWARDABLE', async () => {
    await using kdc = await MiniKdc.start({ realm: REALM, principals: PRINCIPALS });
    const config = kdc.clientConfig({ libdefaults: { forwardable: 'false' } });
    const creds = await Credentials.fromPassword('alice', 'pw', { config });
    const st = await creds.getServiceTicket('HTTP/localhost');
    const tgs = kdc.requests.filter((r) => r.type === 'TGS-REQ').at(-1);
    assert.ok(tgs);
    assert.equal(tgs.kdcOptions & KdcOption.FORWARDABLE, 0);
    assert.equal(st.flags & TicketFlag.FORWARDABLE, 0);
  });

  it('a forwarded TGT stays renewable', async () => {
    await using kdc = await MiniKdc.start({ realm: REALM, principals: PRINCIPALS });
    const creds = await Credentials.fromPassword('alice', 'pw', { config: kdc.clientConfig() });
    const fwd = await creds.getForwardedTgt();
    assert.ok((fwd.flags & TicketFlag.FORWARDED) !== 0);
    assert.ok((fwd.flags & TicketFlag.RENEWABLE) !== 0);
    assert.ok(fwd.renewTill !== undefined);
  });
});

describe('cross-realm TGS requests copy the TGT flags too', () => {
  it('krbtgt/B@A and the service ticket in B are asked FORWARDABLE and come back forwardable', async () => {
    await using kdc = await MiniKdc.start({
      realm: 'A.TEST',
      realms: ['B.TEST'],
      principals: [{ name: 'alice', password: 'pw' }, 'HTTP/b.localhost@B.TEST'],
    });
    const config = kdc.clientConfig({ libdefaults: { forwardable: 'false' } });
    const creds = await Credentials.fromPassword('alice', 'pw', { config, forwardable: true });
    kdc.clearRequests();
    const st = await creds.getServiceTicket('HTTP/b.localhost@B.TEST');
    assert.deepEqual(
      kdc.requests.map((r) => [r.server, (r.kdcOptions & KdcOption.FORWARDABLE) !== 0]),
      [
        ['krbtgt/B.TEST@A.TEST', true],
        ['HTTP/b.localhost@B.TEST', true],
      ],
    );
    assert.ok((st.flags & TicketFlag.FORWARDABLE) !== 0);
  });
});

describe('MiniKdc req-body checksums, as MIT kdc_util.c comp_cksum', () => {
  async function tgsWith(cksumtype: number, tamper = false): Promise<unknown> {
    await using kdc = await MiniKdc.start({ realm: REALM, principals: PRINCIPALS });
    const creds = await Credentials.fromPassword('alice', 'pw', { config: kdc.clientConfig() });
    const opts = {
      tgt: tgtOf(creds),
      server: { realm: REALM, name: { nameType: 3, nameString: ['HTTP', 'localhost'] } },
      etypes: [18, 17],
      till: new Date(Date.now() + 3_600_000),
      bodyChecksumType: cksumtype,
    };
    const built = buildTgsReq(opts, Date.now());
    // A body changed after the checksum was made: the unkeyed checksum no longer matches it.
    const bytes = tamper
      ? encodeTgsReq({ ...built.req, reqBody: { ...built.req.reqBody, till: new Date(Date.now() + 60_000) } })
      : built.bytes;
    const answer = readKdcAnswer(kdc.handleRequest(bytes), 'tgs-rep');
    if (answer.kind === 'error') return answer.error.errorCode;
    return openTgsRep(answer.rep, built, opts, false).server.name.nameString.join('/');
  }

  it('takes the unkeyed rsa-md5 (7) Windows clients send, and the usual keyed one', async () => {
    assert.equal(await tgsWith(7), 'HTTP/localhost');
    assert.equal(await tgsWith(16), 'HTTP/localhost');
  });

  it('an rsa-md5 that does not match the body is KRB_AP_ERR_MODIFIED (41)', async () => {
    assert.equal(await tgsWith(7, true), 41);
  });
});
