// `staticstreams promote CHANNEL-URL`: copy chosen versions of one channel's tree (daily) into
// another (stable) without rebuilding them: a mirror that only adds, so what the stable tree
// already holds stays; same fingerprints, files reused where the output holds them.

import type { Command } from 'commander';
import type { Action } from './output.js';
import { addUpstreamOptions } from './mirror.js';
import { addPublishOptions, printSummary, readPublishing, type BuildFlags } from './publishing.js';

export async function runPromote(url: string, flags: BuildFlags): Promise<number> {
  const started = Date.now();
  const all = { ...flags, upstreams: [url], cache: flags.cache !== false };
  const run = await readPublishing('promote', all);
  const { promote } = await import('../pipeline/commands.js');
  return printSummary('promote', all, run, await promote({ ...run.options, ...run.upstreams! }), started);
}

export function registerPromote(program: Command, action: Action): void {
  const command = program
    .command('promote')
    .description("copy chosen versions of a channel's tree (e.g. https://HOST/daily) into another (stable), without rebuilding them")
    .argument('<url>', 'the channel to promote from: the URL its tree is served at')
    .option('--out <dir>', 'the tree to promote into (replaced atomically at the end)', 'dist')
    .option('--previous <dir|url>', 'the live tree of the channel promoted into (its versions are all kept); default: --out when it holds a tree')
    .option('--dry-run', 'report what would be promoted; download and write nothing')
    .option('--replace', 'a version key the tree promoted into already publishes with other images takes the new ones (users pinned to it get other bytes)')
    .addHelpText(
      'after',
      '\nExample (a daily channel at /daily, stable at /):\n' +
        '  staticstreams promote https://images.example.org/daily --filter version=20261206_03:00 --filter alias=debian/12 \\\n' +
        '    --previous https://images.example.org/ --base-url https://images.example.org --out stable\n' +
        '\nEvery file is checked as mirror checks it; versions of the stable tree the filters leave out stay.',
    );
  addUpstreamOptions(command, 'what to promote: version=20261206_03:00 (or 20261206_0300), alias=debian/12, os, release, arch, variant, type (repeatable)');
  addPublishOptions(command).action(action((url: string, flags: BuildFlags) => runPromote(url, flags)));
}
