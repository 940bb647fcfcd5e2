// NO_PROXY as curl reads it. The oracle: curl's own unit test of Curl_check_noproxy
// (tests/unit/unit1614.c in curl 7.86+, the table transcribed below as facts) and the examples of
// curl's CURLOPT_NOPROXY / --noproxy documentation. Where curl has no answer (bracketed IPv6
// entries, entries with a port: curl never matches them), the documented extension is tested.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { bypassesProxy } from '../../src/http/no-proxy.js';
import { proxyFor } from '../../src/http/proxy.js';

/** A host as curl's unit test names it, as the URL a request would have. */
const url = (host: string, scheme = 'http', port = ''): URL =>
  new URL(`${scheme}://${host}${port === '' ? '' : `:${port}`}/path`);

describe('NO_PROXY: curl unit1614 (Curl_check_noproxy)', () => {
  // [host, NO_PROXY, curl's answer]
  const table: Array<[string, string, boolean]> = [
    ['www.example.com', 'localhost,.example.com,.example.de', true],
    ['www.example.com.', 'localhost,.example.com,.example.de', true],
    ['example.com', 'localhost,.example.com,.example.de', true],
    ['example.com.', 'localhost,.example.com,.example.de', true],
    ['www.example.com', 'localhost,.example.com.,.example.de', true],
    ['www.example.com', 'localhost,www.example.com.,.example.de', true],
    ['example.com', 'localhost,example.com,.example.de', true],
    ['example.com.', 'localhost,example.com,.example.de', true],
    ['127.0.0.1', '127.0.0.1,localhost', true],
    ['127.0.0.1', '127.0.0.1,localhost,', true],
    ['127.0.0.1', '127.0.0.1/8,localhost,', true],
    ['127.0.0.1', '127.0.0.1/28,localhost,', true],
    ['127.0.0.1', '127.0.0.1/31,localhost,', true],
    ['127.0.0.1', 'localhost,127.0.0.1', true],
    [
      '127.0.0.1',
      'localhost,127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.',
      false,
    ],
    ['localhost', 'localhost,127.0.0.1', true],
    ['localhost', '127.0.0.1,localhost', true],
    ['foobar', 'barfoo', false],
    ['foobar', 'foobar', true],
    ['192.168.0.1', 'foobar', false],
    ['192.168.0.1', '192.168.0.0/16', true],
    ['192.168.0.1', '192.168.0.0/24', true],
    ['192.168.0.1', '192.168.0.0/32', false],
    ['192.168.0.1', '192.168.0.0', false],
    ['192.168.1.1', '192.168.0.0/24', false],
    ['192.168.1.1', 'foo, bar, 192.168.0.0/24', false],
    ['192.168.1.1', 'foo, bar, 192.168.0.0/16', true],
    ['[::1]', 'foo, bar, 192.168.0.0/16', false],
    ['[::1]', 'foo, bar, ::1/64', true],
    ['bar', 'foo, bar, ::1/64', true],
    ['BAr', 'foo, bar, ::1/64', true],
    ['BAr', 'foo,,,,,              bar, ::1/64', true],
    ['www.example.com', 'foo, .example.com', true],
    ['www.example.com', 'www2.example.com, .example.net', false],
    ['example.com', '.example.com, .example.net', true],
    ['nonexample.com', '.example.com, .example.net', false],
  ];
  for (const [host, noProxy, expected] of table) {
    it(`${host} in ${JSON.stringify(noProxy.length > 60 ? `${noProxy.slice(0, 60)}…` : noProxy)}: ${expected}`, () => {
      assert.equal(bypassesProxy(url(host), noProxy), expected);
    });
  }
  it('CIDR prefixes (Curl_cidr4_match / Curl_cidr6_match cases)', () => {
    assert.equal(bypassesProxy(url('192.160.0.1'), '192.160.0.1/33'), false, 'more than 32 bits');
    for (const bits of [32, 26, 24, 20, 18, 12, 8])
      assert.equal(bypassesProxy(url('192.160.0.1'), `192.160.0.1/${bits}`), true, `/${bits}`);
    assert.equal(bypassesProxy(url('192.160.0.1'), '10.0.0.1/8'), false);
    assert.equal(bypassesProxy(url('192.160.0.1'), '10.0.0.1/32'), false);
    assert.equal(bypassesProxy(url('[::1]'), '::1/128'), true);
    assert.equal(bypassesProxy(url('[::1]'), '0:0::1/128'), true);
    assert.equal(bypassesProxy(url('[::1]'), '0:0::1/129'), false, 'more than 128 bits');
    assert.equal(bypassesProxy(url('[fe80::ab47:4396:55c9:8474]'), 'fe80::ab47:4396:55c9:8474/64'), true);
  });
});

