// Value syntaxes of krb5.conf as MIT reads them: booleans (profile_parse_boolean), durations
// (krb5_string_to_deltat, MIT's "Time duration" format), integers and enctype lists
// (kdc.conf(5) "Encryption types"). Each returns undefined on a value MIT would reject; the
// caller turns that into a ConfigError naming the file and line.
import { expandEnctypeName, isEnctypeWeak } from '../crypto/index.js';

const TRUE_WORDS = new Set(['y', 'yes', 'true', 't', '1', 'on']);
const FALSE_WORDS = new Set(['n', 'no', 'false', 'nil', '0', 'off']);

export function parseBoolean(s: string): boolean | undefined {
  const w = s.trim().toLowerCase();
  if (TRUE_WORDS.has(w)) return true;
  if (FALSE_WORDS.has(w)) return false;
  return undefined;
}

/** MIT profile integers (strtol base 0): decimal, 0x hex or leading-0 octal, optional sign. */
export function parseInteger(s: string): number | undefined {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\s*$/.exec(s);
  if (m === null) return undefined;
  const body = m[2] as string;
  const n =
    body.length > 1 && body.startsWith('0')
      ? /^0[xX]/.test(body)
        ? Number.parseInt(body.slice(2), 16)
        : Number.parseInt(body.slice(1), 8)
      : Number.parseInt(body, 10);
  const v = m[1] === '-' ? -n : n;
  // MIT stores these in a C int.
  return v >= -2147483648 && v <= 2147483647 ? v : undefined;
}

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;
const UNIT: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 };

function inRange(n: number): boolean {
  return n >= INT32_MIN && n <= INT32_MAX;
}

/**
 * Seconds from an MIT duration: `N` (seconds), `NdNhNmNs` (each part optional, signed, in that
 * order, blanks allowed between parts, e.g. "1d 2h", "3d-1h"), or `[N-]h:mm[:ss]` ("36:00" is 36
 * hours, "42-13:42:47"). Like MIT, anything that would overflow a 32-bit signed int is rejected.
 */
export function parseDuration(s: string): number | undefined {
  const t = s.trim();
  if (t.length === 0 || t.length > 128) return undefined;
  const colon = /^([+-]?\d+-)?([+-]?\d+):(\d{1,2})(?::(\d{1,2}))?$/.exec(t);
  if (colon !== null) {
    const days = colon[1] === undefined ? 0 : Number(colon[1].slice(0, -1));
    const hours = Number(colon[2]);
    const mins = Number(colon[3]);
    const secs = colon[4] === undefined ? 0 : Number(colon[4]);
    if (mins > 59 || secs > 59) return undefined;
    return sumParts([days * 86400, hours * 3600, mins * 60, secs], [days, hours]);
  }
  if (/^[+-]?\d+$/.test(t)) {
    const n = Number(t);
    return inRange(n) && Math.abs(n) <= INT32_MAX ? n : undefined;
  }
  // Unit parts, strictly in d, h, m, s order, each at most once.
  const re = /\s*([+-]?\d+)\s*([dhms])/y;
  const parts: number[] = [];
  const raws: number[] = [];
  let lastRank = -1;
  let pos = 0;
  while (pos < t.length) {
    re.lastIndex = pos;
    const m = re.exec(t);
    if (m === null) return undefined;
    const unit = m[2] as string;
    const rank = 'dhms'.indexOf(unit);
    if (rank <= lastRank) return undefined;
    lastRank = rank;
    const n = Number(m[1]);
    raws.push(n);
    parts.push(n * (UNIT[unit] as number));
    pos = re.lastIndex;
  }
  return sumParts(parts, raws);
}

type DeltatToken =
  | { t: 'num'; v: number; digits: number }
  | { t: '-' | ':' | 'd' | 'h' | 'm' | 's' | 'ws' | 'end' };

const DELTAT_UNIT_RANK = 'dhms';

/**
 * A duration exactly as MIT's krb5_string_to_deltat reads it (checked against MIT 1.20), for
 * config values that parseDuration rejects. MIT stops at the first character that is not a digit,
 * `-`, `:`, `d`, `h`, `m`, `s` or a blank and uses what came before: "10hours" is 10h, "1day"
 * 1d, "1D" and "10x" are 1 and 10 seconds, "1.5h" is 1 second. Colon fields are one or two
 * digits with no 0..59 check ("1:60" is two hours), the days form needs seconds ("1-02:00:00").
 * No blank between a number and its unit, no `+`; blanks may trail a d, h or m part only.
 */
