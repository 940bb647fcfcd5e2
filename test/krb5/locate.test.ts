import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { parseConfig } from '../../src/krb5/config.js';
import { locateKdcs, orderSrv, parseHostPort } from '../../src/krb5/locate.js';
import type { DnsResolver, SrvRecord } from '../../src/runtime/dns.js';

function fakeDns(records: Record<string, SrvRecord[] | Error>): DnsResolver & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async resolveSrv(name) {
      asked.push(name);
      const r = records[name];
      if (r instanceof Error) throw r;
      return r ?? [];
    },
    async resolveTxt() {
      return [];
    },
  };
}

const srv = (name: string, port: number, priority: number, weight: number): SrvRecord => ({
  name,
  port,
  priority,
  weight,
});

describe('parseHostPort (MIT kdc syntax)', () => {
  it('host, host:port, [v6], [v6]:port, bare v6', () => {
    assert.deepEqual(parseHostPort('kdc.example.com', 88), {
      host: 'kdc.example.com',
      port: 88,
      transport: 'any',
    });
    assert.deepEqual(parseHostPort(' kdc:750 ', 88), { host: 'kdc', port: 750, transport: 'any' });
    assert.deepEqual(parseHostPort('[2001:db8::1]:8888', 88), {
      host: '2001:db8::1',
      port: 8888,
      transport: 'any',
    });
    assert.deepEqual(parseHostPort('[::1]', 88), { host: '::1', port: 88, transport: 'any' });
    assert.deepEqual(parseHostPort('2001:db8::1', 88), { host: '2001:db8::1', port: 88, transport: 'any' });
    assert.deepEqual(parseHostPort('127.0.0.1:61000', 88), {
      host: '127.0.0.1',
      port: 61000,
      transport: 'any',
    });
  });
  it("Heimdal's tcp/ and udp/ prefixes", () => {
    assert.deepEqual(parseHostPort('tcp/kdc:89', 88), { host: 'kdc', port: 89, transport: 'tcp' });
    assert.deepEqual(parseHostPort('UDP/kdc', 88), { host: 'kdc', port: 88, transport: 'udp' });
  });
  it('rejects bad ports and empty hosts', () => {
    for (const bad of ['kdc:', 'kdc:0', 'kdc:65536', 'kdc:8x', ':88', '[::1', '[::1]x', '[]:88', 'a b']) {
      assert.equal(parseHostPort(bad, 88), undefined, bad);
    }
  });
});

