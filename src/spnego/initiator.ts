// The SPNEGO initiator (RFC 4178) around the Kerberos mechanism: a NegTokenInit listing krb5 —
// exactly what MIT's initiator (curl --negotiate) lists — with the optimistic AP-REQ, then the
// acceptor's NegTokenResp: reject, accept-incomplete, accept-completed or request-mic, its
// supportedMech (either krb5 OID), the AP-REP inside, and the mechListMIC dance (RFC 4178 §5).
// A server answering with a bare krb5 token (no SPNEGO) is understood too.
import {
  decodeNegotiationToken,
  encodeMechTypeList,
  encodeNegTokenInit,
  encodeNegTokenResp,
  type NegTokenResp,
  OID_KRB5,
} from '../asn1/index.js';
import { TicketFlag } from '../ccache/flags.js';
import type { Principal } from '../ccache/principal-text.js';
import { aesReady } from '../crypto/index.js';
import { Asn1Error, SPNEGOExchangeError } from '../errors.js';
// The mechanism's modules one by one, not its index: the index also carries the acceptor, which
// a client never needs (the main entry loads it lazily).
import { TokenId } from '../krb5/gss/constants.js';
import { GssError } from '../krb5/gss/errors.js';
import { decodeKrb5Token, errorFromToken, isKrb5Oid } from '../krb5/gss/framing.js';
import { Krb5Initiator } from '../krb5/gss/initiator.js';
import type { MessageProtection } from '../krb5/gss/per-message.js';
import type { KdcReply } from '../krb5/kdc-reply.js';
import { createLog, describeBytes, type NamespacedLog } from '../runtime/log.js';
import { PerMessageOps } from './established.js';
import type { InitiatorOptions, SecurityContext, StepResult } from './types.js';

/** The mechanism list we offer: what MIT 1.20 sends with Kerberos credentials. */
const OFFERED = [OID_KRB5];

function isRawKrb5(token: Uint8Array): boolean {
  if (token[0] !== 0x60) return false;
  try {
    decodeKrb5Token(token);
    return true;
  } catch {
    return false;
  }
}

export class InitiatorContext extends PerMessageOps implements SecurityContext {
  private krb: Krb5Initiator | undefined;
  private state: 'start' | 'sent' | 'mic-sent' | 'done' = 'start';
  private negotiatedMech: string | undefined;
  private readonly mechTypesDer = encodeMechTypeList(OFFERED);
  private sentMic = false;
  private readonly log: NamespacedLog;
  private readonly mutual: boolean;
  private readonly spnego: boolean;

  constructor(private readonly o: InitiatorOptions) {
    super();
    this.log = createLog('spnego', o.logger);
    this.mutual = o.mutual ?? true;
    this.spnego = (o.mech ?? 'spnego') === 'spnego';
  }

  get complete(): boolean {
    return this.state === 'done';
  }

  get mech(): string | undefined {
    return this.negotiatedMech;
  }

  private server: Principal | undefined;

  get targetPrincipal(): Principal | undefined {
    return this.server;
  }

  /** GSS flags actually requested (RFC 4121 §4.1.1.1), once the first token is built. */
  get flags(): number | undefined {
    return this.krb?.flags;
  }

  private async forwardedTgt(ticketFlags: number): Promise<KdcReply | undefined> {
    const d = this.o.delegate ?? false;
    if (d === false) return undefined;
    if (d === 'policy' && (ticketFlags & TicketFlag.OK_AS_DELEGATE) === 0) {
      this.log('not delegating: the service ticket is not OK-AS-DELEGATE');
      return undefined;
    }
    try {
      return await this.o.credentials.getForwardedTgt();
    } catch (e) {
      // As MIT: a TGT that cannot be forwarded means no delegation, not a failed context.
      this.log(
        `cannot forward the TGT, continuing without delegation: ${e instanceof Error ? e.message : String(e)}`,
      );
      return undefined;
    }
  }

  async step(input?: Uint8Array): Promise<StepResult> {
    if (this.state === 'start') return this.first();
    if (input === undefined || input.length === 0) {
      if (this.state === 'done') return { complete: true };
      throw new SPNEGOExchangeError('NO_TOKEN', 'the acceptor sent no token to continue the exchange');
    }
    if (isRawKrb5(input)) return this.rawReply(input);
    let resp: NegTokenResp;
    try {
      const t = decodeNegotiationToken(input);
      if (t.kind !== 'resp')
        throw new SPNEGOExchangeError('DEFECTIVE_TOKEN', 'the acceptor answered with a NegTokenInit');
      resp = t;
    } catch (e) {
      if (e instanceof Asn1Error)
        throw new SPNEGOExchangeError('DEFECTIVE_TOKEN', `undecodable SPNEGO reply: ${e.message}`, {
          cause: e,
        });
      throw e;
    }
    return this.negReply(resp);
  }

