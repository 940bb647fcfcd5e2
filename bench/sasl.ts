// `node --import tsx bench/sasl.ts`: SASL GSSAPI (RFC 4752) throughput and bind time, ours
// beside native MIT in one run, on one MIT realm.
// - wrap+unwrap per enctype (17, 18, 19, 20), integrity and confidentiality, 1 KiB and 64 KiB:
//   ours (spnego/sasl client.wrap → server.unwrap) beside MIT libgssapi_krb5 doing the same
//   gss_wrap + gss_unwrap in-process (python3-gssapi, the library the native addon calls); and
//   the native addon's own data path, `unwrap` (its `wrap` only ever wraps RFC 4752's 4-octet
//   message, so it cannot carry application data).
// - a full SASL bind to slapd (new connection, AP-REQ, AP-REP, layer negotiation) with a warm
//   service ticket: spnego/sasl beside the native addon driven as the MongoDB driver drives it.
//
// The native package is never a dependency: build it in a scratch dir (`apt-get install
// libkrb5-dev; cd /tmp/x && npm install kerberos@7`) and set KERBEROS_NATIVE_DIR to that dir.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { readKeytab } from '../src/ccache/keytab.js';
import { loadConfig } from '../src/krb5/config-load.js';
import { Credentials } from '../src/krb5/credentials.js';
import { ReplayCache } from '../src/krb5/gss/index.js';
import { createSaslClient, createSaslServer, type LayerName } from '../src/sasl/index.js';
import { bindRequest, LdapConnection, startSlapd } from '../test/interop/helpers/ldap.js';
import { startMitRealm } from '../test/interop/helpers/mit-realm.js';

const DURATION_MS = Number(process.env['BENCH_MS'] ?? 1500);
/** Interleaved rounds of the bind measurement (ours and native alternating), BENCH_MS in all per side. */
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const ENCTYPES: [number, string][] = [
  [17, 'aes128-cts-hmac-sha1-96'],
  [18, 'aes256-cts-hmac-sha1-96'],
  [19, 'aes128-cts-hmac-sha256-128'],
  [20, 'aes256-cts-hmac-sha384-192'],
];
const SIZES = [1024, 65536];

interface NativeClient {
  step(c: string): Promise<string>;
  unwrap(c: string): Promise<string>;
  wrap(c: string, o?: { user?: string; protect?: boolean }): Promise<string>;
}
interface NativeKerberos {
  initializeClient(service: string, options?: object): Promise<NativeClient>;
}

async function rate(one: () => unknown | Promise<unknown>, bytes: number): Promise<number> {
  for (let i = 0; i < 20; i++) await one();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < DURATION_MS) {
    await one();
    n++;
  }
  return (n * bytes) / ((performance.now() - start) / 1000) / 1e6;
}

/** Like rate(), timing only `use` over batches that `make` prepares untimed. */
async function rateBatched<T>(
  make: () => T[],
  use: (t: T) => Promise<unknown>,
  bytes: number,
): Promise<number> {
  for (const t of make()) await use(t);
  let n = 0;
  let timed = 0;
  while (timed < DURATION_MS) {
    const batch = make();
    const start = performance.now();
    for (const t of batch) await use(t);
    timed += performance.now() - start;
    n += batch.length;
  }
  return (n * bytes) / (timed / 1000) / 1e6;
}

const PY = `
import gssapi, os, sys, time
svc = gssapi.Name(sys.argv[1], gssapi.NameType.hostbased_service)
ini = gssapi.SecurityContext(name=svc, usage='initiate', flags=gssapi.RequirementFlag.mutual_authentication | gssapi.RequirementFlag.integrity | gssapi.RequirementFlag.confidentiality | gssapi.RequirementFlag.replay_detection | gssapi.RequirementFlag.out_of_sequence_detection)
acc = gssapi.SecurityContext(usage='accept')
t = ini.step()
t = acc.step(t)
ini.step(t)
dur = float(sys.argv[2]) / 1000
for conf in (False, True):
  for size in (1024, 65536):
    msg = os.urandom(size)
    for _ in range(20): acc.unwrap(ini.wrap(msg, conf).message)
    n = 0; start = time.perf_counter()
    while time.perf_counter() - start < dur:
      acc.unwrap(ini.wrap(msg, conf).message); n += 1
    print(conf, size, n * size / (time.perf_counter() - start) / 1e6, flush=True)
`;

