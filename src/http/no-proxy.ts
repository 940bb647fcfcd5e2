// NO_PROXY as curl reads it (curl's CURLOPT_NOPROXY and `--noproxy` documentation; lib/noproxy.c
// since 7.86): entries separated by commas and/or blanks; the value `*` alone bypasses the proxy
// for every host; a name matches itself and every name below it (`example.com` and
// `.example.com` both match `www.example.com`, never `notexample.com`), without regard to case or
// a trailing dot; an IP address matches only an address entry, optionally in CIDR notation
// (`192.168.0.0/16`, `fe80::/10`), never as text. A host's port is ignored by an entry without one.
//
// Two extensions where curl has no answer (it never matches such entries): an IPv6 entry may be
// written in brackets (`[::1]`, as in a URL), and an entry with a port (`host:8080`,
// `[::1]:8080`) applies to that port only, as Go's httpproxy and Python's urllib read it.

type Host = { kind: 'name'; name: string } | { kind: 'ip'; bytes: Uint8Array };

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4(text: string): Uint8Array | undefined {
  const m = IPV4.exec(text);
  if (m === null) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = m[i + 1] as string;
    const n = Number(part);
    // inet_pton: decimal only, 0-255, no leading zeros (which some parsers read as octal).
    if (n > 255 || (part.length > 1 && part.startsWith('0'))) return undefined;
    out[i] = n;
  }
  return out;
}

function ipv6(text: string): Uint8Array | undefined {
  if (!text.includes(':') || !/^[0-9a-f:.]+$/i.test(text) || text.length > 45) return undefined;
  let canonical: string;
  try {
    // The WHATWG URL parser validates an IPv6 address and serializes it in hex groups with at
    // most one `::` (RFC 5952), embedded IPv4 included: what is left is easy to expand.
    canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [head = '', tail] = canonical.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** The leading `bits` bits of `a` and `b` agree. */
function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (((a[whole] as number) ^ (b[whole] as number)) & mask) === 0;
}

function hostOfUrl(url: URL): Host {
  const h = url.hostname.toLowerCase();
  if (h.startsWith('[')) {
    const bytes = ipv6(h.slice(1, -1));
    if (bytes) return { kind: 'ip', bytes };
  }
  const v4 = ipv4(h);
  if (v4) return { kind: 'ip', bytes: v4 };
  return { kind: 'name', name: h.endsWith('.') ? h.slice(0, -1) : h };
}

const DEFAULT_PORT: Record<string, string> = { 'http:': '80', 'https:': '443' };

/** One entry: its host part and, when written, its port. */
function splitEntry(entry: string): { host: string; port: string | undefined } {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) return { host: entry, port: undefined };
    const after = entry.slice(close + 1);
    // `[::1]:8080`, or `[fe80::]/10` with the prefix length outside the brackets.
    if (after.startsWith(':')) return { host: entry.slice(1, close), port: after.slice(1) };
    return { host: entry.slice(1, close) + after, port: undefined };
  }
  const colons = entry.split(':').length - 1;
  // Two or more colons: a bare IPv6 address (curl's spelling), which has no port.
  if (colons !== 1) return { host: entry, port: undefined };
  const at = entry.indexOf(':');
  return { host: entry.slice(0, at), port: entry.slice(at + 1) };
}

function matchesEntry(host: Host, port: string, rawEntry: string): boolean {
  const entry = splitEntry(rawEntry);
  if (entry.port !== undefined && entry.port !== port) return false;
  if (host.kind === 'name') {
    let name = entry.host;
    if (name.endsWith('.')) name = name.slice(0, -1);
    if (name.startsWith('.')) name = name.slice(1);
    if (name === '') return false;
    return host.name === name || host.name.endsWith(`.${name}`);
  }
  const slash = entry.host.indexOf('/');
  const address = slash < 0 ? entry.host : entry.host.slice(0, slash);
  const net = host.bytes.length === 4 ? ipv4(address) : ipv6(address);
  if (net === undefined) return false;
  const max = net.length * 8;
  let bits = max;
  if (slash >= 0) {
    const b = entry.host.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b)) return false;
    bits = Number(b);
    if (bits > max) return false;
  }
  return samePrefix(host.bytes, net, bits);
}

/** True when NO_PROXY (`noProxy`) says `url` goes direct. */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  const list = noProxy.trim();
  if (list === '') return false;
  if (list === '*') return true;
  const host = hostOfUrl(url);
  const port = url.port === '' ? (DEFAULT_PORT[url.protocol] ?? '') : url.port;
  for (const entry of list.toLowerCase().split(/[\s,]+/)) {
    if (entry !== '' && matchesEntry(host, port, entry)) return true;
  }
  return false;
}
