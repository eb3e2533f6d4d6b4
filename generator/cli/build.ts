// `staticstreams build`: the images folder (and a previous tree) → a published tree.

import type { Command } from 'commander';
import type { Action } from './output.js';
import { addPublishOptions, printSummary, readPublishing, type BuildFlags } from './publishing.js';

export type { BuildFlags };

export async function runBuild(flags: BuildFlags): Promise<number> {
  const started = Date.now();
  const run = await readPublishing('build', flags);
  const { build } = await import('../pipeline/build.js'); // loaded on use: --help stays fast
  return printSummary('build', flags, run, await build(run.options), started);
}

export function registerBuild(program: Command, action: Action): void {
  const command = program
    .command('build')
    .description('turn the image tarballs in --images into a simplestreams tree in --out')
    .option('--images <dir>', 'folder holding the images (searched recursively)', 'images')
    .option('--out <dir>', 'output folder (replaced atomically at the end)', 'dist')
    .option('--previous <dir|url>', 'a published tree (folder or base URL) to publish on top of: its versions are kept')
    .option('--replace', 'with --previous: a new image may take a version key that holds other images')
    .option('--keyring <file>', "with --previous: public keys its signatures may be by besides the signing key's own (the old key, when the key changes)")
    .option('--deltas', 'publish squashfs deltas (xdelta3) from the previous version of each product to each new one (default: deltas in the config)')
    .option('--keep-going', 'leave out images with problems (listed) and publish the rest')
    .option('--no-cache', 're-hash every file instead of reusing fingerprints of unchanged files')
    .option('--dry-run', 'plan and report what would change; write, upload and delete nothing');
  addPublishOptions(command).action(action((flags: BuildFlags) => runBuild(flags)));
}
