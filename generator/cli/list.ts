// `staticstreams list [DIR]`: a table (or JSON) of the images a published tree serves.

import type { Command } from 'commander';
import { UsageError } from '../util/errors.js';
import { printable, printableCell } from '../util/printable.js';
import { EXIT_INVALID, EXIT_OK, formatBytes, requireTree, type Action } from './output.js';

/** Prints rows as a table of padded columns. */
function printTable(table: string[][]): void {
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table)
    process.stdout.write(
      `${row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
}

/** `list DIR --packages PRODUCT[/VERSION]`: the packages of one version's image. */
async function listPackages(dir: string, spec: string, format: string): Promise<number> {
  const slash = spec.lastIndexOf('/');
  const version = slash > 0 && /^\d{8}/.test(spec.slice(slash + 1)) ? spec.slice(slash + 1) : undefined;
  const product = version === undefined ? spec : spec.slice(0, slash);
  const { versionPackages } = await import('../inspect/packages.js');
  const found = await versionPackages(dir, product, version);
  if (format === 'json') process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
  else {
    process.stdout.write(printable(`${found.product} ${found.version}: ${found.list.packages.length} packages (${found.list.database})\n`));
    printTable([
      ['NAME', 'VERSION', 'ARCH', 'SOURCE'],
      ...found.list.packages.map((p) => [p.name, p.version, p.architecture ?? '', p.source ?? ''].map(printableCell)),
    ]);
  }
  return EXIT_OK;
}

export async function runList(dir: string, flags: { format: string; json?: boolean; packages?: string }): Promise<number> {
  if (flags.json) flags.format = 'json';
  await requireTree(dir);
  if (!['table', 'json'].includes(flags.format)) throw new UsageError(`--format must be table or json, got "${flags.format}"`);
  if (flags.packages !== undefined) return listPackages(dir, flags.packages, flags.format);
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
    printTable(
      [['PRODUCT', 'VERSION', 'TYPE', 'FINGERPRINT', 'SIZE', 'ALIASES']].concat(
        rows.map((r) => [r.product, r.version, r.type, r.fingerprint.slice(0, 12), formatBytes(r.size), r.aliases.join(',')].map(printableCell)),
      ),
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
    .option(
      '--packages <product[/version]>',
      "the packages inside a version's image (default: the newest version with a package list); the product by key or alias",
    )
    .action(action((dir: string, flags: { format: string; json?: boolean; packages?: string }) => runList(dir, flags)));
}
