// The server side of SASL GSSAPI (RFC 4752 §3.2): accept the client's AP-REQ with the keytab,
// send the AP-REP (then wait for the client's empty response), offer the security layers in a
// wrapped 4-octet message, and check the client's wrapped choice: one layer we offered, its
// buffer size and the authorization identity it asks to act as.
//
//   const sasl = createSaslServer({ service: 'ldap@db.example.com' });
//   let out = await sasl.step(initialResponse);
//   while (!sasl.complete) out = await sasl.step(await challenge(out.token));
//   sasl.user, sasl.authorizationId, sasl.layer
import type { Keytab } from '../ccache/keytab.js';
import { type Principal, unparsePrincipal } from '../ccache/principal-text.js';
import type { Krb5Config } from '../krb5/config.js';
import type { ReplayCache } from '../krb5/gss/index.js';
import { FileReplayCache } from '../krb5/gss/replay-cache-file.js';
import { getEnv } from '../runtime/env.js';
import type { Logger } from '../runtime/log.js';
import { createLog, type NamespacedLog } from '../runtime/log.js';
import { type AcceptorContext, createAcceptorContext } from '../spnego/acceptor.js';
import { SaslError } from './errors.js';
import {
  checkLayers,
  checkMaxBuffer,
  decodeLayerMessage,
  encodeLayerMessage,
  type LayerName,
  layerBits,
  layersOf,
} from './layers.js';
import { SaslProtection, translate } from './protection.js';

export interface SaslServerOptions {
  /** Keytab path (`FILE:` allowed), bytes or parsed; default KRB5_KTNAME, else /etc/krb5.keytab. */
  keytab?: string | Uint8Array | Keytab;
  /**
   * Accept only tickets for this service: `ldap@db.example.com`, `ldap/db.example.com` or
   * `ldap/db.example.com@REALM`. Default any key the keytab holds.
   */
  service?: string;
  /** Layers offered to the client (default all three). */
  layers?: readonly LayerName[];
  /** The largest wrapped message we accept from the client (default 65536, at most 2^24 - 1). */
  maxBufferSize?: number;
  /**
   * May `client` act as `authorizationId`? Called only when the client asked for an identity
   * other than its own. Default: refuse (as Cyrus SASL without a proxy policy).
   */
  authorize?: (authorizationId: string, client: Principal) => boolean | Promise<boolean>;
  clockskew?: number;
  /**
   * Where accepted authenticators are recorded. Default: the per-host file cache (in
   * KRB5RCACHEDIR, else the temp dir) that the HTTP servers use too, so a bind message one
   * process of the service accepted is refused by its siblings and after a restart, as MIT's
   * rcache does. `new MemoryReplayCache()` keeps it per process (tests).
   */
  replayCache?: ReplayCache;
  config?: Krb5Config;
  logger?: Logger;
}

type State = 'context' | 'await-empty' | 'await-choice' | 'done';

export interface SaslServerStep {
  /** The challenge to send; undefined once complete (the protocol's success outcome follows). */
  token: Uint8Array | undefined;
  complete: boolean;
}

/** `svc@host` (GSS host-based service name) → `svc/host`; a principal stays as written. */
export function hostBasedToPrincipal(service: string): string {
  const at = service.indexOf('@');
  if (at > 0 && !service.includes('/') && service.indexOf('@', at + 1) < 0)
    return `${service.slice(0, at)}/${service.slice(at + 1).toLowerCase()}`;
  return service;
}

export class SaslServer {
  private state: State = 'context';
  private readonly context: AcceptorContext;
  private readonly offered: number;
  private readonly maxBuffer: number;
  private protection: SaslProtection | undefined;
  private authz: string | undefined;
  private readonly log: NamespacedLog;

  constructor(private readonly o: SaslServerOptions = {}) {
    if (o.service !== undefined && (typeof o.service !== 'string' || o.service === ''))
      throw new SaslError('BAD_OPTION', 'service must be a non-empty string such as ldap@host');
    if (o.authorize !== undefined && typeof o.authorize !== 'function')
      throw new SaslError('BAD_OPTION', 'authorize must be a function');
    this.offered = layerBits(checkLayers(o.layers, 'layers'));
    this.maxBuffer = checkMaxBuffer(o.maxBufferSize);
    this.log = createLog('spnego', o.logger);
    this.context = createAcceptorContext({
      keytab: o.keytab ?? getEnv('KRB5_KTNAME') ?? '/etc/krb5.keytab',
      ...(o.service === undefined ? {} : { principal: hostBasedToPrincipal(o.service) }),
      ...(o.clockskew === undefined ? {} : { clockskew: o.clockskew }),
      replayCache: o.replayCache ?? FileReplayCache.forDirectory(),
      ...(o.config === undefined ? {} : { config: o.config }),
      ...(o.logger === undefined ? {} : { logger: o.logger }),
    });
  }

