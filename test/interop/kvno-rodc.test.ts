// Key version numbers of 2^31 and more, as an AD read-only DC's krbtgt keys have (the RODC's
// number in the top 16 bits), against MIT's client, acceptor, decoder and keytab tools, and Samba's
// Heimdal ASN.1 library. MIT (asn1_k_encode.c: kvno is DEFINTTYPE), Windows and Heimdal (Krb5Int32)
// encode the kvno as a signed 32-bit INTEGER, so 0x80000001 goes on the wire as 02 04 80 00 00 01.
// MIT's decoder stores it through a signed 32-bit range check and refuses the unsigned 5-octet
// form (02 05 00 80 00 00 01) with ASN1_OVERFLOW, Heimdal's with ASN1_OVERRUN: the encoding is
// not cosmetic (an unsigned MiniKdc makes MIT's kinit fail). MiniKdc issues the TGT (krbtgt kvno
// 0x93a40001, an RODC's) and the service ticket (kvno 0x80000001); its keytab (written by us)
// serves MIT's acceptor. No real Samba RODC here: `samba-tool domain join … RODC` needs the DC
// running LDAP, RPC and replication and a second address that Samba sees as an interface (an
// alias on the host's loopback, or network namespaces our client cannot reach) — more than a
// test should do to a shared machine. Samba's own decoder stands in for its KDC.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeApReq, decodeTicket, encodeTicket } from '../../src/asn1/index.js';
import { readCcache } from '../../src/ccache/ccache.js';
import { readKeytab } from '../../src/ccache/keytab.js';
import { unparsePrincipal } from '../../src/ccache/principal-text.js';
import { Credentials } from '../../src/krb5/credentials.js';
import { createAcceptor } from '../../src/server/index.js';
import { createInitiatorContext } from '../../src/spnego/index.js';
import { MiniKdc } from '../../src/testing/index.js';
import { DEBIAN_PYTHON, skipUnlessPythonGssapi, startGssPeer, toB64 } from './helpers/gss-peer.js';
import { run, skipUnlessMit } from './helpers/mit-realm.js';

const REALM = 'KVNO.TEST';
const SPN = 'HTTP/kvno.test';
const TGT_KVNO = 0x93a40001; // RODC number 0x93a4, key version 1
const SVC_KVNO = 0x80000001;
const PASSWORD = 'alice-kvno-pw';
const SIGNED = Uint8Array.of(0x02, 0x04, 0x80, 0x00, 0x00, 0x01);
const UNSIGNED = Uint8Array.of(0x02, 0x05, 0x00, 0x80, 0x00, 0x00, 0x01);

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v >>>= 8) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

/** One DER TLV at `at` (single-octet tags, as every Kerberos tag here): [tag, content start, end]. */
function tlv(b: Uint8Array, at: number): [number, number, number] {
  const tag = b[at] as number;
  let len = b[at + 1] as number;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (b[start + i] as number);
    start += n;
  }
  return [tag, start, start + len];
}

/**
 * Re-encodes every INTEGER 0x80000001 inside constructed DER as the unsigned 5-octet form, with
 * all enclosing lengths recomputed (what an encoder that writes UInt32 unsigned would send).
 */
function unsignedKvno(der: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let at = 0; at < der.length; ) {
    const [tag, start, end] = tlv(der, at);
    let content = der.subarray(start, end);
    if (tag & 0x20) content = unsignedKvno(content);
    else if (tag === 0x02 && indexOf(content, SIGNED.subarray(2)) === 0 && content.length === 4)
      content = UNSIGNED.subarray(2);
    out.push(tag, ...derLength(content.length), ...content);
    at = end;
  }
  return Uint8Array.from(out);
}

/** The same krb5 GSS token (RFC 4121 §4.1 framing) with its AP-REQ's kvno written unsigned. */
function withUnsignedKvno(token: Uint8Array): Uint8Array {
  const [tag, start] = tlv(token, 0);
  assert.equal(tag, 0x60);
  const head = token.subarray(start, tlv(token, start)[2] + 2); // mech OID + TOK_ID 01 00
  const body = Uint8Array.from([...head, ...unsignedKvno(apReqOf(token))]);
  return Uint8Array.from([0x60, ...derLength(body.length), ...body]);
}

/** The AP-REQ inside a krb5 GSS token: after 0x60, its length, the mech OID and TOK_ID 01 00. */
function apReqOf(token: Uint8Array): Uint8Array {
  const [, start, end] = tlv(token, 0);
  return token.subarray(tlv(token, start)[2] + 2, end);
}

const RD_REQ = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'mit-rd-req.py');