describe('NO_PROXY: curl documentation and the rest of the semantics', () => {
  it('a name matches itself and the names below it, with or without a leading dot, any port', () => {
    // "local.com would match local.com, local.com:80, and www.local.com, but not www.notlocal.com"
    for (const [h, port] of [
      ['local.com', ''],
      ['local.com', '80'],
      ['www.local.com', ''],
      ['www.local.com', '8443'],
    ] as const)
      assert.equal(bypassesProxy(url(h, 'http', port), 'local.com'), true, `${h}:${port}`);
    assert.equal(bypassesProxy(url('www.notlocal.com'), 'local.com'), false);
    assert.equal(bypassesProxy(url('local.com.othertld'), 'local.com'), false);
    assert.equal(bypassesProxy(url('foo.example.com'), '.example.com'), true);
  });

  it('`*` alone bypasses every host; inside a list it is an ordinary (never matching) name', () => {
    assert.equal(bypassesProxy(url('anything.example'), '*'), true);
    assert.equal(bypassesProxy(url('[2001:db8::1]', 'https'), ' * '), true);
    assert.equal(bypassesProxy(url('anything.example'), 'foo, *'), false);
    assert.equal(bypassesProxy(url('anything.example'), '*.example'), false, 'no globbing');
    assert.equal(bypassesProxy(url('anything.example'), ''), false);
    assert.equal(bypassesProxy(url('anything.example'), undefined), false);
  });

  it('an IP address matches only address entries, never a name or a textual suffix', () => {
    assert.equal(bypassesProxy(url('10.1.2.3'), '2.3'), false);
    assert.equal(bypassesProxy(url('10.1.2.3'), '.2.3'), false);
    assert.equal(bypassesProxy(url('10.1.2.3'), '10.0.0.0/8'), true);
    assert.equal(bypassesProxy(url('10.1.2.3'), '10.1.2.3/0'), true, '/0 is every address');
    assert.equal(bypassesProxy(url('10.1.2.3'), '10.1.2.03'), false, 'no leading zeros');
    assert.equal(bypassesProxy(url('10.1.2.3'), 'fe80::/10'), false, 'an IPv6 range for an IPv4 host');
    assert.equal(bypassesProxy(url('localhost'), '127.0.0.1'), false, 'no name resolution');
    // WHATWG URL normalizes other IPv4 spellings: 127.1 is 127.0.0.1.
    assert.equal(bypassesProxy(url('127.1'), '127.0.0.0/8'), true);
  });

  it('IPv6: bare (curl) and bracketed entries, ranges, any spelling of the same address', () => {
    for (const entry of ['::1', '[::1]', '0:0:0:0:0:0:0:1', '::1/128', '[::1]/128', '::/0'])
      assert.equal(bypassesProxy(url('[::1]'), entry), true, entry);
    assert.equal(bypassesProxy(url('[fe80::1]'), 'fe80::/10'), true);
    assert.equal(bypassesProxy(url('[fec0::1]'), 'fe80::/10'), false);
    assert.equal(bypassesProxy(url('[2001:db8:0:1::5]'), '2001:db8::/63'), true);
    assert.equal(bypassesProxy(url('[2001:db8:0:2::5]'), '2001:db8::/63'), false);
    assert.equal(bypassesProxy(url('[::ffff:10.0.0.1]'), '::ffff:10.0.0.0/120'), true, 'embedded IPv4');
    assert.equal(bypassesProxy(url('[::2]'), '::1'), false);
    assert.equal(bypassesProxy(url('[::1]'), '::1/abc'), false);
  });

  it('an entry with a port applies to that port only (the default port of the scheme counts)', () => {
    assert.equal(bypassesProxy(url('intranet.example.com', 'http', '8080'), 'example.com:8080'), true);
    assert.equal(bypassesProxy(url('intranet.example.com', 'http', '8081'), 'example.com:8080'), false);
    assert.equal(bypassesProxy(url('intranet.example.com', 'http'), 'intranet.example.com:80'), true);
    assert.equal(bypassesProxy(url('intranet.example.com', 'https'), 'intranet.example.com:80'), false);
    assert.equal(bypassesProxy(url('intranet.example.com', 'https'), 'intranet.example.com:443'), true);
    assert.equal(bypassesProxy(url('10.0.0.7', 'http', '3000'), '10.0.0.7:3000'), true);
    assert.equal(bypassesProxy(url('[::1]', 'https', '8443'), '[::1]:8443'), true);
    assert.equal(bypassesProxy(url('[::1]', 'https', '8444'), '[::1]:8443'), false);
  });

  it('separators: commas and blanks, any number of them', () => {
    assert.equal(bypassesProxy(url('b.example'), 'a.example b.example'), true);
    assert.equal(bypassesProxy(url('b.example'), ' ,\ta.example,\t b.example ,'), true);
  });
});

describe('NO_PROXY through proxyFor (either case of the variable, the option too)', () => {
  const saved = { lower: process.env['no_proxy'], upper: process.env['NO_PROXY'] };
  afterEach(() => {
    for (const [k, v] of [
      ['no_proxy', saved.lower],
      ['NO_PROXY', saved.upper],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  it('no_proxy wins over NO_PROXY, as curl reads the lower case first', () => {
    delete process.env['no_proxy'];
    process.env['NO_PROXY'] = '10.0.0.0/8';
    assert.equal(proxyFor(url('10.9.8.7'), 'http://proxy:3128'), undefined);
    process.env['no_proxy'] = 'other.example';
    assert.equal(proxyFor(url('10.9.8.7'), 'http://proxy:3128')?.host, 'proxy:3128');
    assert.equal(proxyFor(url('x.other.example'), 'http://proxy:3128'), undefined);
  });
});
