// RFC 7235 §4.1 challenge lists (`WWW-Authenticate`), as RFC 4559 §4 uses them:
//
//   WWW-Authenticate = 1#challenge
//   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param = token BWS "=" BWS ( token / quoted-string )
//   token68    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//
// Commas separate both challenges and auth-params, so after a comma we look ahead for
// `token BWS "="` to tell a parameter from the next scheme. A hand-written scanner, not a regex:
// every character is visited a bounded number of times (at most twice, by a look-ahead and the
// real scan), so a hostile megabyte-long header costs linear time. Malformed pieces are skipped
// up to the next comma, as browsers do, rather than failing the whole header.
import { SPNEGOExchangeError } from '../errors.js';
import { base64Decode } from '../spnego/base64.js';

export interface Challenge {
  /** As the server wrote it; compare case-insensitively (RFC 7235 §2.1). */
  scheme: string;
  token68?: string;
  /** auth-params in order, names lower-cased, quoted-string values unescaped. */
  params: Array<[string, string]>;
}

const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
const T68 = new Uint8Array(128);
for (const c of '-._~+/') T68[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) T68[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) T68[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) T68[c] = 1;

const isTchar = (c: number): boolean => c < 128 && TCHAR[c] === 1;
const isT68 = (c: number): boolean => c < 128 && T68[c] === 1;
const isWs = (c: number): boolean => c === 0x20 || c === 0x09;

class Scanner {
  i = 0;
  constructor(readonly s: string) {}
  get end(): boolean {
    return this.i >= this.s.length;
  }
  peek(): number {
    return this.s.charCodeAt(this.i);
  }
  skipWs(): void {
    while (this.i < this.s.length && isWs(this.s.charCodeAt(this.i))) this.i++;
  }
  token(): string {
    const start = this.i;
    while (this.i < this.s.length && isTchar(this.s.charCodeAt(this.i))) this.i++;
    return this.s.slice(start, this.i);
  }
  /**
   * Skips a malformed element: everything up to (not including) the next comma outside a
   * quoted-string. A comma inside quotes separates nothing (RFC 7230 §7 lists, §3.2.6), so a
   * `"a, Negotiate <token>"` in some junk must not come out as a challenge of its own. An
   * unterminated quoted-string runs to the end of the header.
   */
  recover(): void {
    const s = this.s;
    let j = this.i;
    while (j < s.length) {
      const c = s.charCodeAt(j);
      if (c === 0x2c) break;
      if (c === 0x22) {
        j++;
        while (j < s.length && s.charCodeAt(j) !== 0x22) j += s.charCodeAt(j) === 0x5c ? 2 : 1;
      }
      j++;
    }
    this.i = Math.min(j, s.length);
  }
  /** RFC 7230 §3.2.6 quoted-string, at an opening DQUOTE; undefined when unterminated. */
  quoted(): string | undefined {
    this.i++;
    let out = '';
    let from = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c === 0x22) {
        out += this.s.slice(from, this.i);
        this.i++;
        return out;
      }
      if (c === 0x5c && this.i + 1 < this.s.length) {
        out += this.s.slice(from, this.i);
        out += this.s[this.i + 1];
        this.i += 2;
        from = this.i;
      } else this.i++;
    }
    return undefined;
  }
  /** Looks past commas and whitespace for `token BWS "="`: the next auth-param, not a new scheme. */
  nextIsParam(): boolean {
    let j = this.i;
    const s = this.s;
    while (j < s.length && (isWs(s.charCodeAt(j)) || s.charCodeAt(j) === 0x2c)) j++;
    const start = j;
    while (j < s.length && isTchar(s.charCodeAt(j))) j++;
    if (j === start) return false;
    while (j < s.length && isWs(s.charCodeAt(j))) j++;
    return s.charCodeAt(j) === 0x3d;
  }
  skipSeparators(): void {
    while (this.i < this.s.length && (isWs(this.peek()) || this.peek() === 0x2c)) this.i++;
  }
}

