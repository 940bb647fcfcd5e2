// The SPNEGO acceptor (RFC 4178) around the Kerberos acceptor: takes a NegTokenInit (or a bare
// krb5 AP-REQ token, as some clients send), picks the first Kerberos OID the initiator listed,
// accepts the optimistic AP-REQ and answers accept-completed with the AP-REP. When Kerberos was
// not the initiator's first choice the mechListMIC exchange is required (RFC 4178 §5) and runs
// before the context completes.
import {
  decodeNegotiationToken,
  encodeNegTokenResp,
  type NegTokenInit,
  type NegTokenResp,
  OID_KRB5,
} from '../asn1/index.js';
import { type Keytab, parseKeytab, readKeytab } from '../ccache/keytab.js';
import {
  type Principal,
  parsePrincipal,
  principalsEqual,
  unparsePrincipal,
} from '../ccache/principal-text.js';
import { Asn1Error, ConfigError, SPNEGOExchangeError } from '../errors.js';
import type { Krb5Config } from '../krb5/config.js';
import { Credentials } from '../krb5/credentials.js';
import {
  acceptApReq,
  type Capaths,
  GssError,
  isKrb5Oid,
  type Krb5Accepted,
  type MessageProtection,
  type ReplayCache,
} from '../krb5/gss/index.js';
import { createLog, type Logger, type NamespacedLog } from '../runtime/log.js';
import { PerMessageOps } from './established.js';
import type { AcceptorResult, SecurityContext, StepResult } from './types.js';

export interface AcceptorContextOptions {
  /** A parsed keytab, its bytes, or a path (`FILE:` prefix allowed). */
  keytab: Keytab | Uint8Array | string;
  /** Accept only tickets for this service (e.g. `HTTP/web.example.com@EXAMPLE.COM`). */
  principal?: string | Principal;
  /** Allowed clock difference in seconds (default 300). */
  clockskew?: number;
  /** RFC 5929 channel bindings application data, checked when the client sent bindings. */
  channelBindings?: Uint8Array;
  /**
   * Where seen authenticators are recorded. Default: one in-memory cache shared by the process
   * (servers built with spnego/server default to the per-host file cache instead).
   */
  replayCache?: ReplayCache;
  /** Refuses clients before their authenticator is decrypted or recorded (see Krb5AcceptorOptions). */
  admitClient?: (client: Principal) => boolean | Promise<boolean>;
  /** [capaths] for transited-path checks; default `config`'s. */
  capaths?: Capaths | (() => Promise<Capaths | undefined>);
  /** krb5.conf for delegated credentials (default loadConfig()). */
  config?: Krb5Config;
  now?: () => number;
  logger?: Logger;
}

export interface AcceptorContext extends SecurityContext {
  /** The authenticated client and delegated credentials; throws until complete. */
  result(): AcceptorResult;
  /** Details of the accepted AP-REQ (GSS flags, ticket times, the keytab key used). */
  readonly accepted: Krb5Accepted | undefined;
}

/** Stands for "no realm given" while parsing the principal option (never a real realm). */
const NO_REALM = '\u0000';

function isRawKrb5Token(token: Uint8Array): boolean {
  // 0x60 + length + OID: a SPNEGO InitialContextToken carries the SPNEGO OID instead.
  if (token[0] !== 0x60) return false;
  try {
    const t = decodeNegotiationToken(token);
    return t.kind !== 'init';
  } catch {
    return true;
  }
}

/** "NTLMSSP\0": a bare NTLM message, which Windows sends under Negotiate when Kerberos failed. */
const NTLMSSP = [0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00];
function isRawNtlm(token: Uint8Array): boolean {
  return token.length >= NTLMSSP.length && NTLMSSP.every((b, i) => token[i] === b);
}

class Acceptor extends PerMessageOps implements AcceptorContext {
  private state: 'start' | 'await-token' | 'await-mic' | 'done' = 'start';
  private mechOid: string | undefined;
  private mechTypesDer: Uint8Array | undefined;
  private micRequired = false;
  private got: Krb5Accepted | undefined;
  private delegated: Credentials | undefined;
  private keytab: Keytab | undefined;
  private readonly log: NamespacedLog;

  constructor(private readonly o: AcceptorContextOptions) {
    super();
    this.log = createLog('spnego', o.logger);
  }

  get complete(): boolean {
    return this.state === 'done';
  }
  get mech(): string | undefined {
    return this.mechOid;
  }
  get accepted(): Krb5Accepted | undefined {
    return this.got;
  }

  private async loadKeytab(): Promise<Keytab> {
    if (this.keytab) return this.keytab;
    const k = this.o.keytab;
    this.keytab =
      typeof k === 'string'
        ? await readKeytab(k.replace(/^(FILE|WRFILE):/, ''))
        : k instanceof Uint8Array
          ? parseKeytab(k)
          : k;
    return this.keytab;
  }

