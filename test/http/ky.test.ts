// ky.extend(negotiate()) on ky 2 and on ky 1 (the devDependency `ky1` is ky@1): every method and
// body kind re-sent intact whatever ky's `retry`, ky retries renegotiating from scratch, and ky's
// own error handling on a final 401.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import ky2, { HTTPError as HTTPError2 } from 'ky';
import ky1, { HTTPError as HTTPError1 } from 'ky1';
import { MutualAuthenticationError } from '../../src/errors.js';
import { negotiateWith } from '../../src/http/ky.js';
import { REQUIRED } from '../../src/http/options.js';
import { acceptor, fakeFactory, readAuthorization, startServer, type TestServer } from './helpers.js';

let server: TestServer;
let flaky = 0;
before(async () => {
  const accept = acceptor();
  server = await startServer((req, res) => {
    if (req.url === '/flaky' && readAuthorization(req.headers.authorization) && flaky++ === 0) {
      res.writeHead(500);
      res.end('try again');
      return;
    }
    if (req.url === '/echo') {
      const t = readAuthorization(req.headers.authorization);
      if (!t) {
        res.writeHead(401, { 'www-authenticate': 'Negotiate' });
        res.end();
        return;
      }
      res.writeHead(200, {
        'www-authenticate': `Negotiate ${Buffer.from(`final|${t.id}`).toString('base64')}`,
      });
      res.end(
        JSON.stringify({
          method: req.method,
          type: req.headers['content-type'] ?? null,
          body: req.body.toString('latin1'),
        }),
      );
      return;
    }
    accept(req, res);
  });
});
after(() => server.close());

type Echo = { method: string; type: string | null; body: string };

const BODIES: Array<{ kind: string; options: () => Record<string, unknown>; check: (e: Echo) => void }> = [
  {
    kind: 'json',
    options: () => ({ json: { a: 1, b: 'é' } }),
    check: (e) => assert.equal(Buffer.from(e.body, 'latin1').toString('utf8'), '{"a":1,"b":"é"}'),
  },
  { kind: 'text', options: () => ({ body: 'plain text' }), check: (e) => assert.equal(e.body, 'plain text') },
  {
    kind: 'FormData',
    options: () => {
      const f = new FormData();
      f.set('field', 'value');
      f.set('file', new Blob(['file-content'], { type: 'text/plain' }), 'f.txt');
      return { body: f };
    },
    check: (e) => {
      assert.match(e.type ?? '', /^multipart\/form-data; boundary=/);
      assert.match(e.body, /name="field"\r\n\r\nvalue\r\n/);
      assert.match(e.body, /filename="f.txt"\r\nContent-Type: text\/plain\r\n\r\nfile-content\r\n/);
    },
  },
  {
    kind: 'URLSearchParams',
    options: () => ({ body: new URLSearchParams({ q: 'a b', r: '&' }) }),
    check: (e) => {
      assert.equal(e.body, 'q=a+b&r=%26');
      assert.equal(e.type, 'application/x-www-form-urlencoded;charset=UTF-8');
    },
  },
  {
    kind: 'ArrayBuffer',
    options: () => ({ body: new Uint8Array([0, 1, 2, 255]).buffer }),
    check: (e) => assert.deepEqual([...Buffer.from(e.body, 'latin1')], [0, 1, 2, 255]),
  },
  {
    kind: 'ReadableStream',
    options: () => ({
      body: new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('chunk1-'));
          c.enqueue(new TextEncoder().encode('chunk2'));
          c.close();
        },
      }),
      duplex: 'half',
    }),
    check: (e) => assert.equal(e.body, 'chunk1-chunk2'),
  },
];

const VERSIONS = [
  ['ky 2', ky2, HTTPError2],
  // ky 1's types differ in details the tests do not use.
  ['ky 1', ky1 as unknown as typeof ky2, HTTPError1 as unknown as typeof HTTPError2],
] as const;

