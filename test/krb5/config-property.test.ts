// Hostile krb5.conf text only ever yields a Krb5Config or a ConfigError: never another error
// class, never a hang. Runs PROPERTY_RUNS cases (CI: 100000), so each case stays tiny.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../src/errors.js';
import { parseConfig } from '../../src/krb5/config.js';
import { parseDuration, parseEnctypeList } from '../../src/krb5/config-values.js';
import { parseHostPort } from '../../src/krb5/locate.js';
import { realmOfHost } from '../../src/krb5/realm-of-host.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);

const seeds = [
  readFileSync(new URL('../vectors/krb5conf/mit-sample.conf', import.meta.url), 'utf8'),
  readFileSync(new URL('../vectors/krb5conf/nersc-capaths.conf', import.meta.url), 'utf8'),
  `[libdefaults]
  default_realm = EXAMPLE.COM
  ticket_lifetime = 10h
  renew_lifetime = 7d
  forwardable = true
  permitted_enctypes = DEFAULT -des3
  udp_preference_limit = 1
  EXAMPLE.COM = {
    forwardable = false
  }
[realms]*
  EXAMPLE.COM = {
    kdc = [::1]:88
    kdc* = kdc.example.com:750
  }*
[domain_realm]
  .example.com = EXAMPLE.COM
  q = "quoted \\" value"
`,
];

// Characters that steer the parser: structure, quoting, comments, final markers, line ends.
const special = fc.constantFrom(
  '[',
  ']',
  '{',
  '}',
  '=',
  '*',
  '"',
  '\\',
  '#',
  ';',
  '\n',
  '\r',
  ' ',
  '\t',
  ':',
  '-',
  '+',
  'include ',
  'd',
  'h',
  '0',
  '9',
  '\u0000',
  '\u00e9',
);

const anyChar = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });

const edit = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), s: special }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('dupLine' as const), at: fc.nat() }),
);
type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

function apply(text: string, e: Edit): string {
  const at = text.length === 0 ? 0 : e.at % text.length;
  switch (e.kind) {
    case 'insert':
      return text.slice(0, at) + e.s + text.slice(at);
    case 'delete':
      return text.slice(0, at) + text.slice(at + e.len);
    case 'truncate':
      return text.slice(0, at);
    case 'dupLine': {
      const start = text.lastIndexOf('\n', at) + 1;
      const end = text.indexOf('\n', at);
      const line = text.slice(start, end < 0 ? text.length : end + 1);
      return text.slice(0, start) + line + text.slice(start);
    }
  }
}

const input = fc.oneof(
  { arbitrary: fc.string({ maxLength: 200, unit: fc.oneof(special, anyChar) }), weight: 1 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 5 }))
      .map(([s, es]) => es.reduce(apply, s)),
    weight: 3,
  },
);

function onlyConfigErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return;
    throw new Error(`threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
}

describe('krb5.conf properties', () => {
  it('mutated and random configs give a Krb5Config or a ConfigError', () => {
    fc.assert(
      fc.property(input, (text) => {
        onlyConfigErrors(() => {
          const c = parseConfig(text, { path: 'fuzz.conf' });
          for (const r of c.realms.keys()) c.libdefaultsFor(r);
          realmOfHost('www.example.com', c);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('a self-including file stops at the depth bound with a ConfigError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), (copies) => {
        const text = `[a]\nk = v\n${'include /self\n'.repeat(copies)}`;
        let parses = 0;
        assert.throws(
          () =>
            parseConfig(text, {
              path: '/self',
              resolveInclude: () => {
                parses++;
                if (parses > 5000) throw new ConfigError('CONFIG_TOO_LARGE', 'fan-out');
                return [{ path: '/self', text }];
              },
            }),
          (e: unknown) => e instanceof ConfigError,
        );
      }),
      { numRuns: Math.min(RUNS, 50) },
    );
  });

  it('value parsers never throw', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40, unit: fc.oneof(special, anyChar) }), (s) => {
        const d = parseDuration(s);
        assert.ok(d === undefined || (Number.isInteger(d) && d >= -2147483648 && d <= 2147483647));
        const l = parseEnctypeList(s, false);
        assert.equal(new Set(l.ids).size, l.ids.length);
        const hp = parseHostPort(s, 88);
        assert.ok(hp === undefined || (hp.port >= 1 && hp.port <= 65535 && hp.host !== ''));
      }),
      { numRuns: RUNS },
    );
  });

  it('written relations read back in order', () => {
    const word = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/);
    const value = fc.stringMatching(/^[A-Za-z0-9_.:/ -]{0,20}$/).map((v) => v.trim());
    fc.assert(
      fc.property(fc.array(fc.tuple(word, value), { maxLength: 12 }), (pairs) => {
        const text = `[s]\n${pairs.map(([k, v]) => `  ${k} = "${v}"\n`).join('')}`;
        const p = parseConfig(text).profile;
        for (const [k] of pairs) {
          assert.deepEqual(
            p.getAll(['s', k]),
            pairs.filter(([k2]) => k2 === k).map(([, v]) => v),
          );
        }
      }),
      { numRuns: Math.min(RUNS, 2000) },
    );
  });
});
