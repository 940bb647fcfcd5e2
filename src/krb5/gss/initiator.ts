// The initiator side of the Kerberos mechanism (RFC 4121 §4.1): an AP-REQ whose authenticator
// carries the 0x8003 checksum, a fresh subkey and a random sequence number; then, with mutual
// authentication, the acceptor's AP-REP verified (usage 12, ctime/cusec echoed) and its subkey
// and sequence number adopted.
import {
  type Authenticator,
  application,
  ctx,
  decodeApRep,
  decodeEncApRepPart,
  type EncApRepPart,
  encodeAuthenticator,
  encodeTicket,
  OID_KRB5,
  sequence,
  writeEncryptedData,
  writeInteger,
  writeKerberosFlags,
} from '../../asn1/index.js';
import { decrypt, encrypt, generateRandomKey, type Key, makeKey, randomUint32 } from '../../crypto/index.js';
import { Asn1Error, CryptoError, MutualAuthenticationError } from '../../errors.js';
import type { ServiceTicket } from '../credentials.js';
import type { KdcReply } from '../kdc-reply.js';
import { channelBindingHash, encodeGssChecksum } from './checksum.js';
import { ApOption, CKSUMTYPE_GSSAPI, GssFlag, KeyUsage, TokenId } from './constants.js';
import { buildKrbCred } from './delegation.js';
import { GssError } from './errors.js';
import { decodeKrb5Token, encodeKrb5Token, errorFromToken } from './framing.js';
import { MessageProtection } from './per-message.js';

export interface Krb5InitiatorOptions {
  ticket: ServiceTicket;
  /** Ask for an AP-REP (GSS_C_MUTUAL_FLAG and the mutual-required AP option). */
  mutual: boolean;
  /** A FORWARDED TGT to delegate (GSS_C_DELEG_FLAG). */
  forwarded?: KdcReply;
  /** application_data of the channel bindings (e.g. `tls-server-end-point:` + hash). */
  channelBindings?: Uint8Array;
  /** The KDC's idea of now in ms (default Date.now). */
  now?: () => number;
  /** Framing OID (default the krb5 OID). */
  oid?: string;
}

/** A random 30-bit initial sequence number: MIT keeps it below 2^30 too, so 32-bit peers never wrap. */
export function randomSeq(): number {
  return randomUint32() & 0x3fffffff;
}

/** The last authenticator time handed out, in microseconds since the epoch. */
let lastAuthenticatorUs = 0;

/**
 * A microsecond time for a new authenticator, strictly after the previous one while the clock
 * stays near it (as MIT's krb5_crypto_us_timeofday): contexts made in the same millisecond get
 * different times, so an AP-REP answering one cannot complete another. The sub-millisecond
 * digits start at random; a clock (or a test's injected one) more than a second behind the last
 * value is taken as it is, so no authenticator drifts ahead of the clock.
 */
export function authenticatorTimeUs(nowMs: number): number {
  let us = Math.floor(nowMs) * 1000 + Math.floor(Math.random() * 1000);
  if (us <= lastAuthenticatorUs && lastAuthenticatorUs - us < 1_000_000) us = lastAuthenticatorUs + 1;
  lastAuthenticatorUs = us;
  return us;
}

export class Krb5Initiator {
  readonly flags: number;
  readonly subkey: Key;
  readonly seq: number;
  private readonly ctime: Date;
  private readonly cusec: number;
  private protection: MessageProtection | undefined;
  private done = false;
  private readonly sessionKey: Key;
  readonly token: Uint8Array;

