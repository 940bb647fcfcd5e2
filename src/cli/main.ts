#!/usr/bin/env node
// The `spnego` command.
import { VERSION } from '../version.js';
import type { CliIo } from './ccache-name.js';
import { curlCommand } from './curl.js';
import { demoCommand } from './demo.js';
import { kdestroyCommand } from './kdestroy.js';
import { kinitCommand } from './kinit.js';
import { klistCommand } from './klist.js';

const USAGE = `usage: spnego <command> [options]

commands:
  klist [-c CCACHE] [--json]     list the credentials in a ccache
  kdestroy [-c CCACHE]           destroy a ccache
  kinit [-k] [-t KEYTAB] [-c CCACHE] [-l LIFETIME] [-r RENEW] [-f] [PRINCIPAL]
  curl [-v] [...] URL            fetch a URL with HTTP Negotiate
  demo                           run the self-contained demo
`;

async function main(argv: string[]): Promise<number> {
  const [cmd] = argv;
  if (cmd === undefined) {
    // A usage error: the usage goes to stderr, as for an unknown command.
    process.stderr.write(USAGE);
    return 2;
  }
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cmd === '--version' || cmd === '-V') {
    process.stdout.write(`spnego ${VERSION}\n`);
    return 0;
  }
  const io: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };
  if (cmd === 'klist') return klistCommand(argv.slice(1), io);
  if (cmd === 'kdestroy') return kdestroyCommand(argv.slice(1), io);
  if (cmd === 'kinit') return kinitCommand(argv.slice(1), io);
  if (cmd === 'demo') return demoCommand(argv.slice(1), io);
  if (cmd === 'curl')
    return curlCommand(argv.slice(1), { ...io, stdoutBytes: (b) => process.stdout.write(b) });
  process.stderr.write(`spnego: unknown or not yet available command '${cmd}'\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`spnego: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
