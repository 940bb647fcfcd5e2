// Command-line parsing as POSIX/GNU getopt does it for MIT's tools: short flags combine (`-kt
// KEYTAB`), a short option's value may be attached (`-l1d`, `-XPUT`), `--` ends the options,
// long options take `--name value` or `--name=value`, and operands may come between options.

export interface OptSpec {
  /** Short options without a value, e.g. `'kifFpPCEV'`. */
  flags: string;
  /** Short options that take a value, e.g. `'tclr'`. */
  withValue: string;
  /** Long options (without the `--`): true when the option takes a value. */
  long?: Readonly<Record<string, boolean>>;
}

/** One option as given: `name` is `-k` or `--json`; `value` is set for options that take one. */
export interface Opt {
  name: string;
  value?: string;
}

export type GetoptResult = { ok: true; opts: Opt[]; operands: string[] } | { ok: false; message: string };

export function getopt(argv: readonly string[], spec: OptSpec): GetoptResult {
  const opts: Opt[] = [];
  const operands: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const takes =
        spec.long === undefined ? undefined : Object.hasOwn(spec.long, name) ? spec.long[name] : undefined;
      if (takes === undefined) return { ok: false, message: `unrecognized option '--${name}'` };
      if (!takes) {
        if (eq >= 0) return { ok: false, message: `option '--${name}' doesn't allow an argument` };
        opts.push({ name: `--${name}` });
        continue;
      }
      if (eq >= 0) {
        opts.push({ name: `--${name}`, value: arg.slice(eq + 1) });
        continue;
      }
      const value = argv[i + 1];
      if (value === undefined) return { ok: false, message: `option '--${name}' requires an argument` };
      i++;
      opts.push({ name: `--${name}`, value });
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      operands.push(arg);
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const c = arg[j] as string;
      if (spec.flags.includes(c)) {
        opts.push({ name: `-${c}` });
        continue;
      }
      if (!spec.withValue.includes(c)) return { ok: false, message: `invalid option -- '${c}'` };
      let value: string | undefined = arg.slice(j + 1);
      if (value === '') {
        value = argv[i + 1];
        if (value === undefined) return { ok: false, message: `option requires an argument -- '${c}'` };
        i++;
      }
      opts.push({ name: `-${c}`, value });
      break;
    }
  }
  return { ok: true, opts, operands };
}
