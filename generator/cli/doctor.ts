// `staticstreams doctor URL`: checks a deployed server the way LXD and Incus will use it, in
// seconds, without downloading images (`verify URL` is the full check that downloads everything).

import type { Command } from 'commander';
import { EXIT_INVALID, EXIT_OK, type Action } from './output.js';
import { printable } from '../util/printable.js';
import { UsageError } from '../util/errors.js';
import { count } from '../util/format.js';
import { loadKeyring } from './keyring.js';
import { extraIsSystemBundle } from '../util/system-ca.js';

export async function runDoctor(url: string, flags: { json?: boolean; timeout?: string; keyring?: string }): Promise<number> {
  const seconds = flags.timeout === undefined ? undefined : Number(flags.timeout);
  if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0))
    throw new UsageError(`--timeout must be a positive number of seconds, got "${flags.timeout}"`);
  // (pointing at the system's own bundle it adds nothing the clients do not trust: no note)
  if (process.env.NODE_EXTRA_CA_CERTS && !extraIsSystemBundle() && !flags.json)
    process.stderr.write(
      'note: NODE_EXTRA_CA_CERTS is set; doctor ignores it on purpose: LXD and Incus trust only the system CA store, so a certificate trusted only through that variable would pass here and fail for them (install the CA into the system store instead: /usr/local/share/ca-certificates + update-ca-certificates, then restart the daemon)\n',
    );
  const { doctor } = await import('../inspect/doctor.js');
  const keyring = flags.keyring ? await loadKeyring(flags.keyring) : undefined;
  const report = await doctor(url, { ...(seconds === undefined ? {} : { requestMs: seconds * 1000 }), ...(keyring ? { keyring } : {}) });
  const errors = report.findings.filter((f) => f.severity === 'error');
  const warnings = report.findings.filter((f) => f.severity === 'warning');
  if (flags.json) process.stdout.write(`${JSON.stringify({ ok: errors.length === 0, ...report }, null, 2)}\n`);
  else {
    for (const f of report.findings) {
      process.stdout.write(printable(`${f.severity}: ${f.check}: ${f.message}\n`));
      if (f.why) process.stdout.write(printable(`  why: ${f.why}\n`));
      if (f.fix) process.stdout.write(printable(`  fix: ${f.fix}\n`));
    }
    process.stdout.write(
      `${errors.length === 0 ? 'ok' : 'FAILED'}: ${printable(report.url)}: ${count(errors.length, 'error')}, ${count(warnings.length, 'warning')}\n`,
    );
  }
  return errors.length === 0 ? EXIT_OK : EXIT_INVALID;
}

export function registerDoctor(program: Command, action: Action): void {
  program
    .command('doctor')
    .description('check a deployed server as LXD and Incus will use it: TLS, headers, redirects, port 80, import endpoints (no image downloaded)')
    .argument('<url>', 'the https:// URL the tree is served at')
    .option('--json', 'print the findings as JSON')
    .option('--timeout <seconds>', 'each request must be answered whole within this (default 15); the whole run within 8 times it, at least 120 s')
    .option('--keyring <file>', "OpenPGP public keys the server's signatures must verify against (default: the key the server publishes, not trusted)")
    .action(action((url: string, flags: { json?: boolean; timeout?: string; keyring?: string }) => runDoctor(url, flags)));
}
