// Hostile krb5.conf text: the inputs and check shared by the property tests (CI) and `npm run fuzz`.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { ConfigError } from '../../src/errors.js';
import { parseConfig } from '../../src/krb5/config.js';
import { realmOfHost } from '../../src/krb5/realm-of-host.js';

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
export const special = fc.constantFrom(
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

export const anyChar = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });

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

/** Random text of parser-steering characters, or a real krb5.conf with edits. */
export const configInput = fc.oneof(
  { arbitrary: fc.string({ maxLength: 200, unit: fc.oneof(special, anyChar) }), weight: 1 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 5 }))
      .map(([s, es]) => es.reduce(apply, s)),
    weight: 3,
  },
);

export function onlyConfigErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return;
    throw new Error(`threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
}

/** The check for one text: a Krb5Config (whose lookups also work) or a ConfigError. */
export function configCheck(text: string): void {
  onlyConfigErrors(() => {
    const c = parseConfig(text, { path: 'fuzz.conf' });
    for (const r of c.realms.keys()) c.libdefaultsFor(r);
    realmOfHost('www.example.com', c);
  });
}
