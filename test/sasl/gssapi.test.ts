// SASL GSSAPI (RFC 4752) client ↔ server in-process with minted tickets: every layer, the
// layer negotiation's failures, buffer limits, tampered and replayed messages, misuse.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplayCache } from '../../src/krb5/gss/index.js';
import type { SaslClientOptions } from '../../src/sasl/index.js';
import {
  createSaslClient,
  createSaslServer,
  encodeSaslFrame,
  type LayerName,
  SaslError,
  SaslFrameReader,
  type SaslServerOptions,
} from '../../src/sasl/index.js';
import { mint } from '../gss/helpers.js';

const service = 'HTTP/localhost@GSS.TEST';
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const isSasl = (code: string) => (e: unknown) => e instanceof SaslError && e.code === code;

async function pair(
  c: Partial<SaslClientOptions> = {},
  s: Partial<SaslServerOptions> = {},
  enctype?: number,
) {
  const m = await mint(enctype === undefined ? {} : { enctype });
  const client = createSaslClient({ credentials: m.credentials, service, ...c });
  const server = createSaslServer({
    keytab: m.keytab,
    replayCache: new ReplayCache(),
    service: 'HTTP@localhost',
    ...s,
  });
  return { client, server };
}

/** Runs the exchange as a transport would; returns the messages in order. */
async function run(client: ReturnType<typeof createSaslClient>, server: ReturnType<typeof createSaslServer>) {
  const wire: string[] = [];
  let response = await client.step();
  wire.push(`C ${response.length}`);
  for (;;) {
    const out = await server.step(response);
    if (out.complete) break;
    wire.push(`S ${out.token?.length}`);
    response = await client.step(out.token);
    wire.push(`C ${response.length}`);
    if (client.complete) {
      const last = await server.step(response);
      assert.equal(last.complete, true);
      assert.equal(last.token, undefined);
      break;
    }
  }
  return wire;
}

