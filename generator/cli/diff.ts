// `staticstreams diff URL PRODUCT VERSION_A VERSION_B`: what changed in the packages between two
// versions of a product (or, with --to, between a version here and one of another tree).

import type { Command } from 'commander';
import { printable } from '../util/printable.js';
import { EXIT_OK, requireTree, type Action } from './output.js';

interface DiffFlags {
  json?: boolean;
  to?: string;
  toProduct?: string;
}

export async function runDiff(dir: string, product: string, a: string, b: string, flags: DiffFlags): Promise<number> {
  await requireTree(dir);
  const other = flags.to ?? dir;
  if (flags.to) await requireTree(flags.to);
  const { diffVersions } = await import('../inspect/packages.js');
  const { changeLines, changeCount } = await import('../formats/manifest.js');
  const changes = await diffVersions({ spec: dir, product, version: a }, { spec: other, product: flags.toProduct ?? product, version: b });
  if (flags.json) process.stdout.write(`${JSON.stringify(changes, null, 2)}\n`);
  else {
    const n = changeCount(changes);
    process.stdout.write(
      printable(`${changes.from.version} → ${changes.to.version}: ${n === 0 ? 'no package changed' : `${n} package${n === 1 ? '' : 's'} changed`}\n`),
    );
    for (const line of changeLines(changes)) process.stdout.write(printable(`  ${line}\n`));
  }
  return EXIT_OK;
}

export function registerDiff(program: Command, action: Action): void {
  program
    .command('diff')
    .description('what changed in the packages between two versions of a product (from their published package lists)')
    .argument('<dir|url>', 'the published tree: its folder, or the URL it is served at')
    .argument('<product>', 'the product, by key or alias')
    .argument('<version-a>', 'the older version')
    .argument('<version-b>', 'the newer version')
    .option('--to <dir|url>', 'read version-b from this other tree')
    .option('--to-product <product>', "version-b's product in that tree (default: the same)")
    .option('--json', 'the changes as JSON (added, removed, upgraded, downgraded)')
    .action(action((dir: string, product: string, a: string, b: string, flags: DiffFlags) => runDiff(dir, product, a, b, flags)));
}