export function parseMitDeltat(s: string): number | undefined {
  if (s.length > 256) return undefined;
  const toks: DeltatToken[] = [];
  for (let i = 0; ; ) {
    const c = s.charAt(i);
    if (c >= '0' && c <= '9') {
      let j = i;
      while (j < s.length && s.charAt(j) >= '0' && s.charAt(j) <= '9') j++;
      const v = Number(s.slice(i, j));
      if (v > INT32_MAX) return undefined;
      toks.push({ t: 'num', v, digits: j - i });
      i = j;
    } else if (c !== '' && '-:dhms'.includes(c)) {
      toks.push({ t: c as '-' | ':' | 'd' | 'h' | 'm' | 's' });
      i++;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      i++;
      while (/^[ \t\n\v\f\r]$/.test(s.charAt(i))) i++;
      toks.push({ t: 'ws' });
    } else {
      toks.push({ t: 'end' });
      break;
    }
  }
  let p = 0;
  const peek = (): DeltatToken => toks[p] as DeltatToken;
  const wsnum = (): number | undefined => {
    const save = p;
    if (peek().t === 'ws') p++;
    const neg = peek().t === '-';
    if (neg) p++;
    const tk = peek();
    if (tk.t !== 'num') {
      p = save;
      return undefined;
    }
    p++;
    return neg ? -tk.v : tk.v;
  };
  const num2 = (): number | undefined => {
    const tk = peek();
    if (tk.t !== 'num' || tk.digits > 2) return undefined;
    p++;
    return tk.v;
  };
  const expect = (t: DeltatToken['t']): boolean => {
    if (peek().t !== t) return false;
    p++;
    return true;
  };
  const first = wsnum();
  if (first === undefined) return undefined;
  const lead = peek().t;
  if (lead === 'end') return first;
  if (lead === ':') {
    p++;
    const m = num2();
    if (m === undefined) return undefined;
    let sec = 0;
    if (expect(':')) {
      const v = num2();
      if (v === undefined) return undefined;
      sec = v;
    }
    if (peek().t !== 'end') return undefined;
    return sumParts([first * 3600, m * 60, sec], [first]);
  }
  if (lead === '-') {
    p++;
    const h = num2();
    if (h === undefined || !expect(':')) return undefined;
    const m = num2();
    if (m === undefined || !expect(':')) return undefined;
    const sec = num2();
    if (sec === undefined || peek().t !== 'end') return undefined;
    return sumParts([first * 86400, h * 3600, m * 60, sec], [first]);
  }
  let rank = DELTAT_UNIT_RANK.indexOf(lead);
  if (rank < 0) return undefined;
  p++;
  const parts = [first * (UNIT[lead] as number)];
  const raws = [first];
  while (peek().t !== 'end') {
    if (rank === 3) return undefined; // nothing may follow an `s` part
    const n = wsnum();
    if (n === undefined) {
      // Only blanks may trail a d, h or m part.
      return expect('ws') && peek().t === 'end' ? sumParts(parts, raws) : undefined;
    }
    const u = peek().t;
    const r = DELTAT_UNIT_RANK.indexOf(u);
    if (r <= rank) return undefined;
    rank = r;
    p++;
    parts.push(n * (UNIT[u] as number));
    raws.push(n);
  }
  return sumParts(parts, raws);
}

function sumParts(parts: readonly number[], raws: readonly number[]): number | undefined {
  if (raws.some((n) => Math.abs(n) > INT32_MAX)) return undefined;
  let total = 0;
  for (const p of parts) {
    if (!inRange(p)) return undefined;
    total += p;
    if (!inRange(total)) return undefined;
  }
  return total;
}

// Config text is untrusted: a word like `__proto__` or `constructor` must read as unknown, even
// if the name table is a plain object that would hand back a prototype member.
function expandWord(word: string): readonly number[] {
  if (!/^[A-Za-z0-9_-]+$/.test(word) || /^(__proto__|constructor|prototype)$/i.test(word)) return [];
  try {
    return expandEnctypeName(word);
  } catch {
    return [];
  }
}

export interface EnctypeListResult {
  ids: number[];
  /** Words that name no enctype or family: MIT ignores them; we report them. */
  unknown: string[];
}

/**
 * MIT's enctype list: words separated by blanks or commas; each a name, alias, family (`aes`,
 * `rc4`, ...) or `DEFAULT` (MIT's built-in list), optionally prefixed `+` (add, the default) or
 * `-` (remove). Duplicates keep their first position. Without allow_weak_crypto, weak enctypes
 * are dropped, as MIT does for default_tgs_enctypes, default_tkt_enctypes and permitted_enctypes.
 */
export function parseEnctypeList(s: string, allowWeak: boolean): EnctypeListResult {
  const ids: number[] = [];
  const unknown: string[] = [];
  for (const token of s.split(/[\s,]+/)) {
    if (token === '') continue;
    const remove = token.startsWith('-');
    const word = token.startsWith('-') || token.startsWith('+') ? token.slice(1) : token;
    const expanded = expandWord(word);
    if (expanded.length === 0) {
      unknown.push(word);
      continue;
    }
    for (const id of expanded) {
      const at = ids.indexOf(id);
      if (remove) {
        if (at >= 0) ids.splice(at, 1);
      } else if (at < 0 && (allowWeak || !isEnctypeWeak(id))) {
        ids.push(id);
      }
    }
  }
  return { ids, unknown };
}