describe('SASL GSSAPI client and server', () => {
  for (const layer of ['none', 'integrity', 'confidentiality'] as LayerName[]) {
    // 23: an RC4-only service account (RFC 4757 Wrap tokens); 25, 26: Camellia (RFC 4121 tokens).
    for (const enctype of [17, 18, 19, 20, 23, 25, 26]) {
      it(`negotiates ${layer} (enctype ${enctype}) and protects data both ways`, async () => {
        const { client, server } = await pair({ layers: [layer] }, {}, enctype);
        const wire = await run(client, server);
        // AP-REQ, AP-REP, empty response, wrapped offer, wrapped choice.
        assert.equal(wire.length, 5);
        assert.equal(wire[2], 'C 0');
        assert.equal(client.complete && server.complete, true);
        assert.equal(client.layer, layer);
        assert.equal(server.layer, layer);
        assert.equal(server.user, 'alice@GSS.TEST');
        assert.equal(server.authorizationId, 'alice@GSS.TEST');
        if (layer === 'none') {
          assert.throws(() => client.wrap(enc('x')), isSasl('NO_LAYER'));
          assert.throws(() => server.unwrap(enc('x')), isSasl('NO_LAYER'));
          return;
        }
        const w = client.wrap(enc('search request'));
        if (layer === 'confidentiality') assert.equal(dec(w).includes('search request'), false);
        else assert.equal(dec(w).includes('search request'), true);
        assert.equal(dec(server.unwrap(w)), 'search request');
        assert.equal(dec(client.unwrap(server.wrap(enc('result')))), 'result');
      });
    }
  }

  it('the client picks the strongest layer both sides accept', async () => {
    const { client, server } = await pair(
      { layers: ['none', 'integrity'] },
      { layers: ['integrity', 'confidentiality', 'none'] },
    );
    await run(client, server);
    assert.equal(server.layer, 'integrity');
    const both = await pair();
    await run(both.client, both.server);
    assert.equal(both.client.layer, 'confidentiality');
  });

  it('no acceptable layer: the client refuses the offer with a typed error', async () => {
    const { client, server } = await pair({ layers: ['confidentiality'] }, { layers: ['none'] });
    await assert.rejects(run(client, server), isSasl('NO_ACCEPTABLE_LAYER'));
  });

  it('without mutual authentication the offer comes right after the AP-REQ', async () => {
    const { client, server } = await pair({ mutual: false });
    const wire = await run(client, server);
    assert.deepEqual(
      wire.map((w) => w[0]),
      ['C', 'S', 'C'],
    );
    assert.equal(client.layer, 'confidentiality');
  });

  it('authorization identity: refused by default, allowed by authorize()', async () => {
    const refused = await pair({ authorizationId: 'bob' });
    await assert.rejects(run(refused.client, refused.server), isSasl('AUTHZ_REFUSED'));
    const seen: string[] = [];
    const allowed = await pair(
      { authorizationId: 'bob' },
      {
        authorize: (id, p) => {
          seen.push(`${id}<-${p.name.nameString.join('/')}`);
          return id === 'bob';
        },
      },
    );
    await run(allowed.client, allowed.server);
    assert.equal(allowed.server.authorizationId, 'bob');
    assert.deepEqual(seen, ['bob<-alice']);
    // Its own name needs no permission.
    const own = await pair({ authorizationId: 'alice@GSS.TEST' });
    await run(own.client, own.server);
    assert.equal(own.server.authorizationId, 'alice@GSS.TEST');
  });

  it('buffers over the negotiated size are refused in both directions', async () => {
    const { client, server } = await pair({ maxBufferSize: 1000 }, { maxBufferSize: 4096 });
    await run(client, server);
    assert.equal(server.maxSendSize, 1000);
    assert.equal(client.maxSendSize, 4096);
    assert.ok(server.maxWrapSize <= 1000 - 60);
    server.wrap(new Uint8Array(server.maxWrapSize));
    assert.throws(() => server.wrap(new Uint8Array(1001)), isSasl('BUFFER_TOO_LARGE'));
    assert.throws(() => server.wrap(new Uint8Array(990)), isSasl('BUFFER_TOO_LARGE'));
    const big = server.wrap(new Uint8Array(900));
    assert.throws(() => client.unwrap(new Uint8Array(1001)), isSasl('BUFFER_TOO_LARGE'));
    assert.equal(client.unwrap(big).length, 900);
  });

  it('tampered, replayed and reordered messages are refused', async () => {
    for (const layer of ['integrity', 'confidentiality'] as LayerName[]) {
      const { client, server } = await pair({ layers: [layer] });
      await run(client, server);
      const a = client.wrap(enc('one'));
      const bad = a.slice();
      bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
      assert.throws(() => server.unwrap(bad), isSasl('TAMPERED'));
      assert.equal(dec(server.unwrap(a)), 'one');
      assert.throws(() => server.unwrap(a), isSasl('REPLAYED'));
      const b = client.wrap(enc('two'));
      const c = client.wrap(enc('three'));
      assert.equal(dec(server.unwrap(c)), 'three');
      assert.throws(() => server.unwrap(b), isSasl('REPLAYED'));
      // A message reflected back to its sender is not accepted either.
      assert.throws(() => client.unwrap(client.wrap(enc('echo'))), isSasl('TAMPERED'));
    }
  });

  it('confidentiality negotiated: an integrity-only message is a downgrade', async () => {
    const { client, server } = await pair({ layers: ['confidentiality'] });
    await run(client, server);
    // The context underneath can still make integrity-only tokens; the layer must refuse them.
    const ctx = (
      client as unknown as { context: { wrap(d: Uint8Array, o: { confidential: boolean }): Uint8Array } }
    ).context;
    assert.throws(() => server.unwrap(ctx.wrap(enc('plain'), { confidential: false })), isSasl('DOWNGRADED'));
  });

  it('is hard to misuse: steps out of order and data before completion are typed errors', async () => {
    const { client, server } = await pair();
    assert.throws(() => client.wrap(enc('x')), isSasl('BAD_STATE'));
    assert.throws(() => client.layer, isSasl('BAD_STATE'));
    assert.throws(() => server.user, isSasl('BAD_STATE'));
    await assert.rejects(client.step(enc('challenge first?')), isSasl('UNEXPECTED_TOKEN'));
    await assert.rejects(server.step(new Uint8Array(0)), isSasl('UNEXPECTED_TOKEN'));
    const first = await client.step();
    await assert.rejects(client.step(), isSasl('UNEXPECTED_TOKEN'));
    const rep = await server.step(first);
    await assert.rejects(server.step(enc('not empty')), isSasl('UNEXPECTED_TOKEN'));
    const empty = await client.step(rep.token);
    const offer = await server.step(empty);
    const choice = await client.step(offer.token);
    assert.equal((await server.step(choice)).complete, true);
    await assert.rejects(client.step(enc('more')), isSasl('BAD_STATE'));
    await assert.rejects(server.step(enc('more')), isSasl('BAD_STATE'));
    assert.throws(() => createSaslClient({ credentials: undefined as never, service }), isSasl('BAD_OPTION'));
    assert.throws(() => createSaslServer({ layers: [] }), isSasl('BAD_OPTION'));
    assert.throws(() => createSaslServer({ maxBufferSize: 0x1000000 }), isSasl('BAD_OPTION'));
    assert.throws(() => createSaslServer({ layers: ['secret' as LayerName] }), isSasl('BAD_OPTION'));
  });

  it('a malformed offer or choice is a BAD_LAYER_MESSAGE or NO_ACCEPTABLE_LAYER', async () => {
    // Drive the server's side by hand with the client context underneath.
    const { client, server } = await pair();
    const ctx = (
      client as unknown as { context: { wrap(d: Uint8Array, o: { confidential: boolean }): Uint8Array } }
    ).context;
    const rep = await server.step(await client.step());
    const offer = await server.step(await client.step(rep.token));
    assert.ok(offer.token);
    await assert.rejects(
      server.step(ctx.wrap(new Uint8Array([4, 0, 1]), { confidential: false })),
      isSasl('BAD_LAYER_MESSAGE'),
    );
    await assert.rejects(
      server.step(ctx.wrap(new Uint8Array([6, 0, 1, 0]), { confidential: false })),
      isSasl('NO_ACCEPTABLE_LAYER'),
    );
    await assert.rejects(
      server.step(ctx.wrap(new Uint8Array([2, 0, 0, 0]), { confidential: false })),
      isSasl('BAD_LAYER_MESSAGE'),
    );
    await assert.rejects(
      server.step(ctx.wrap(new Uint8Array([1, 0, 0, 0, 0xff]), { confidential: false })),
      isSasl('BAD_LAYER_MESSAGE'),
    );
    // And a server offer that is not 4 octets.
    const other = await pair();
    const srvCtx = (
      other.server as unknown as {
        context: { wrap(d: Uint8Array, o: { confidential: boolean }): Uint8Array };
      }
    ).context;
    const r1 = await other.server.step(await other.client.step());
    await other.client.step(r1.token);
    await assert.rejects(
      other.client.step(srvCtx.wrap(new Uint8Array([7, 0, 1, 0, 0]), { confidential: false })),
      isSasl('BAD_LAYER_MESSAGE'),
    );
  });

  it('frames buffers with a 4-octet length and refuses an oversized announcement', () => {
    const r = new SaslFrameReader(10);
    const f = [...encodeSaslFrame(enc('hello')), ...encodeSaslFrame(enc('x'))];
    assert.deepEqual(r.push(new Uint8Array(f.slice(0, 6))), []);
    assert.deepEqual(r.push(new Uint8Array(f.slice(6))).map(dec), ['hello', 'x']);
    assert.equal(r.buffered, 0);
    assert.throws(
      () => new SaslFrameReader(10).push(encodeSaslFrame(new Uint8Array(11)).subarray(0, 4)),
      isSasl('BUFFER_TOO_LARGE'),
    );
  });
});
