// `staticstreams list [DIR]`: a table (or JSON) of the images a published tree serves.

import type { Command } from 'commander';
import { UsageError } from '../util/errors.js';
import { printable, printableCell } from '../util/printable.js';
import { EXIT_INVALID, EXIT_OK, formatBytes, requireTree, type Action } from './output.js';

export async function runList(dir: string, flags: { format: string; json?: boolean }): Promise<number> {
  if (flags.json) flags.format = 'json';
  await requireTree(dir);
  if (!['table', 'json'].includes(flags.format)) throw new UsageError(`--format must be table or json, got "${flags.format}"`);
  const { listTree } = await import('../inspect/list.js');
  const { rows, problems } = await listTree(dir);
  const errors = problems.filter((p) => p.severity === 'error');
  for (const p of errors) process.stderr.write(printable(`error: ${p.where}: ${p.message}\n`));
  if (flags.format === 'json') {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else if (rows.length === 0) {
    // No header over nothing (the errors above say why there is nothing).
    if (!errors.length) process.stdout.write('no images listed\n');
  } else {
    const table = [['PRODUCT', 'VERSION', 'TYPE', 'FINGERPRINT', 'SIZE', 'ALIASES']].concat(
      rows.map((r) => [r.product, r.version, r.type, r.fingerprint.slice(0, 12), formatBytes(r.size), r.aliases.join(',')].map(printableCell)),
    );
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table)
      process.stdout.write(
        `${row
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd()}\n`,
      );
  }
  return errors.length ? EXIT_INVALID : EXIT_OK;
}

export function registerList(program: Command, action: Action): void {
  program
    .command('list')
    .description('list the products, versions and images a published tree serves')
    .argument('[dir|url]', 'the published tree: its folder, or the URL it is served at', 'dist')
    .option('--format <format>', 'table or json', 'table')
    .option('--json', 'the same as --format json (as the other commands say it)')
    .action(action((dir: string, flags: { format: string; json?: boolean }) => runList(dir, flags)));
}