  /**
   * The `principal` option as a Principal. Without a realm (`HTTP/web.example.com`) it is the
   * realm the keytab holds those keys for, else krb5.conf's default_realm (as MIT would parse it).
   */
  private servicePrincipal(keytab: Keytab): Principal | undefined {
    const p = this.o.principal;
    if (p === undefined || typeof p !== 'string') return p;
    const parsed = parsePrincipal(p, NO_REALM);
    if (parsed.realm !== NO_REALM) return parsed;
    const realms = [
      ...new Set(
        keytab.entries
          .filter((e) => principalsEqual(e.principal, { ...parsed, realm: e.principal.realm }))
          .map((e) => e.principal.realm),
      ),
    ];
    const dflt = this.o.config?.libdefaults.defaultRealm;
    const realm = realms.length === 1 ? realms[0] : dflt;
    if (realm === undefined)
      throw new ConfigError(
        'BAD_OPTION',
        `principal ${p} has no realm and the keytab holds it in ${realms.length === 0 ? 'no realm' : realms.join(', ')}`,
        { hint: `name the realm: ${p}@REALM` },
      );
    return { ...parsed, realm };
  }

  private async acceptKrb5(token: Uint8Array): Promise<Krb5Accepted> {
    const keytab = await this.loadKeytab();
    const p = this.servicePrincipal(keytab);
    const capaths = this.o.capaths ?? this.o.config?.capaths;
    const accepted = await acceptApReq(token, {
      keytab,
      ...(p === undefined ? {} : { principal: p }),
      ...(this.o.clockskew === undefined ? {} : { clockskew: this.o.clockskew }),
      ...(this.o.channelBindings ? { channelBindings: this.o.channelBindings } : {}),
      ...(this.o.replayCache ? { replayCache: this.o.replayCache } : {}),
      ...(this.o.admitClient ? { admitClient: this.o.admitClient } : {}),
      ...(capaths ? { capaths } : {}),
      ...(this.o.now ? { now: this.o.now } : {}),
    });
    if (accepted.delegated) {
      this.delegated = await Credentials.fromCcacheData(accepted.delegated, {
        ...(this.o.config ? { config: this.o.config } : {}),
        ...(this.o.logger ? { logger: this.o.logger } : {}),
      });
    }
    this.got = accepted;
    this.log(
      `accepted ${unparsePrincipal(accepted.client)} for ${unparsePrincipal(accepted.server)}${accepted.delegated ? ' (with delegated credentials)' : ''}`,
    );
    return accepted;
  }

  async step(input?: Uint8Array): Promise<StepResult> {
    if (input === undefined || input.length === 0)
      throw new SPNEGOExchangeError('NO_TOKEN', 'the acceptor needs the initiator token');
    if (this.state === 'done')
      throw new SPNEGOExchangeError('UNEXPECTED_STATE', 'the context is already established');
    if (this.state === 'start' && isRawKrb5Token(input)) {
      const a = await this.acceptKrb5(input);
      this.mechOid = OID_KRB5;
      this.state = 'done';
      return a.token ? { token: a.token, complete: true } : { complete: true };
    }
    if (isRawNtlm(input)) {
      throw new SPNEGOExchangeError('NO_COMMON_MECH', 'the client sent a raw NTLM token, not Kerberos', {
        hint: 'Windows clients fall back to NTLM when they cannot get a ticket for this service: check that its SPN exists (setspn -Q HTTP/host) and that the client uses the host name, not an IP or an alias without an SPN',
      });
    }
    let t: ReturnType<typeof decodeNegotiationToken>;
    try {
      t = decodeNegotiationToken(input);
    } catch (e) {
      if (e instanceof Asn1Error)
        throw new SPNEGOExchangeError('DEFECTIVE_TOKEN', `undecodable SPNEGO token: ${e.message}`, {
          cause: e,
        });
      throw e;
    }
    if (this.state === 'start') {
      if (t.kind !== 'init')
        throw new SPNEGOExchangeError('DEFECTIVE_TOKEN', 'expected a NegTokenInit first');
      return this.init(t);
    }
    if (t.kind !== 'resp') throw new SPNEGOExchangeError('DEFECTIVE_TOKEN', 'expected a NegTokenResp');
    return this.resp(t);
  }

