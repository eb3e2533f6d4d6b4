// `staticstreams mirror URL...`: a verified, filtered, incremental copy of simplestreams image
// servers, published as a staticstreams tree (with the images folder's own images, if given).

import type { Command } from 'commander';
import type { Action } from './output.js';
import { addPublishOptions, printSummary, readPublishing, type BuildFlags } from './publishing.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** What mirror and promote share: which images, how long a request may stall, whose signatures. */
export function addUpstreamOptions(command: Command, filterHelp: string): Command {
  return command
    .option('--filter <key=glob>', filterHelp, collect)
    .option('--timeout <seconds>', 'cut off (and retry) a request that brings less than 16 KiB/s over this many seconds (default 30, or mirror.timeout)')
    .option('--keyring <file>', "OpenPGP public keys to check each upstream's signed chain (streams/v1/index.sjson onwards) against (default: mirror.keyring)")
    .option(
      '--signatures <policy>',
      'required: refuse an upstream not signed throughout; preferred: check what is signed, warn about the rest; off (default: required with a keyring, or mirror.signatures)',
    )
    .option('--no-cache', 're-hash every local image file instead of reusing fingerprints of unchanged files');
}

export async function runMirror(urls: string[], flags: BuildFlags): Promise<number> {
  const started = Date.now();
  const all = { ...flags, upstreams: urls, cache: flags.cache !== false };
  const run = await readPublishing('mirror', all);
  const { mirror } = await import('../pipeline/commands.js');
  return printSummary('mirror', all, run, await mirror({ ...run.options, ...run.upstreams! }), started);
}

export function registerMirror(program: Command, action: Action): void {
  const command = program
    .command('mirror')
    .description('copy images from simplestreams servers (LXD, Incus, incus-simplestreams, staticstreams trees) into --out, verified')
    .argument('[url...]', 'base URLs of the upstream image servers (default: mirror.upstreams in the config)')
    .option('--out <dir>', 'output folder (replaced atomically at the end; a rerun downloads only what it does not hold)', 'dist')
    .option('--keep <n>', 'copy (and keep) the N newest versions of each selected product')
    .option('--images <dir>', 'also publish the images in this folder next to the mirrored ones')
    .option('--dry-run', 'report what would be copied; download and write nothing')
    .addHelpText(
      'after',
      '\nExamples:\n  staticstreams mirror https://images.example.org --filter os=debian --filter arch=amd64 --keep 2 --out mirror\n' +
        '  staticstreams mirror   # with mirror: {upstreams, filter, keep} in staticstreams.yaml\n' +
        '\nEvery file is checked against the upstream index (size, sha256, each image fingerprint) before anything\n' +
        'is published; an interrupted download resumes on the next run. Versions the upstream drops stay\n' +
        'until retention (--retain, --retain-days, --keep) drops them.',
    );
  addUpstreamOptions(
    command,
    'copy only images whose os, release, arch, variant, type, alias or version matches (repeatable; same key: any, different keys: all)',
  );
  addPublishOptions(command).action(action((urls: string[], flags: BuildFlags) => runMirror(urls, flags)));
}