describe('locateKdcs', () => {
  it('uses the realm kdc lines, in order, and never DNS then', async () => {
    const c = parseConfig('[realms]\nR = {\n kdc = a\n kdc = b:750\n kdc = [::1]:89\n kdc = tcp/c\n}\n');
    const dns = fakeDns({});
    assert.deepEqual(await locateKdcs('R', c, { dns }), [
      { host: 'a', port: 88, transport: 'any', source: 'config' },
      { host: 'b', port: 750, transport: 'any', source: 'config' },
      { host: '::1', port: 89, transport: 'any', source: 'config' },
      { host: 'c', port: 88, transport: 'tcp', source: 'config' },
    ]);
    assert.deepEqual(dns.asked, []);
  });

  it('a malformed kdc line is CONFIG_VALUE with file:line', async () => {
    const c = parseConfig('[realms]\nR = {\n kdc = a:notaport\n}\n', { path: 'k.conf' });
    await assert.rejects(
      locateKdcs('R', c, { dns: fakeDns({}) }),
      (e: unknown) =>
        e instanceof ConfigError && e.code === 'CONFIG_VALUE' && e.message.startsWith('k.conf:3:'),
    );
  });

  it('falls back to SRV records: UDP then TCP, or TCP first when preferred', async () => {
    const c = parseConfig('');
    const dns = fakeDns({
      '_kerberos._udp.EX.ORG': [srv('u1.ex.org.', 88, 0, 0)],
      '_kerberos._tcp.EX.ORG': [srv('t2.ex.org', 8888, 20, 0), srv('t1.ex.org', 88, 10, 0)],
    });
    assert.deepEqual(await locateKdcs('EX.ORG', c, { dns }), [
      { host: 'u1.ex.org', port: 88, transport: 'udp', source: 'dns' },
      { host: 't1.ex.org', port: 88, transport: 'tcp', source: 'dns' },
      { host: 't2.ex.org', port: 8888, transport: 'tcp', source: 'dns' },
    ]);
    const tcpFirst = await locateKdcs('EX.ORG', c, { dns, preferTcp: true });
    assert.deepEqual(
      tcpFirst.map((k) => k.host),
      ['t1.ex.org', 't2.ex.org', 'u1.ex.org'],
    );
  });

  it('no KDC: NO_KDC_FOR_REALM with a hint naming the realm', async () => {
    const off = parseConfig('[libdefaults]\ndns_lookup_kdc = false\n');
    const dns = fakeDns({ '_kerberos._udp.R': [srv('x', 88, 0, 0)] });
    await assert.rejects(
      locateKdcs('R', off, { dns }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.code === 'NO_KDC_FOR_REALM' &&
        /kdc = /.test(e.hint ?? '') &&
        (e.hint ?? '').includes('R = {'),
    );
    assert.deepEqual(dns.asked, []);
    const failing = fakeDns({
      '_kerberos._udp.R': new Error('SERVFAIL'),
      '_kerberos._tcp.R': [srv('.', 0, 0, 0)],
    });
    await assert.rejects(
      locateKdcs('R', parseConfig(''), { dns: failing }),
      (e: unknown) => e instanceof ConfigError && e.code === 'NO_KDC_FOR_REALM' && /SERVFAIL/.test(e.message),
    );
  });

  it('socket-path kdc lines are skipped (we cannot reach them); an https line is a KDC proxy', async () => {
    const c = parseConfig(
      '[libdefaults]\ndns_lookup_kdc = false\n[realms]\nR = {\n kdc = /var/run/kdc.sock\n}\n',
    );
    await assert.rejects(
      locateKdcs('R', c, { dns: fakeDns({}) }),
      (e: unknown) => e instanceof ConfigError && e.code === 'NO_KDC_FOR_REALM',
    );
    const p = parseConfig(
      '[libdefaults]\ndns_lookup_kdc = false\n[realms]\nR = {\n kdc = https://proxy/KdcProxy\n kdc = /var/run/kdc.sock\n}\n',
    );
    assert.deepEqual(await locateKdcs('R', p, { dns: fakeDns({}) }), [
      { host: 'proxy', port: 443, transport: 'https', path: 'KdcProxy', source: 'config' },
    ]);
  });
});

describe('orderSrv (RFC 2782)', () => {
  it('a lone "." target means no service', () => {
    assert.deepEqual(orderSrv([srv('.', 88, 0, 0)]), []);
    assert.deepEqual(orderSrv([srv('', 88, 0, 0)]), []);
  });

  it('orders by priority, and by weighted draw within a priority', () => {
    const recs = [srv('c', 88, 5, 0), srv('a', 88, 1, 10), srv('b', 88, 1, 90)];
    // draw 0 of 101 → first record with running sum >= 0: the first in the group, 'a'.
    assert.deepEqual(
      orderSrv(recs, () => 0).map((r) => r.name),
      ['a', 'b', 'c'],
    );
    // draw 100 of 101 → only 'b' reaches it.
    assert.deepEqual(
      orderSrv(recs, () => 0.999).map((r) => r.name),
      ['b', 'a', 'c'],
    );
  });

  it('weights steer the first pick proportionally', () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const recs = [srv('light', 88, 0, 10), srv('heavy', 88, 0, 90)];
    let heavyFirst = 0;
    const runs = 2000;
    for (let i = 0; i < runs; i++) if (orderSrv(recs, random)[0]?.name === 'heavy') heavyFirst++;
    const share = heavyFirst / runs;
    assert.ok(share > 0.85 && share < 0.95, `heavy first ${share}`);
  });

  it('drops records with impossible ports', () => {
    assert.deepEqual(
      orderSrv([srv('a', 0, 0, 0), srv('b', 88, 0, 0)]).map((r) => r.name),
      ['b'],
    );
  });
});
