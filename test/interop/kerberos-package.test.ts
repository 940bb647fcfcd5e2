// The drop-in as users install it: `npm pack` of spnego and packages/kerberos-compat, installed
// in a scratch project under the name `kerberos` (the alias `"kerberos": "npm:spnego-kerberos"`
// resolves to exactly this: the spnego-kerberos package in node_modules/kerberos), then
// `require('kerberos')` from CommonJS — and the real MongoDB driver's GSSAPI provider, which
// loads it that way, authenticating against a mongod double that relays the SASL payloads to
// Cyrus SASL's GSSAPI server (sasl-sample-server).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSampleServer, skipUnlessCyrusSample } from './helpers/cyrus-sample.js';
import { type MitRealm, run, skipUnlessMit, startMitRealm } from './helpers/mit-realm.js';
import { type MongodDouble, startMongodDouble } from './helpers/mongod-double.js';

const REALM = 'DROPIN.TEST';
const ROOT = resolve(import.meta.dirname, '../..');

function pack(dir: string, dest: string): string {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [info] = JSON.parse(out) as { filename: string }[];
  return join(dest, (info as { filename: string }).filename);
}

describe('spnego-kerberos installed as `kerberos`, loaded with require()', {
  skip: skipUnlessMit() || skipUnlessCyrusSample(),
}, () => {
  let realm: MitRealm;
  let mongod: MongodDouble;
  let project: string;
  let keytab: string;

  before(async () => {
    assert.ok(
      existsSync(join(ROOT, 'dist', 'kerberos.cjs')),
      'run `npm run build` first: the tarball packs dist/',
    );
    realm = await startMitRealm({
      realm: REALM,
      enctypes: ['aes256-cts-hmac-sha1-96:normal'],
      principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'ldap/localhost' }],
    });
    keytab = await realm.keytab('ldap/localhost');
    await realm.kinit('alice', 'alice-pw', realm.ccache);
    // The driver sends its username as the authorization identity: `-u REALM` makes Cyrus
    // canonicalize alice@REALM and the authenticated alice to the same user, as mongod does.
    mongod = await startMongodDouble(() =>
      openSampleServer(
        ['-s', 'ldap', '-d', 'localhost', '-u', REALM],
        { ...realm.env, KRB5_KTNAME: `FILE:${keytab}` },
        realm.dir,
      ),
    );

    project = join(realm.dir, 'app');
    mkdirSync(project, { recursive: true });
    const spnegoTgz = pack(ROOT, project);
    const compatTgz = pack(join(ROOT, 'packages', 'kerberos-compat'), project);
    const mongodbVersion = (
      JSON.parse(readFileSync(join(ROOT, 'node_modules', 'mongodb', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'app',
        private: true,
        dependencies: {
          kerberos: `file:./${compatTgz.slice(project.length + 1)}`,
          spnego: `file:./${spnegoTgz.slice(project.length + 1)}`,
          mongodb: mongodbVersion,
        },
      }),
    );
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: project,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    });
  });
  after(async () => {
    await mongod?.stop();
    await realm?.stop();
  });

  const node = async (script: string, args: string[] = []) => {
    const file = join(project, `script-${Math.random().toString(36).slice(2)}.cjs`);
    writeFileSync(file, script);
    const r = await run(process.execPath, [file, ...args], {
      cwd: project,
      env: { ...realm.env, KRB5_KTNAME: `FILE:${keytab}` },
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  };

  it("require('kerberos') is spnego's kerberos@7 API, and so is import('kerberos')", async () => {
    const out = await node(`
      const k = require('kerberos');
      const pkg = require('kerberos/package.json');
      (async () => {
        const esm = await import('kerberos');
        const client = await k.initializeClient('ldap@localhost');
        const server = await k.initializeServer('ldap@localhost');
        await client.step(await server.step(await client.step('')));
        console.log(JSON.stringify({
          name: pkg.name,
          keys: Object.keys(k).sort(),
          sameApi: esm.initializeClient === k.initializeClient,
          version: k.version,
          user: client.username,
          server: server.username,
          complete: client.contextComplete,
        }));
      })().catch((e) => { console.error(e); process.exit(1); });
    `);
    assert.equal(out['name'], 'spnego-kerberos');
    for (const n of [
      'initializeClient',
      'initializeServer',
      'checkPassword',
      'principalDetails',
      'GSS_C_MUTUAL_FLAG',
      'version',
    ])
      assert.ok((out['keys'] as string[]).includes(n), n);
    assert.equal(out['sameApi'], true);
    assert.equal(out['user'], `alice@${REALM}`);
    assert.equal(out['server'], `alice@${REALM}`);
    assert.equal(out['complete'], true);
  });

  it("the MongoDB driver's GSSAPI provider authenticates through require('kerberos') to a real Cyrus SASL server", async () => {
    const user = encodeURIComponent(`alice@${REALM}`);
    const url =
      `mongodb://${user}@127.0.0.1:${mongod.port}/?authMechanism=GSSAPI&authSource=%24external` +
      '&authMechanismProperties=SERVICE_NAME:ldap,SERVICE_HOST:localhost&directConnection=true&serverSelectionTimeoutMS=10000';
    const out = await node(
      `
      const { MongoClient } = require('mongodb');
      (async () => {
        const client = new MongoClient(process.argv[2]);
        try {
          await client.connect();
          const status = await client.db('admin').command({ connectionStatus: 1 });
          console.log(JSON.stringify({ ok: true, users: status.authInfo.authenticatedUsers }));
        } catch (e) {
          console.log(JSON.stringify({ ok: false, error: String(e && e.message), cause: String(e && e.cause && e.cause.message) }));
        } finally {
          await client.close().catch(() => {});
        }
      })();
    `,
      [url],
    );
    assert.equal(out['ok'], true, JSON.stringify(out));
    assert.deepEqual(out['users'], [{ user: `alice@${REALM}`, db: '$external' }]);
    assert.deepEqual(
      mongod.commands.filter((c) => c.startsWith('sasl')),
      ['saslStart', 'saslContinue', 'saslContinue'],
    );
  });
});