  get complete(): boolean {
    return this.state === 'done';
  }

  /** The authenticated client principal; throws BAD_STATE before the Kerberos context is up. */
  get client(): Principal {
    if (this.state === 'context') throw new SaslError('BAD_STATE', 'the client is not authenticated yet');
    return this.context.result().client;
  }

  /** The client as `user@REALM`. */
  get user(): string {
    return unparsePrincipal(this.client);
  }

  /** The identity the client acts as: what it asked for, or its own `user@REALM`. */
  get authorizationId(): string {
    this.established('authorizationId');
    return this.authz || this.user;
  }

  get layer(): LayerName {
    return this.established('layer').layer;
  }

  get maxWrapSize(): number {
    return this.established('maxWrapSize').maxWrapSize;
  }

  get maxSendSize(): number {
    return this.established('maxSendSize').maxSendSize;
  }

  /** One step: the client's response in, the challenge out (none once complete). */
  async step(response: Uint8Array): Promise<SaslServerStep> {
    if (!(response instanceof Uint8Array))
      throw new SaslError('BAD_OPTION', 'step takes the client response as bytes');
    switch (this.state) {
      case 'context': {
        if (response.length === 0)
          throw new SaslError(
            'UNEXPECTED_TOKEN',
            'the GSSAPI mechanism needs the client AP-REQ as initial response',
          );
        const out = await this.context.step(response);
        if (!this.context.complete) return { token: out.token, complete: false };
        if (out.token) {
          this.state = 'await-empty';
          return { token: out.token, complete: false };
        }
        return this.offer();
      }
      case 'await-empty':
        if (response.length !== 0)
          throw new SaslError(
            'UNEXPECTED_TOKEN',
            'expected an empty response after the AP-REP (RFC 4752 §3.1)',
          );
        return this.offer();
      case 'await-choice':
        return this.choice(response);
      case 'done':
        throw new SaslError('BAD_STATE', 'the SASL exchange is already complete');
    }
  }

  private offer(): SaslServerStep {
    const onlyNone = layersOf(this.offered).every((l) => l === 'none');
    const msg = encodeLayerMessage({ bits: this.offered, maxBuffer: onlyNone ? 0 : this.maxBuffer });
    this.state = 'await-choice';
    return { token: this.context.wrap(msg, { confidential: false }), complete: false };
  }

  private async choice(token: Uint8Array): Promise<SaslServerStep> {
    let plain: Uint8Array;
    try {
      plain = this.context.unwrap(token).message;
    } catch (e) {
      throw translate(e);
    }
    const m = decodeLayerMessage(plain, 'client');
    const chosen = layersOf(m.bits);
    const layer = chosen[0];
    if (
      chosen.length !== 1 ||
      layer === undefined ||
      (m.bits & ~0x07) !== 0 ||
      (m.bits & this.offered) === 0
    ) {
      throw new SaslError(
        'NO_ACCEPTABLE_LAYER',
        `the client chose layer bits 0x${m.bits.toString(16).padStart(2, '0')}; we offered ${layersOf(this.offered).join(', ')}`,
      );
    }
    if (layer !== 'none' && m.maxBuffer === 0)
      throw new SaslError('BAD_LAYER_MESSAGE', `the client chose ${layer} with a maximum buffer size of 0`);
    const authz = m.authorizationId ?? '';
    const client = this.context.result().client;
    const own = unparsePrincipal(client);
    if (authz !== '' && authz !== own) {
      const ok = this.o.authorize ? (await this.o.authorize(authz, client)) === true : false;
      if (!ok) {
        throw new SaslError('AUTHZ_REFUSED', `${own} may not act as ${JSON.stringify(authz)}`, {
          hint: 'pass an authorize function to allow it',
        });
      }
    }
    this.authz = authz;
    this.protection = new SaslProtection(this.context, layer, this.maxBuffer, m.maxBuffer);
    this.state = 'done';
    this.log(() => `SASL GSSAPI: ${own} as ${authz || own}, ${layer} layer`);
    return { token: undefined, complete: true };
  }

  private established(what: string): SaslProtection {
    if (!this.protection) throw new SaslError('BAD_STATE', `${what}: the SASL exchange is not complete`);
    return this.protection;
  }

  wrap(data: Uint8Array): Uint8Array {
    return this.established('wrap').wrap(data);
  }

  unwrap(token: Uint8Array): Uint8Array {
    return this.established('unwrap').unwrap(token);
  }
}

export function createSaslServer(options: SaslServerOptions = {}): SaslServer {
  return new SaslServer(options);
}
