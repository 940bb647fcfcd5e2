// The client side of SASL GSSAPI (RFC 4752 §3.1): the Kerberos context exchange with raw krb5
// tokens (no SPNEGO), then the server's wrapped 4-octet offer, our choice of layer, buffer size
// and authorization identity, wrapped back with integrity only. Transport-agnostic: each
// `step` takes the server's challenge and returns the response to send.
//
//   const sasl = createSaslClient({ credentials, service: 'ldap@db.example.com' });
//   let response = await sasl.step();              // the initial response
//   while (!sasl.complete) response = await sasl.step(await send(response));
//   await send(response);                          // the last response goes out too
import type { Principal } from '../ccache/principal-text.js';
import type { Credentials } from '../krb5/credentials.js';
import type { Logger } from '../runtime/log.js';
import { createLog, type NamespacedLog } from '../runtime/log.js';
import { InitiatorContext } from '../spnego/initiator.js';
import { SaslError } from './errors.js';
import {
  checkLayers,
  checkMaxBuffer,
  decodeLayerMessage,
  encodeLayerMessage,
  type LayerName,
  layerBit,
  layerBits,
  layersOf,
  strongestCommon,
} from './layers.js';
import { SaslProtection, translate } from './protection.js';

export interface SaslClientOptions {
  credentials: Credentials;
  /**
   * The service as SASL names it, `ldap@db.example.com` (GSS_C_NT_HOSTBASED_SERVICE), or a
   * principal `ldap/db.example.com@REALM`.
   */
  service: string | Principal;
  /** The identity to act as, if not our own principal (RFC 4752 §3.1); default none. */
  authorizationId?: string;
  /** Layers we accept; the strongest one the server also offers is chosen. Default all three. */
  layers?: readonly LayerName[];
  /** The largest wrapped message we accept from the server (default 65536, at most 2^24 - 1). */
  maxBufferSize?: number;
  /** Ask the server for an AP-REP (default true, as Cyrus SASL does). */
  mutual?: boolean;
  logger?: Logger;
}

type State = 'start' | 'context' | 'offer' | 'done';

export class SaslClient {
  private state: State = 'start';
  private readonly context: InitiatorContext;
  private readonly acceptable: number;
  private readonly maxBuffer: number;
  private readonly authzid: string;
  private protection: SaslProtection | undefined;
  private readonly log: NamespacedLog;

  constructor(o: SaslClientOptions) {
    if (!o || typeof o !== 'object' || o.credentials === undefined)
      throw new SaslError('BAD_OPTION', 'credentials are required');
    if (typeof o.service !== 'string' && (typeof o.service !== 'object' || o.service === null))
      throw new SaslError('BAD_OPTION', 'service must be `svc@host` or a principal');
    if (o.authorizationId !== undefined && typeof o.authorizationId !== 'string')
      throw new SaslError('BAD_OPTION', 'authorizationId must be a string');
    this.acceptable = layerBits(checkLayers(o.layers, 'layers'));
    this.maxBuffer = checkMaxBuffer(o.maxBufferSize);
    this.authzid = o.authorizationId ?? '';
    this.log = createLog('spnego', o.logger);
    this.context = new InitiatorContext({
      credentials: o.credentials,
      target: o.service,
      mech: 'krb5',
      mutual: o.mutual ?? true,
      ...(o.logger ? { logger: o.logger } : {}),
    });
  }

  /** True once the last response has been produced (it must still be sent). */
  get complete(): boolean {
    return this.state === 'done';
  }

  /** The negotiated layer; throws BAD_STATE before completion. */
  get layer(): LayerName {
    return this.established('layer').layer;
  }

  /** The largest message `wrap` accepts for the negotiated layer (see SaslProtection.maxWrapSize). */
  get maxWrapSize(): number {
    return this.established('maxWrapSize').maxWrapSize;
  }

  /** The largest wrapped message the server accepts, as it announced. */
  get maxSendSize(): number {
    return this.established('maxSendSize').maxSendSize;
  }

  /**
   * One step of the exchange: no argument for the initial response, then each server challenge
   * (possibly empty). Returns the response to send (possibly empty, which is a real message).
   */
  async step(challenge?: Uint8Array): Promise<Uint8Array> {
    switch (this.state) {
      case 'start': {
        if (challenge !== undefined && challenge.length > 0)
          throw new SaslError(
            'UNEXPECTED_TOKEN',
            'the GSSAPI mechanism is client-first: no challenge before the initial response',
          );
        const first = await this.context.step();
        this.state = this.context.complete ? 'offer' : 'context';
        return first.token ?? new Uint8Array(0);
      }
      case 'context': {
        if (challenge === undefined || challenge.length === 0)
          throw new SaslError(
            'UNEXPECTED_TOKEN',
            'the server sent an empty challenge before the Kerberos context was established',
          );
        const out = await this.context.step(challenge);
        if (!this.context.complete) return out.token ?? new Uint8Array(0);
        this.state = 'offer';
        // RFC 4752 §3.1: once the context is complete, an empty response asks for the offer.
        return new Uint8Array(0);
      }
      case 'offer':
        return this.answerOffer(challenge);
      case 'done':
        throw new SaslError('BAD_STATE', 'the SASL exchange is already complete');
    }
  }

  private answerOffer(challenge: Uint8Array | undefined): Uint8Array {
    if (challenge === undefined || challenge.length === 0)
      throw new SaslError(
        'UNEXPECTED_TOKEN',
        'expected the server security-layer offer, got an empty challenge',
      );
    let offer: Uint8Array;
    try {
      offer = this.context.unwrap(challenge).message;
    } catch (e) {
      throw translate(e);
    }
    const server = decodeLayerMessage(offer, 'server');
    const layer = strongestCommon(server.bits, this.acceptable);
    if (layer === undefined) {
      throw new SaslError(
        'NO_ACCEPTABLE_LAYER',
        `the server offers ${layersOf(server.bits).join(', ') || 'no layer'}; we accept ${layersOf(this.acceptable).join(', ')}`,
        { hint: 'change the layers option, or the server security properties (e.g. slapd sasl-secprops)' },
      );
    }
    if (layer !== 'none' && server.maxBuffer === 0) {
      throw new SaslError('BAD_LAYER_MESSAGE', `the server offers ${layer} but a maximum buffer size of 0`);
    }
    const reply = encodeLayerMessage({
      bits: layerBit(layer),
      maxBuffer: layer === 'none' ? 0 : this.maxBuffer,
      authorizationId: this.authzid,
    });
    // RFC 4752 §3.1: the client's message is wrapped with conf_flag FALSE.
    const token = this.context.wrap(reply, { confidential: false });
    this.protection = new SaslProtection(this.context, layer, this.maxBuffer, server.maxBuffer);
    this.state = 'done';
    this.log(() => `SASL GSSAPI: ${layer} layer, server buffer ${server.maxBuffer}, ours ${this.maxBuffer}`);
    return token;
  }

  private established(what: string): SaslProtection {
    if (!this.protection) throw new SaslError('BAD_STATE', `${what}: the SASL exchange is not complete`);
    return this.protection;
  }

  /** Protects application data for the negotiated layer (throws NO_LAYER with the none layer). */
  wrap(data: Uint8Array): Uint8Array {
    return this.established('wrap').wrap(data);
  }

  /** Verifies (and decrypts) a wrapped message from the server. */
  unwrap(token: Uint8Array): Uint8Array {
    return this.established('unwrap').unwrap(token);
  }
}

export function createSaslClient(options: SaslClientOptions): SaslClient {
  return new SaslClient(options);
}
