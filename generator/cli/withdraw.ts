// `staticstreams withdraw DIR PRODUCT/VERSION…`: takes a broken or vulnerable build off a
// published tree at once (unlisted, signed again, its files kept for the grace period) and for
// good (recorded, so no later build publishes its images again).

import type { Command } from 'commander';
import type { Action } from './output.js';
import { addPublishOptions, printSummary, readPublishing, type BuildFlags } from './publishing.js';

export async function runWithdraw(dir: string, versions: string[], flags: Omit<BuildFlags, 'out'>): Promise<number> {
  const started = Date.now();
  const all = { ...flags, out: dir, cache: true };
  const run = await readPublishing('withdraw', all);
  const { withdraw } = await import('../pipeline/commands.js');
  const { images: _images, out: _out, previous: _previous, replace: _replace, ...options } = run.options;
  return printSummary('withdraw', all, run, await withdraw({ ...options, tree: dir, versions }), started);
}

export function registerWithdraw(program: Command, action: Action): void {
  const command = program
    .command('withdraw')
    .description('take versions off a published tree at once and for good: unlisted now, files kept for the grace period, never published again')
    .argument('<dir>', 'the published tree, rewritten atomically')
    .argument(
      '<version...>',
      'PRODUCT/VERSION as `staticstreams list` shows them (e.g. debian:12:amd64:default/20261206_03:00), or an image fingerprint (12+ hex digits)',
    )
    .option('--dry-run', 'report what would be withdrawn; write, upload and delete nothing')
    .option('--keyring <file>', "public keys the tree's signatures may be by besides the signing key's own (the old key, when the key changes)")
    .addHelpText(
      'after',
      '\nAliases move to the newest version left. A signed tree is signed again (give the key); a private tree stays\nprivate. Run it where the tree is published from (the folder your host serves, or the one CI deploys).',
    );
  addPublishOptions(command).action(action((dir: string, versions: string[], flags: Omit<BuildFlags, 'out'>) => runWithdraw(dir, versions, flags)));
}
