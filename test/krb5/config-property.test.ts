// Hostile krb5.conf text only ever yields a Krb5Config or a ConfigError: never another error
// class, never a hang. Runs PROPERTY_RUNS cases (CI: 100000), so each case stays tiny.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../src/errors.js';
import { parseConfig } from '../../src/krb5/config.js';
import { parseDuration, parseEnctypeList } from '../../src/krb5/config-values.js';
import { parseHostPort } from '../../src/krb5/locate.js';

import { anyChar, configCheck, configInput, special } from './config-fuzz-inputs.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);

describe('krb5.conf properties', () => {
  it('mutated and random configs give a Krb5Config or a ConfigError', () => {
    fc.assert(fc.property(configInput, configCheck), { numRuns: RUNS });
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