/** MIT's krb5_rd_req on an AP-REQ (helpers/mit-rd-req.py): its error text, or the client. */
async function mitRdReq(
  apReq: Uint8Array,
  env: Record<string, string>,
): Promise<{ code: number; client?: string; message?: string }> {
  const r = await run(DEBIAN_PYTHON, [RD_REQ, toB64(apReq)], { env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { code: number; client?: string; message?: string };
}

const HEIMDAL_TICKET = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'heimdal-ticket.py');

/** Samba's embedded Heimdal libasn1 on a Ticket (helpers/heimdal-ticket.py). */
async function heimdalTicket(
  der: Uint8Array,
): Promise<{ code: number; kvno?: number; der?: string; message?: string }> {
  const r = await run(DEBIAN_PYTHON, [HEIMDAL_TICKET, toB64(der)]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { code: number; kvno?: number; der?: string; message?: string };
}

/** Samba's libasn1 comes with samba (apt-get install samba); in CI its absence fails. */
function skipUnlessSambaAsn1(): string | false {
  if (process.env['CI'] === 'true') return false;
  const found = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'].some(
    (d) => existsSync(join(d, 'samba', 'libasn1-samba4.so.0')),
  );
  return found ? false : "Samba's libasn1-samba4 is not installed (apt-get install samba)";
}

describe('kvno >= 2^31 (AD read-only DCs) with MIT', {
  skip: skipUnlessMit() || skipUnlessPythonGssapi(),
}, () => {
  let kdc: MiniKdc;
  let dir: string;
  let env: Record<string, string>;
  let keytab: string;

  before(async () => {
    dir = mkdtempSync(join(process.env['SPNEGO_INTEROP_TMP'] ?? tmpdir(), 'kvno-rodc-'));
    kdc = await MiniKdc.start({
      realm: REALM,
      principals: [
        { name: `krbtgt/${REALM}@${REALM}`, kvno: TGT_KVNO },
        { name: 'alice', password: PASSWORD },
        { name: SPN, kvno: SVC_KVNO },
      ],
    });
    keytab = join(dir, 'http.keytab');
    writeFileSync(keytab, kdc.keytabFor(SPN));
    env = {
      KRB5_CONFIG: await kdc.writeKrb5Conf(join(dir, 'krb5.conf')),
      KRB5CCNAME: `FILE:${join(dir, 'alice.cc')}`,
      KRB5RCACHETYPE: 'none',
    };
    const k = await run('kinit', [`alice@${REALM}`], { env, input: `${PASSWORD}\n` });
    assert.equal(k.code, 0, k.stderr);
  });
  after(async () => {
    await kdc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("MIT's kinit and kvno take our TGT and ticket and send them back as MiniKdc reads them", async () => {
    kdc.clearRequests();
    const v = await run('kvno', [`${SPN}@${REALM}`], { env });
    assert.equal(v.code, 0, v.stderr);
    // MIT prints the kvno with %d: 0x80000001 shows as -2147483647.
    assert.match(v.stdout, /kvno = -2147483647\b/);
    // MiniKdc checks the TGT's kvno against krbtgt's (0x93a40001): MIT sent it back as it came.
    assert.equal(kdc.count('TGS-REQ', { succeeded: true }), 1);
    // MIT re-encodes tickets it stores (kdcrep2creds): its own encoding is the signed one.
    const stored = (await readCcache(join(dir, 'alice.cc'))).credentials.find(
      (c) => unparsePrincipal(c.server) === `${SPN}@${REALM}`,
    );
    assert.ok(stored);
    assert.equal(decodeTicket(stored.ticket).encPart.kvno, SVC_KVNO);
    assert.ok(indexOf(stored.ticket, SIGNED) > 0);
    assert.equal(indexOf(stored.ticket, UNSIGNED), -1);
  });

  it('a keytab we wrote with kvno 0x80000001: MIT klist -k reads it, ktutil copies it, we read the copy', async () => {
    const l = await run('klist', ['-k', '-e', keytab], { env });
    assert.equal(l.code, 0, l.stderr);
    const kvnos = [...l.stdout.matchAll(/^\s*(-?\d+) HTTP\/kvno\.test@/gm)].map((m) => Number(m[1]));
    assert.ok(kvnos.length > 0, l.stdout);
    // MIT's keytab reader takes the 32-bit kvno after the entry (the 8-bit one says 1).
    for (const k of kvnos) assert.equal(k >>> 0, SVC_KVNO);
    const copy = join(dir, 'copy.keytab');
    const kt = await run('ktutil', [], { env, input: `rkt ${keytab}\nwkt ${copy}\nquit\n` });
    assert.equal(kt.code, 0, kt.stderr);
    const back = await readKeytab(copy);
    assert.ok(back.entries.length > 0);
    for (const e of back.entries) assert.equal(e.kvno, SVC_KVNO);
    assert.deepEqual(readFileSync(copy), readFileSync(keytab), "MIT's copy is byte for byte ours");
  });

  it("our AP-REQ (kvno signed on the wire) opens in MIT's acceptor with our keytab; MIT's initiator's in ours", async () => {
    const alice = await Credentials.fromPassword(`alice@${REALM}`, PASSWORD, { config: kdc.clientConfig() });
    const ctx = await createInitiatorContext({ credentials: alice, target: `${SPN}@${REALM}`, mutual: true });
    const token = (await ctx.step()).token;
    assert.ok(token);
    assert.ok(indexOf(token, SIGNED) > 0, 'the ticket kvno as a signed 32-bit INTEGER');
    assert.equal(indexOf(token, UNSIGNED), -1);
    const acceptor = startGssPeer(['accept', 'spnego'], { ...env, KRB5_KTNAME: `FILE:${keytab}` });
    try {
      const a = await acceptor.call({ op: 'step', token: toB64(token) });
      assert.equal(a.error, undefined, a.error);
      assert.equal(a.client, `alice@${REALM}`);
    } finally {
      acceptor.stop();
    }
    const initiator = startGssPeer(['init', 'spnego', 'HTTP@kvno.test'], env);
    try {
      const i = await initiator.call({ op: 'step', token: null });
      assert.equal(i.error, undefined, i.error);
      const mit = Buffer.from(i.token as string, 'base64');
      assert.ok(indexOf(mit, SIGNED) > 0, "MIT's AP-REQ: the same signed kvno");
      const r = await createAcceptor({ keytab: kdc.keytabFor(SPN) }).accept(mit);
      assert.equal(r.user, `alice@${REALM}`);
    } finally {
      initiator.stop();
    }
  });

  it("MIT's decoder refuses the unsigned 5-octet kvno (ASN.1 value too large) that it takes signed", async () => {
    const alice = await Credentials.fromPassword(`alice@${REALM}`, PASSWORD, { config: kdc.clientConfig() });
    const fresh = async (): Promise<Uint8Array> => {
      const ctx = await createInitiatorContext({
        credentials: alice,
        target: `${SPN}@${REALM}`,
        mech: 'krb5',
      });
      const t = (await ctx.step()).token;
      assert.ok(t);
      return t;
    };
    const signed = await fresh();
    const unsigned = withUnsignedKvno(await fresh());
    assert.ok(indexOf(unsigned, UNSIGNED) > 0);
    assert.equal(indexOf(unsigned, SIGNED), -1);
    // Nothing else changed: our decoder reads the same kvno from both.
    for (const t of [signed, unsigned]) assert.equal(decodeApReq(apReqOf(t)).ticket.encPart.kvno, SVC_KVNO);
    const mitEnv = { ...env, KRB5_KTNAME: `FILE:${keytab}` };
    // krb5_rd_req: MIT's decoder on each AP-REQ, with the keytab we wrote.
    assert.deepEqual(await mitRdReq(apReqOf(signed), mitEnv), { code: 0, client: `alice@${REALM}` });
    const refused = await mitRdReq(apReqOf(unsigned), mitEnv);
    assert.equal(refused.message, 'ASN.1 value too large');
    // GSS-API (python3-gssapi) refuses it too (its accept_sec_context does not say why).
    const peer = startGssPeer(['accept', 'krb5'], mitEnv);
    try {
      assert.match((await peer.call({ op: 'step', token: toB64(unsigned) })).error ?? '', /GSS failure/);
    } finally {
      peer.stop();
    }
    // Our acceptor reads both (an older peer's unsigned form costs nothing to accept).
    const ours = createAcceptor({ keytab: kdc.keytabFor(SPN) });
    assert.equal((await ours.accept(unsigned)).user, `alice@${REALM}`);
  });
  it("Samba's Heimdal ASN.1 (its KDC's decoder) reads our kvno as the signed Krb5Int32 MIT writes, re-encodes it byte for byte, refuses the unsigned form", {
    skip: skipUnlessSambaAsn1(),
  }, async () => {
    const alice = await Credentials.fromPassword(`alice@${REALM}`, PASSWORD, { config: kdc.clientConfig() });
    const ours = encodeTicket((await alice.getServiceTicket(`${SPN}@${REALM}`)).ticket);
    assert.ok(indexOf(ours, SIGNED) > 0);
    const read = await heimdalTicket(ours);
    assert.equal(read.code, 0);
    assert.equal(read.kvno, SVC_KVNO | 0, 'Krb5Int32 -2147483647 is 0x80000001');
    assert.deepEqual(Buffer.from(read.der ?? '', 'base64'), Buffer.from(ours));
    const refused = await heimdalTicket(unsignedKvno(ours));
    assert.notEqual(refused.code, 0);
    assert.equal(refused.message, 'ASN.1 encoding ended unexpectedly');
  });
});
