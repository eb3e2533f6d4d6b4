// `staticstreams verify [DIR|URL]`: re-reads a published tree (a folder, or a live server, fetching
// every file as a client would) and checks every client rule.

import type { Command } from 'commander';
import { EXIT_INVALID, EXIT_OK, requireTree, type Action } from './output.js';
import { printable } from '../util/printable.js';
import { count } from '../util/format.js';

export async function runVerify(dir: string, flags: { json?: boolean; quick?: boolean }): Promise<number> {
  await requireTree(dir);
  const { verifyTree } = await import('../inspect/verify.js');
  const report = await verifyTree(dir, { quick: flags.quick === true });
  const errors = report.problems.filter((p) => p.severity === 'error');
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ok: errors.length === 0, ...report }, null, 2)}\n`);
  } else {
    for (const p of report.problems) process.stdout.write(printable(`${p.severity}: ${p.where}: ${p.message}\n`));
    process.stdout.write(
      `${errors.length === 0 ? 'ok' : 'FAILED'}: ${count(report.products, 'product')}, ${count(report.images, 'image')}, ${count(report.files, 'file')} checked; ` +
        `${count(errors.length, 'error')}, ${count(report.problems.length - errors.length, 'warning')}\n`,
    );
  }
  return errors.length === 0 ? EXIT_OK : EXIT_INVALID;
}

export function registerVerify(program: Command, action: Action): void {
  program
    .command('verify')
    .description("check a published tree (this tool's or another's) against the rules LXD and Incus enforce")
    .argument('[dir|url]', 'the published tree: its folder, or the URL it is served at (every file is downloaded and hashed)', 'dist')
    .option('--json', 'print the report as JSON')
    .option('--quick', 'check sizes and sha256 only; skip decompressing every tarball to its end')
    .action(action((dir: string, flags: { json?: boolean; quick?: boolean }) => runVerify(dir, flags)));
}