const realm = await startMitRealm({
  realm: 'BENCH.TEST',
  enctypes: ENCTYPES.map(([, n]) => `${n}:normal`),
  principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'ldap/localhost' }],
});
const dir = process.env['KERBEROS_NATIVE_DIR'];
const native = dir ? (createRequire(join(dir, 'package.json'))('kerberos') as NativeKerberos) : undefined;
try {
  for (const [id, name] of ENCTYPES) await realm.kadmin(`addprinc -randkey -e ${name}:normal ldap/e${id}`);
  const keytab = await realm.keytab('ldap/localhost');
  for (const [id] of ENCTYPES) await realm.keytab(`ldap/e${id}`, keytab);
  await realm.kinit('alice', 'alice-pw');
  for (const [id] of ENCTYPES) await realm.kvno(`ldap/e${id}`);
  await realm.kvno('ldap/localhost');
  Object.assign(process.env, realm.env, { KRB5_KTNAME: `FILE:${keytab}` });
  const credentials = await Credentials.fromCcache(realm.ccache, {
    config: await loadConfig({ files: [realm.krb5ConfPath] }),
  });
  const kt = await readKeytab(keytab);

  console.log(
    'wrap+unwrap, MB/s of application data (ours | MIT libgssapi in-process | native addon unwrap only)',
  );
  for (const [id] of ENCTYPES) {
    const mit = new Map<string, number>();
    try {
      const out = execFileSync('/usr/bin/python3', ['-c', PY, `ldap@e${id}`, String(DURATION_MS)], {
        env: { ...process.env },
        encoding: 'utf8',
      });
      for (const line of out.trim().split('\n')) {
        const [conf, size, r] = line.split(' ');
        mit.set(`${conf === 'True' ? 'confidentiality' : 'integrity'}/${size}`, Number(r));
      }
    } catch (e) {
      console.log(
        `  (MIT via python3-gssapi unavailable: ${e instanceof Error ? e.message.split('\n')[0] : e})`,
      );
    }
    for (const layer of ['integrity', 'confidentiality'] as LayerName[]) {
      const client = createSaslClient({
        credentials,
        service: `ldap@e${id}`,
        layers: [layer],
        maxBufferSize: 0xffffff,
      });
      const server = createSaslServer({
        keytab: kt,
        replayCache: new ReplayCache(),
        maxBufferSize: 0xffffff,
      });
      let out = await server.step(await client.step());
      while (!out.complete) out = await server.step(await client.step(out.token));
      let nativeClient: NativeClient | undefined;
      let nativeServer: ReturnType<typeof createSaslServer> | undefined;
      if (native) {
        nativeClient = await native.initializeClient(`ldap@e${id}`, {});
        nativeServer = createSaslServer({
          keytab: kt,
          replayCache: new ReplayCache(),
          maxBufferSize: 0xffffff,
          layers: ['none'],
        });
        const rep = await nativeServer.step(Buffer.from(await nativeClient.step(''), 'base64'));
        await nativeClient.step(Buffer.from(rep.token ?? []).toString('base64'));
      }
      for (const size of SIZES) {
        const msg = new Uint8Array(size).map((_, i) => i);
        const ours = await rate(() => server.unwrap(client.wrap(msg)), size);
        let nat = '';
        if (nativeClient && nativeServer) {
          // The addon's data path: a token wrapped by its peer, unwrapped through its API.
          const ctx = (nativeServer as unknown as { context: { wrap(m: Uint8Array, o: object): Uint8Array } })
            .context;
          const nc = nativeClient;
          const r = await rateBatched(
            () =>
              Array.from({ length: 16 }, () =>
                Buffer.from(ctx.wrap(msg, { confidential: layer === 'confidentiality' })).toString('base64'),
              ),
            (t) => nc.unwrap(t),
            size,
          );
          nat = `${r.toFixed(1).padStart(8)}`;
        }
        const m = mit.get(`${layer}/${size}`);
        const ratio = m ? ` (${(ours / m).toFixed(2)}× MIT)` : '';
        console.log(
          `  enctype ${id} ${layer.padEnd(15)} ${String(size / 1024).padStart(2)} KiB: ours ${ours.toFixed(1).padStart(7)}${ratio.padEnd(13)} | MIT ${m ? m.toFixed(1).padStart(7) : '      -'} | addon unwrap ${nat || '       -'}`,
        );
      }
    }
  }

  // Full SASL bind to slapd with a warm ticket.
  const slapd = await startSlapd({
    dir: join(realm.dir, 'slapd'),
    realm: 'BENCH.TEST',
    keytab,
    env: realm.env,
    secprops: 'none',
  });
  try {
    const bindOurs = async () => {
      const conn = await LdapConnection.open(slapd.port);
      const c = createSaslClient({ credentials, service: 'ldap@localhost', layers: ['none'] });
      let resp: Uint8Array = await c.step();
      for (let id = 1; ; id++) {
        const r = await conn.request(bindRequest(id, 'GSSAPI', resp));
        if (r.resultCode !== 14) {
          if (r.resultCode !== 0) throw new Error(r.diagnostic);
          break;
        }
        resp = await c.step(r.saslCreds ?? new Uint8Array(0));
      }
      conn.close();
    };
    const bindNative = async () => {
      if (!native) return;
      const conn = await LdapConnection.open(slapd.port);
      const c = await native.initializeClient('ldap@localhost', {});
      const b64 = (s: string | null) => new Uint8Array(Buffer.from(s ?? '', 'base64'));
      let r = await conn.request(bindRequest(1, 'GSSAPI', b64(await c.step(''))));
      const next = (await c.step(Buffer.from(r.saslCreds ?? []).toString('base64'))) || '';
      r = await conn.request(bindRequest(2, 'GSSAPI', b64(next)));
      const offer = await c.unwrap(Buffer.from(r.saslCreds ?? []).toString('base64'));
      r = await conn.request(bindRequest(3, 'GSSAPI', b64(await c.wrap(offer, { user: '' }))));
      if (r.resultCode !== 0) throw new Error(r.diagnostic);
      conn.close();
    };
    // Interleaved rounds (ours, native, ours, ...), the median round of each: slapd's own state
    // (its replay cache grows with every bind) and the machine's load fall on both alike.
    const round = async (f: () => Promise<void>): Promise<number> => {
      let n = 0;
      const start = performance.now();
      while (performance.now() - start < DURATION_MS / ROUNDS) {
        await f();
        n++;
      }
      return (performance.now() - start) / n;
    };
    const median = (xs: number[]): number =>
      [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    for (let i = 0; i < 10; i++) {
      await bindOurs();
      await bindNative();
    }
    const rounds: { ours: number[]; nat: number[] } = { ours: [], nat: [] };
    for (let r = 0; r < ROUNDS; r++) {
      rounds.ours.push(await round(bindOurs));
      if (native) rounds.nat.push(await round(bindNative));
    }
    const ours = median(rounds.ours);
    const nat = native ? median(rounds.nat) : undefined;
    console.log(
      `SASL bind to slapd (warm ticket): ours ${ours.toFixed(2)} ms${nat ? `, native addon ${nat.toFixed(2)} ms (${(ours / nat).toFixed(2)}× native time)` : ''}`,
    );
  } finally {
    await slapd.stop();
  }
} finally {
  await realm.stop();
}
