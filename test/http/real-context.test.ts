// The HTTP layer with the real SPNEGO initiator (no fake) against our own server middleware, in
// process: a ticket minted for a known service key, the AP-REP verified under REQUIRED, and a
// tampered AP-REP refused.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import ky from 'ky';
import { MutualAuthenticationError } from '../../src/errors.js';
import { negotiate, negotiateFetch, REQUIRED } from '../../src/index.js';
import { negotiateMiddleware, type RequestLike } from '../../src/server/index.js';
import { type Minted, mint } from '../gss/helpers.js';

describe('negotiateFetch and ky with the real initiator against negotiateMiddleware', () => {
  let m: Minted;
  let url: string;
  let close: () => Promise<void>;
  let tamper = false;
  before(async () => {
    m = await mint();
    const mw = negotiateMiddleware({ keytab: m.keytab });
    const server = createServer((req, res) => {
      if (tamper) {
        // A man in the middle flips a bit of the server's token on the way back.
        const setHeader = res.setHeader.bind(res);
        res.setHeader = (name: string, value: number | string | readonly string[]) => {
          if (name.toLowerCase() === 'www-authenticate' && typeof value === 'string' && value.length > 20) {
            const raw = Buffer.from(value.slice(10), 'base64');
            raw[raw.length - 3] = (raw[raw.length - 3] ?? 0) ^ 0x10;
            value = `Negotiate ${raw.toString('base64')}`;
          }
          return setHeader(name, value);
        };
      }
      mw(req as unknown as RequestLike, res, () =>
        res.end(`user=${(req as unknown as RequestLike).remoteUser}`),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    close = () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
  });
  after(() => close());

  const options = () => ({
    credentials: m.credentials,
    targetName: 'HTTP/localhost@GSS.TEST',
    mutualAuthentication: REQUIRED,
  });

  it('authenticates and verifies the AP-REP (fetch, then ky opportunistically)', async () => {
    const res = await negotiateFetch(options())(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'user=alice@GSS.TEST');
    const text = await ky
      .extend(negotiate({ ...options(), opportunisticAuth: true }))
      .get(url)
      .text();
    assert.equal(text, 'user=alice@GSS.TEST');
  });

  it('a tampered AP-REP is a MutualAuthenticationError', async () => {
    tamper = true;
    try {
      await assert.rejects(negotiateFetch(options())(url), MutualAuthenticationError);
    } finally {
      tamper = false;
    }
  });
});