for (const [version, ky, HTTPError] of VERSIONS) {
  for (const retry of [0, undefined]) {
    describe(`${version}: ky.extend(negotiate()) with retry ${retry ?? 'default'}`, () => {
      const api = () =>
        ky.extend({
          ...negotiateWith({ mutualAuthentication: REQUIRED }, { contextFactory: fakeFactory() }),
          ...(retry === undefined ? {} : { retry }),
        });
      it('GET and DELETE without a body', async () => {
        for (const method of ['get', 'delete'] as const) {
          const e = await api()(`${server.url}/echo`, { method }).json<Echo>();
          assert.equal(e.method, method.toUpperCase());
          assert.equal(e.body, '');
        }
      });
      for (const method of ['post', 'put', 'delete'] as const) {
        for (const b of BODIES) {
          it(`${method.toUpperCase()} with a ${b.kind} body is re-sent intact after the 401`, async () => {
            const before = server.requests.length;
            const e = await api()(`${server.url}/echo`, { method, ...b.options() }).json<Echo>();
            assert.equal(e.method, method.toUpperCase());
            b.check(e);
            const [first, second] = server.requests.slice(before);
            assert.equal(first?.headers.authorization, undefined);
            assert.deepEqual(first?.body, second?.body, 'the first leg got the same body');
          });
        }
      }
    });
  }

  describe(`${version}: ky behaviours around negotiate()`, () => {
    it('a ky retry (500) renegotiates with a fresh context', async () => {
      flaky = 0;
      const factory = fakeFactory();
      const text = await ky
        .extend(negotiateWith({}, { contextFactory: factory }))
        .get(`${server.url}/flaky`, { retry: { limit: 2, delay: () => 1 } })
        .text();
      assert.match(text, /^ok GET HTTP@localhost/);
      assert.equal(factory.made.length, 2);
    });

    it("a final 401 becomes ky's HTTPError; a mutual failure rejects with MutualAuthenticationError", async () => {
      const failing = await startServer((_req, res) => {
        res.writeHead(401, { 'www-authenticate': 'Negotiate' });
        res.end();
      });
      try {
        const api = ky.extend(negotiateWith({}, { contextFactory: fakeFactory() }));
        await assert.rejects(
          api.get(failing.url),
          (e: unknown) => e instanceof HTTPError && e.response.status === 401,
        );
      } finally {
        await failing.close();
      }
      const noMutual = await startServer(acceptor({ finalToken: () => undefined }));
      try {
        const api = ky.extend(
          negotiateWith({ mutualAuthentication: REQUIRED }, { contextFactory: fakeFactory() }),
        );
        await assert.rejects(api.get(noMutual.url), MutualAuthenticationError);
      } finally {
        await noMutual.close();
      }
    });

    it("wraps the user's own fetch, and a second negotiate() does not stack on the first", async () => {
      let calls = 0;
      const userFetch = (i: string | URL | Request, n?: RequestInit) => {
        calls++;
        return fetch(i, n);
      };
      const first = fakeFactory();
      const second = fakeFactory();
      const api = ky
        .extend({ fetch: userFetch })
        .extend(negotiateWith({}, { contextFactory: first }))
        .extend(negotiateWith({ targetName: 'svc' }, { contextFactory: second }));
      const before = server.requests.length;
      const res = await api.get(`${server.url}/echo`);
      assert.equal(res.status, 200);
      assert.equal(calls, 2);
      // ky 2 runs every init hook (the last negotiate() wraps fetch); ky 1 stops at the first
      // beforeRequest hook that answers (the first negotiate()). Either way: one exchange.
      const [used, unused, target] = version === 'ky 2' ? [second, first, 'svc'] : [first, second, 'HTTP'];
      assert.equal(unused.made.length, 0);
      assert.equal(used.made.length, 1);
      assert.equal(
        readAuthorization(server.requests[before + 1]?.headers.authorization)?.target,
        `${target}@localhost`,
      );
    });
  });
}
