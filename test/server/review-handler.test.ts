// negotiateHandler review: the AP-REP header must reach responses that cannot be rebuilt with
// `new Response(...)` (a 101 upgrade, as Deno.upgradeWebSocket returns), and still reach
// responses whose headers are immutable (a Response straight from fetch()).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base64Encode } from '../../src/http/base64.js';
import { parseChallenges } from '../../src/http/challenge.js';
import { negotiateHandler } from '../../src/server/index.js';
import { createInitiatorContext } from '../../src/spnego/index.js';
import { mint } from '../gss/helpers.js';

async function request(): Promise<{ req: Request; keytab: Awaited<ReturnType<typeof mint>>['keytab'] }> {
  const m = await mint();
  const ctx = await createInitiatorContext({
    credentials: m.credentials,
    target: 'HTTP/localhost@GSS.TEST',
    mutual: true,
  });
  const first = await ctx.step();
  assert.ok(first.token);
  const req = new Request('http://localhost/', {
    headers: { Authorization: `Negotiate ${base64Encode(first.token)}` },
  });
  return { req, keytab: m.keytab };
}

describe('negotiateHandler review', () => {
  it('adds the AP-REP to a 101 upgrade response without rebuilding it', async () => {
    const { req, keytab } = await request();
    const upgrade = new Response(null, { status: 200 });
    // Node cannot construct a 101 Response; Deno.upgradeWebSocket hands one to the handler.
    Object.defineProperty(upgrade, 'status', { value: 101 });
    const h = negotiateHandler(() => upgrade, { keytab });
    const res = await h(req);
    assert.equal(res, upgrade);
    assert.match(res.headers.get('WWW-Authenticate') ?? '', /^Negotiate /);
  });

  it('copies a response whose headers are immutable', async () => {
    const { req, keytab } = await request();
    const h = negotiateHandler(
      () => {
        const r = new Response('body', { status: 203, statusText: 'Copied', headers: { 'X-A': '1' } });
        Object.defineProperty(r.headers, 'set', {
          value: () => {
            throw new TypeError('immutable');
          },
        });
        return r;
      },
      { keytab },
    );
    const res = await h(req);
    assert.equal(res.status, 203);
    assert.equal(res.statusText, 'Copied');
    assert.equal(res.headers.get('X-A'), '1');
    assert.match(res.headers.get('WWW-Authenticate') ?? '', /^Negotiate /);
    assert.equal(await res.text(), 'body');
  });

  it('keeps a challenge the handler set itself and adds the AP-REP beside it', async () => {
    const { req, keytab } = await request();
    const h = negotiateHandler(
      () =>
        new Response('no scope', {
          status: 401,
          headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' },
        }),
      { keytab },
    );
    const res = await h(req);
    assert.equal(res.status, 401);
    const offered = parseChallenges(res.headers.get('WWW-Authenticate') ?? '');
    assert.deepEqual(
      offered.map((c) => c.scheme.toLowerCase()),
      ['bearer', 'negotiate'],
    );
    assert.ok(offered[1]?.token68, 'the AP-REP is still there');
  });
});