  private async first(): Promise<StepResult> {
    const ticket = await this.o.credentials.getServiceTicket(this.o.target);
    this.server = ticket.server;
    const forwarded = await this.forwardedTgt(ticket.flags);
    this.krb = new Krb5Initiator({
      ticket,
      mutual: this.mutual,
      ...(forwarded ? { forwarded } : {}),
      ...(this.o.channelBindings ? { channelBindings: this.o.channelBindings } : {}),
      now: () => this.o.credentials.kdcNow(),
    });
    const token = this.spnego
      ? encodeNegTokenInit({ mechTypes: OFFERED, mechToken: this.krb.token })
      : this.krb.token;
    this.negotiatedMech = OID_KRB5;
    // Without mutual authentication nothing more is needed from the acceptor (GSS_S_COMPLETE).
    this.state = this.krb.complete ? 'done' : 'sent';
    this.log(
      () =>
        `AP-REQ for ${this.o.credentials.principal.realm} service ticket, ${forwarded ? 'with' : 'without'} delegation; token ${describeBytes(token)}`,
    );
    return { token, complete: this.complete };
  }

  private rawReply(input: Uint8Array): StepResult {
    const krb = this.krbOrThrow();
    krb.acceptReply(input);
    this.state = 'done';
    return { complete: true };
  }

  private negReply(resp: NegTokenResp): StepResult {
    const krb = this.krbOrThrow();
    if (resp.negState === 'reject') {
      if (resp.responseToken && isRawKrb5(resp.responseToken)) {
        const t = decodeKrb5Token(resp.responseToken);
        if (t.tokId === TokenId.KRB_ERROR) throw errorFromToken(t.body, 'the service rejected our AP-REQ');
      }
      throw new SPNEGOExchangeError('REJECTED', 'the acceptor rejected the SPNEGO negotiation', {
        hint: 'the server does not accept Kerberos, or not this ticket',
      });
    }
    if (resp.supportedMech !== undefined) {
      if (!isKrb5Oid(resp.supportedMech)) {
        throw new SPNEGOExchangeError(
          'NO_COMMON_MECH',
          `the acceptor chose mechanism ${resp.supportedMech}; only Kerberos is offered`,
        );
      }
      this.negotiatedMech = resp.supportedMech;
    }
    if (resp.responseToken) {
      if (!krb.complete || this.mutual) krb.acceptReply(resp.responseToken);
    } else if (!krb.complete && (resp.negState === 'accept-completed' || resp.mechListMIC)) {
      throw new GssError(
        'DEFECTIVE_TOKEN',
        'mutual authentication was asked, but the acceptor sent no AP-REP',
      );
    }
    if (!krb.complete) {
      throw new SPNEGOExchangeError(
        'UNEXPECTED_STATE',
        `the acceptor answered ${resp.negState ?? 'without a state'} and no mechanism token`,
      );
    }
    if (resp.mechListMIC) {
      try {
        krb.messages.verifyMIC(this.mechTypesDer, resp.mechListMIC);
      } catch (e) {
        throw new SPNEGOExchangeError(
          'BAD_MECHLIST_MIC',
          'the acceptor mechListMIC does not verify: the mechanism list may have been tampered with',
          { cause: e },
        );
      }
    }
    if (resp.negState === 'request-mic' || (resp.mechListMIC && !this.sentMic)) {
      // RFC 4178 §5 b) I / c): answer the acceptor's MIC (or its request) with ours.
      // With the acceptor's MIC verified both sides are protected once ours is sent (§5 b-I, c-IV):
      // complete now. Only a bare request-mic leaves us waiting for the acceptor's MIC.
      this.sentMic = true;
      const token = encodeNegTokenResp({ mechListMIC: krb.messages.getMIC(this.mechTypesDer) });
      this.state = resp.mechListMIC ? 'done' : 'mic-sent';
      return { token, complete: this.complete };
    }
    if (resp.negState === 'accept-completed' || resp.negState === undefined) {
      this.state = 'done';
      return { complete: true };
    }
    throw new SPNEGOExchangeError(
      'UNEXPECTED_STATE',
      `the acceptor left the negotiation ${resp.negState} without asking for anything`,
    );
  }

  private krbOrThrow(): Krb5Initiator {
    if (!this.krb) throw new SPNEGOExchangeError('NO_CONTEXT', 'step() must first be called without a token');
    return this.krb;
  }

  protected messages(): MessageProtection {
    const krb = this.krb;
    if (!krb?.complete) throw new GssError('NO_CONTEXT', 'the security context is not established yet');
    return krb.messages;
  }
}

export async function createInitiatorContext(opts: InitiatorOptions): Promise<InitiatorContext> {
  await aesReady();
  return new InitiatorContext(opts);
}
