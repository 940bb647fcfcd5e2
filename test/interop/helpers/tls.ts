// A throwaway certificate authority and a server certificate for `localhost` (and 127.0.0.1),
// made with the openssl command line in a temp dir: for https origins behind a test proxy.
// Clients trust it through NODE_EXTRA_CA_CERTS (read by Node at start: use a child process) or
// curl's --cacert.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './mit-realm.js';

export interface TestCa {
  /** PEM of the CA certificate. */
  caFile: string;
  /** PEM certificate and key of the server, for `localhost`. */
  certFile: string;
  keyFile: string;
}

async function openssl(args: string[], dir: string): Promise<void> {
  const r = await run('openssl', args, { cwd: dir });
  if (r.code !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

export async function makeTestCa(dir: string): Promise<TestCa> {
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const certFile = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      caKey,
      '-out',
      caFile,
      '-days',
      '2',
      '-subj',
      '/CN=spnego test CA',
    ],
    dir,
  );
  await openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', '/CN=localhost'],
    dir,
  );
  writeFileSync(
    ext,
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n',
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caFile,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-out',
      certFile,
      '-days',
      '2',
      '-extfile',
      ext,
    ],
    dir,
  );
  return { caFile, certFile, keyFile };
}