/** A token68 here when followed only by whitespace then a comma or the end. */
function tryToken68(sc: Scanner): string | undefined {
  const s = sc.s;
  let j = sc.i;
  while (j < s.length && isT68(s.charCodeAt(j))) j++;
  if (j === sc.i) return undefined;
  while (j < s.length && s.charCodeAt(j) === 0x3d) j++;
  let k = j;
  while (k < s.length && isWs(s.charCodeAt(k))) k++;
  if (k < s.length && s.charCodeAt(k) !== 0x2c) return undefined;
  const t = s.slice(sc.i, j);
  sc.i = k;
  return t;
}

function parseParams(sc: Scanner, params: Array<[string, string]>): void {
  for (;;) {
    const name = sc.token();
    sc.skipWs();
    if (name === '' || sc.peek() !== 0x3d) {
      sc.recover();
      return;
    }
    sc.i++;
    sc.skipWs();
    let value: string | undefined;
    if (sc.peek() === 0x22) value = sc.quoted();
    else {
      value = sc.token();
      if (value === '') value = undefined;
    }
    if (value === undefined) {
      sc.recover();
      return;
    }
    params.push([name.toLowerCase(), value]);
    sc.skipWs();
    if (sc.end) return;
    if (sc.peek() !== 0x2c) {
      sc.recover();
      return;
    }
    if (!sc.nextIsParam()) return;
    sc.skipSeparators();
  }
}

/** Every challenge in a `WWW-Authenticate` value (several headers joined by commas are one list). */
export function parseChallenges(value: string): Challenge[] {
  const out: Challenge[] = [];
  const sc = new Scanner(value);
  for (;;) {
    sc.skipSeparators();
    if (sc.end) return out;
    const scheme = sc.token();
    // Not a tchar, whitespace or comma: recover() moves past it (and past a whole quoted-string).
    if (scheme === '') {
      sc.recover();
      continue;
    }
    if (sc.end || sc.peek() === 0x2c) {
      out.push({ scheme, params: [] });
      continue;
    }
    if (!isWs(sc.peek())) {
      // `scheme=...` is a stray auth-param (e.g. after a token68 challenge), never a challenge:
      // a challenge needs 1*SP after its scheme. Other junk glued to a name still names a scheme.
      if (sc.peek() !== 0x3d) out.push({ scheme, params: [] });
      sc.recover();
      continue;
    }
    sc.skipWs();
    // `scheme BWS "=" ...` is likewise an auth-param: no token68 or auth-param starts with "=".
    if (!sc.end && sc.peek() === 0x3d) {
      sc.recover();
      continue;
    }
    const challenge: Challenge = { scheme, params: [] };
    out.push(challenge);
    if (sc.end || sc.peek() === 0x2c) continue;
    const t68 = tryToken68(sc);
    if (t68 !== undefined) challenge.token68 = t68;
    else parseParams(sc, challenge.params);
  }
}

export interface NegotiateOffer {
  /** The server offers Negotiate at all. */
  offered: boolean;
  /** The server's token (a continuation or the final AP-REP), when one came. */
  token?: Uint8Array;
}

/**
 * What a response says about Negotiate. Several Negotiate challenges carrying different tokens
 * are refused: we would not know which one to trust for mutual authentication.
 */
export function negotiateOffer(headerValue: string | null | undefined): NegotiateOffer {
  if (!headerValue) return { offered: false };
  let offered = false;
  let token: string | undefined;
  for (const c of parseChallenges(headerValue)) {
    if (c.scheme.toLowerCase() !== 'negotiate') continue;
    offered = true;
    if (c.token68 === undefined) continue;
    if (token !== undefined && token !== c.token68) {
      throw new SPNEGOExchangeError(
        'AMBIGUOUS_CHALLENGE',
        'the server sent several different Negotiate tokens',
        {
          hint: 'something between us and the server may be adding WWW-Authenticate headers',
        },
      );
    }
    token = c.token68;
  }
  return token === undefined ? { offered } : { offered, token: base64Decode(token) };
}