  private async init(t: NegTokenInit): Promise<StepResult> {
    const index = t.mechTypes.findIndex((m) => isKrb5Oid(m));
    if (index < 0) {
      throw new SPNEGOExchangeError(
        'NO_COMMON_MECH',
        `the initiator offers ${t.mechTypes.join(', ')}; this acceptor speaks only Kerberos`,
        {
          hint: 'NTLM is not supported: the client needs a Kerberos ticket (kinit) and the server name must resolve to its SPN',
        },
      );
    }
    this.mechOid = t.mechTypes[index];
    this.mechTypesDer = t.mechTypesDer;
    // Kerberos not being the initiator's first choice makes the MIC exchange mandatory (RFC 4178 §5).
    this.micRequired = index !== 0;
    if (!t.mechToken || index !== 0) {
      // The optimistic token (if any) is for a mechanism we do not speak: ask for a Kerberos token.
      // A counter-proposal must say request-mic (RFC 4178 §4.2.2): MIT's initiator refuses an
      // accept-incomplete here as a defective token (it tolerates that only for NTLMSSP).
      this.state = 'await-token';
      return {
        token: encodeNegTokenResp({
          negState: index !== 0 ? 'request-mic' : 'accept-incomplete',
          supportedMech: this.mechOid,
        }),
        complete: false,
      };
    }
    const a = await this.acceptKrb5(t.mechToken);
    if (t.mechListMIC) this.checkMic(a.messages, t.mechListMIC);
    return this.afterMech(a, true);
  }

  private async resp(t: NegTokenResp): Promise<StepResult> {
    if (t.negState === 'reject')
      throw new SPNEGOExchangeError('REJECTED', 'the initiator abandoned the negotiation');
    // supportedMech is the target's field, only in its first reply (RFC 4178 §4.2.2); MIT's
    // acc_ctx_cont refuses it from the initiator, and a mechanism token once Kerberos is done.
    if (t.supportedMech !== undefined)
      throw new SPNEGOExchangeError('DEFECTIVE_TOKEN', 'the initiator sent a supportedMech');
    if (this.state === 'await-mic' && t.responseToken)
      throw new SPNEGOExchangeError('DEFECTIVE_TOKEN', 'a mechanism token after Kerberos completed');
    if (this.state === 'await-token') {
      if (!t.responseToken)
        throw new SPNEGOExchangeError('DEFECTIVE_TOKEN', 'expected the Kerberos AP-REQ in responseToken');
      const a = await this.acceptKrb5(t.responseToken);
      if (t.mechListMIC) this.checkMic(a.messages, t.mechListMIC);
      return this.afterMech(a, false);
    }
    // await-mic: the initiator's mechListMIC (RFC 4178 §5 b-I / c-I).
    const a = this.got;
    if (!a || !t.mechListMIC) {
      throw new SPNEGOExchangeError(
        'MISSING_MECHLIST_MIC',
        'the initiator did not send the mechListMIC this negotiation requires',
        {
          hint: 'Kerberos was not the client first choice, so RFC 4178 §5 requires the MIC exchange',
        },
      );
    }
    this.checkMic(a.messages, t.mechListMIC);
    this.state = 'done';
    return { token: encodeNegTokenResp({ negState: 'accept-completed' }), complete: true };
  }

  private checkMic(m: MessageProtection, mic: Uint8Array): void {
    if (!this.mechTypesDer)
      throw new SPNEGOExchangeError('DEFECTIVE_TOKEN', 'mechListMIC without a mechanism list');
    try {
      m.verifyMIC(this.mechTypesDer, mic);
    } catch (e) {
      throw new SPNEGOExchangeError(
        'BAD_MECHLIST_MIC',
        'the initiator mechListMIC does not verify: the mechanism list may have been tampered with',
        { cause: e },
      );
    }
    this.micRequired = false;
    this.micVerified = true;
  }
  private micVerified = false;

  private afterMech(a: Krb5Accepted, first: boolean): StepResult {
    const resp: NegTokenResp = {};
    if (first || this.mechOid) resp.supportedMech = this.mechOid;
    if (a.token) resp.responseToken = a.token;
    if (!this.micRequired) {
      resp.negState = 'accept-completed';
      if (this.micVerified && this.mechTypesDer) resp.mechListMIC = a.messages.getMIC(this.mechTypesDer);
      this.state = 'done';
      return { token: encodeNegTokenResp(resp), complete: true };
    }
    if (!this.mechTypesDer) throw new GssError('DEFECTIVE_TOKEN', 'no mechanism list to protect');
    // Our MIC now; the initiator's must follow (accept-incomplete after an AP-REP, request-mic otherwise).
    resp.negState = a.token ? 'accept-incomplete' : 'request-mic';
    resp.mechListMIC = a.messages.getMIC(this.mechTypesDer);
    this.state = 'await-mic';
    return { token: encodeNegTokenResp(resp), complete: false };
  }

  result(): AcceptorResult {
    if (this.state !== 'done' || !this.got)
      throw new GssError('NO_CONTEXT', 'the security context is not established yet');
    const g = this.got;
    const evidence = { ticket: g.ticket, client: g.client, server: g.server, flags: g.ticketFlags };
    return this.delegated
      ? { client: g.client, delegated: this.delegated, evidence }
      : { client: g.client, evidence };
  }

  protected messages(): MessageProtection {
    if (this.state !== 'done' || !this.got)
      throw new GssError('NO_CONTEXT', 'the security context is not established yet');
    return this.got.messages;
  }
}

export function createAcceptorContext(opts: AcceptorContextOptions): AcceptorContext {
  return new Acceptor(opts);
}