  constructor(private readonly o: Krb5InitiatorOptions) {
    const t = o.ticket;
    this.sessionKey = t.sessionKey;
    const nowMs = (o.now ?? Date.now)();
    // ctime/cusec is all that ties an AP-REP to this AP-REQ when concurrent contexts share a
    // ticket (and so its session key): it must never repeat within the process.
    const us = authenticatorTimeUs(nowMs);
    this.ctime = new Date(Math.floor(us / 1_000_000) * 1000);
    this.cusec = us % 1_000_000;
    this.subkey = generateRandomKey(t.sessionKey.enctype);
    this.seq = randomSeq();
    this.flags =
      GssFlag.REPLAY |
      GssFlag.SEQUENCE |
      GssFlag.CONF |
      GssFlag.INTEG |
      (o.mutual ? GssFlag.MUTUAL : 0) |
      (o.forwarded ? GssFlag.DELEG : 0);
    const cksum = encodeGssChecksum({
      bindingHash: channelBindingHash(o.channelBindings),
      flags: this.flags,
      ...(o.forwarded ? { delegation: buildKrbCred(o.forwarded, t.sessionKey, nowMs) } : {}),
    });
    const auth: Authenticator = {
      authenticatorVno: 5,
      crealm: t.client.realm,
      cname: t.client.name,
      cksum: { cksumtype: CKSUMTYPE_GSSAPI, checksum: cksum },
      cusec: this.cusec,
      ctime: this.ctime,
      subkey: { keytype: this.subkey.enctype, keyvalue: this.subkey.bytes },
      seqNumber: this.seq,
    };
    // AP-REQ (RFC 4120 §5.5.1) assembled around the ticket's DER as the KDC sent it: re-encoding
    // (and re-checking) the ticket would cost more than everything else in this token.
    const apReq = application(
      14,
      sequence([
        ctx(0, writeInteger(5)),
        ctx(1, writeInteger(14)),
        ctx(2, writeKerberosFlags(o.mutual ? ApOption.MUTUAL_REQUIRED : 0)),
        ctx(3, t.ticketBytes.length > 0 ? t.ticketBytes : encodeTicket(t.ticket)),
        ctx(
          4,
          writeEncryptedData({
            etype: t.sessionKey.enctype,
            cipher: encrypt(t.sessionKey, KeyUsage.AP_REQ_AUTHENTICATOR, encodeAuthenticator(auth)),
          }),
        ),
      ]),
    );
    this.token = encodeKrb5Token(TokenId.AP_REQ, apReq, o.oid ?? OID_KRB5);
    if (!o.mutual) {
      // Without an AP-REP the acceptor protects messages with our subkey and our sequence number (RFC 1964 §1.2).
      this.establish(undefined, this.seq);
    }
  }

  get complete(): boolean {
    return this.done;
  }

  private establish(acceptorKey: Key | undefined, recvSeq: number): void {
    this.protection = new MessageProtection({
      isAcceptor: false,
      initiatorKey: this.subkey,
      acceptorKey,
      sendSeq: this.seq,
      recvSeq,
      replayDetection: true,
      sequenceDetection: true,
      oid: this.o.oid ?? OID_KRB5,
    });
    this.done = true;
  }

  /** Verifies the acceptor's reply token: an AP-REP, or a KRB-ERROR turned into a KerberosError. */
  acceptReply(token: Uint8Array): void {
    if (this.done && !this.o.mutual) return;
    if (this.done) throw new GssError('DEFECTIVE_TOKEN', 'the Kerberos context is already established');
    const t = decodeKrb5Token(token);
    if (t.tokId === TokenId.KRB_ERROR) throw errorFromToken(t.body, 'the service rejected our AP-REQ');
    if (t.tokId !== TokenId.AP_REP) {
      throw new MutualAuthenticationError(
        'AP_REP_DEFECTIVE',
        `expected an AP-REP token (02 00), got TOK_ID ${t.tokId.toString(16).padStart(4, '0')}`,
      );
    }
    let part: EncApRepPart;
    try {
      const rep = decodeApRep(t.body);
      if (rep.encPart.etype !== this.sessionKey.enctype)
        throw new MutualAuthenticationError(
          'AP_REP_DEFECTIVE',
          `AP-REP encrypted with enctype ${rep.encPart.etype}, not the session key's ${this.sessionKey.enctype}`,
        );
      part = decodeEncApRepPart(decrypt(this.sessionKey, KeyUsage.AP_REP_ENC_PART, rep.encPart.cipher));
    } catch (e) {
      if (e instanceof MutualAuthenticationError) throw e;
      if (e instanceof CryptoError || e instanceof Asn1Error) {
        throw new MutualAuthenticationError(
          'AP_REP_INVALID',
          `the AP-REP does not decrypt or decode: ${e.message}`,
          {
            cause: e,
            hint: 'the reply was not made with the session key of our ticket: someone else answered, or it was modified',
          },
        );
      }
      throw e;
    }
    if (part.ctime.getTime() !== this.ctime.getTime() || part.cusec !== this.cusec) {
      throw new MutualAuthenticationError(
        'AP_REP_MISMATCH',
        'the AP-REP does not echo the time of our authenticator',
        {
          hint: 'a replayed or forged AP-REP',
        },
      );
    }
    const acceptorKey = part.subkey ? makeKey(part.subkey.keytype, part.subkey.keyvalue) : undefined;
    this.establish(acceptorKey, part.seqNumber ?? 0);
  }

  get messages(): MessageProtection {
    if (!this.protection) throw new GssError('NO_CONTEXT', 'the security context is not established yet');
    return this.protection;
  }
}
