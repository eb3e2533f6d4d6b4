// `staticstreams prune DIR`: apply retention to a published tree in place — drop old versions
// from the index, keep their files for the grace period, remove files whose period is over.

import type { Command } from 'commander';
import type { Action } from './output.js';
import { addPublishOptions, printSummary, readPublishing, type BuildFlags } from './publishing.js';

export async function runPrune(dir: string, flags: Omit<BuildFlags, 'out'>): Promise<number> {
  const started = Date.now();
  const all = { ...flags, out: dir, cache: true };
  const run = await readPublishing('prune', all);
  const { prune } = await import('../pipeline/commands.js');
  const { images: _images, out: _out, previous: _previous, replace: _replace, ...options } = run.options;
  return printSummary('prune', all, run, await prune({ ...options, tree: dir }), started);
}

export function registerPrune(program: Command, action: Action): void {
  const command = program
    .command('prune')
    .description('drop old versions from a published tree (retention), keeping their files for a grace period')
    .argument('[dir]', 'the published tree, rewritten atomically', 'dist')
    .option('--dry-run', 'report what would be dropped and removed; write, upload and delete nothing')
    .option('--keyring <file>', "public keys the tree's signatures may be by besides the signing key's own (the old key, when the key changes)");
  addPublishOptions(command).action(action((dir: string, flags: Omit<BuildFlags, 'out'>) => runPrune(dir, flags)));
}
