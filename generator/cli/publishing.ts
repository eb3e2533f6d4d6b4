// What the publishing commands (build, prune, withdraw, mirror, promote) share on the command
// line: their flags (checked at once, through the flags' schema), the config file (or, for a
// tree rewritten in place without one, the settings it records), the options the library takes,
// and the summary at the end. Each command's own file is a parse, one library call, and a print.

import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig, loadRecordedConfig, TARGETS, type Config } from '../config/config.js';
import { parseFilters } from '../config/filters.js';
import { parseFlags, type ParsedFlags } from '../config/flags.js';
import { UsageError } from '../util/errors.js';
import { EXIT_OK, makeReporter } from './output.js';
import { installSignalCleanup } from '../publish/output/cleanup.js';
import type { BuildOptions, BuildResult } from '../pipeline/build.js';
import type { UpstreamOptions } from '../pipeline/commands.js';
import { SIGNATURE_POLICIES, type SignaturePolicy } from '../source/upstream.js';
import { loadKeyring } from './keyring.js';
import { summaryOf, summaryText, type PublishingCommand } from './summary.js';

export interface BuildFlags {
  images?: string;
  out: string;
  previous?: string;
  replace?: boolean;
  deltas?: boolean;
  lxc?: boolean;
  manifests?: boolean;
  signKey?: string;
  retain?: string;
  retainDays?: string;
  grace?: string;
  now?: string;
  dryRun?: boolean;
  baseUrl?: string;
  config?: string;
  site: boolean;
  target?: string;
  serverConfig?: string;
  keepGoing?: boolean;
  cache: boolean;
  json?: boolean;
  quiet?: boolean;
  /** mirror: upstream URLs, KEY=GLOB filters, versions to keep, time-out in seconds. */
  upstreams?: string[];
  filter?: string[];
  keep?: string;
  timeout?: string;
  keyring?: string;
  signatures?: string;
  unsigned?: boolean;
}

/** The upstreams and what to take from them: command-line values (checked by parseFlags) over the config's `mirror:` section. */
async function upstreamOptions(flags: BuildFlags, parsed: ParsedFlags, config: Config): Promise<UpstreamOptions> {
  const upstreams = parsed.upstreams?.length ? parsed.upstreams : config.mirror.upstreams;
  if (upstreams.length === 0) throw new UsageError('mirror needs at least one upstream URL (or mirror.upstreams in the config)');
  return {
    upstreams,
    filters: parseFilters(parsed.filter?.length ? parsed.filter : config.mirror.filter),
    ...((parsed.keep ?? config.mirror.keep) !== undefined ? { keep: parsed.keep ?? config.mirror.keep } : {}),
    http: { timeoutMs: (parsed.timeout ?? config.mirror.timeout) * 1000, retries: config.mirror.retries },
    concurrency: config.mirror.concurrency,
    trust: await trustOf(flags, config),
  };
}

/**
 * The mirror's --keyring and --signatures (over mirror.keyring and mirror.signatures). With a
 * keyring the default is `required`: an unsigned upstream is taken only when the user says so.
 */
async function trustOf(flags: BuildFlags, config: Config): Promise<NonNullable<UpstreamOptions['trust']>> {
  const file = flags.keyring ?? config.mirror.keyring;
  const given = flags.signatures ?? config.mirror.signatures;
  const policy = (given ?? (file ? 'required' : 'off')) as SignaturePolicy;
  if (!SIGNATURE_POLICIES.includes(policy)) throw new UsageError(`--signatures ${flags.signatures}: give one of ${SIGNATURE_POLICIES.join(', ')}`);
  if (policy === 'required' && !file)
    throw new UsageError('--signatures required needs the keys to check against: give --keyring FILE (or mirror.keyring in the config)');
  const keyring = file ? await loadKeyring(file) : undefined;
  return { policy, explicit: given !== undefined, ...(keyring ? { keyring } : {}) };
}

/** A command's flags, read: the options every publishing command gives the library, and what it needs to print. */
export interface Publishing {
  options: BuildOptions;
  config: Config;
  upstreams?: UpstreamOptions;
}

/**
 * Reads the flags and the config file (for `tree`, a tree rewritten in place, the settings it
 * records when there is no config file): every wrong flag at once, before anything else.
 */
export async function readPublishing(command: PublishingCommand, flags: BuildFlags): Promise<Publishing> {
  const parsed = parseFlags({ ...flags });
  installSignalCleanup();
  const configFile = flags.config ?? 'staticstreams.yaml';
  let config = await loadConfig(configFile, flags.config !== undefined);
  const configFound = existsSync(configFile);
  const speak = !flags.quiet && !flags.json;
  if (flags.config === undefined && configFound && speak)
    process.stderr.write(`note: using ${path.resolve(configFile)} (found in the current folder; --config FILE picks another)\n`);
  if ((command === 'prune' || command === 'withdraw') && !configFound) {
    // A cron job has no config file: the tree says how it was built.
    const recorded = await loadRecordedConfig(flags.out);
    if (recorded) {
      config = recorded;
      if (speak)
        process.stderr.write(
          `note: no config file; using the settings ${flags.out} was built with (title, logo, remote name, targets, base URL, retention, users), recorded in its staticstreams-state.json\n`,
        );
    }
  }
  const copying = command === 'mirror' || command === 'promote';
  const options: BuildOptions = {
    images: flags.images,
    out: flags.out,
    ...(flags.previous ? { previous: flags.previous } : {}),
    replace: flags.replace === true,
    deltas: flags.deltas === true ? true : undefined,
    lxc: flags.lxc === true ? true : undefined,
    manifests: flags.manifests === false ? false : undefined,
    ...(flags.signKey ? { signKey: flags.signKey } : {}),
    ...(flags.unsigned ? { unsigned: true } : {}),
    ...(!copying && flags.keyring ? { keyring: await loadKeyring(flags.keyring) } : {}),
    retain: parsed.retain,
    retainDays: parsed.retainDays,
    grace: parsed.grace,
    now: parsed.now,
    dryRun: flags.dryRun === true,
    baseUrl: parsed.baseUrl,
    config,
    ...(configFound ? { configFile } : {}),
    site: flags.site,
    targets: parsed.target,
    serverConfig: flags.serverConfig,
    keepGoing: flags.keepGoing === true,
    cache: flags.cache,
    reporter: makeReporter(process.stderr, flags.quiet === true || flags.json === true),
  };
  if (
    command === 'prune' &&
    options.retain === undefined &&
    options.retainDays === undefined &&
    config.retention.keep === undefined &&
    config.retention.days === undefined &&
    speak
  )
    process.stderr.write('note: no --retain or --retain-days (nor retention in the config): only files whose grace period is over are removed\n');
  return { options, config, ...(copying ? { upstreams: await upstreamOptions(flags, parsed, config) } : {}) };
}

/** Prints a publishing command's summary (human, or --json on stdout). */
export function printSummary(command: PublishingCommand, flags: BuildFlags, run: Publishing, result: BuildResult, started: number): number {
  const summary = summaryOf(result, flags.out, started);
  if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else if (!flags.quiet) process.stdout.write(summaryText(result, command, summary, run.config, run.options.previous, run.config.object_storage !== undefined));
  return EXIT_OK;
}

/** Options build and prune share: retention, the clock, the hosts, output. */
export function addPublishOptions(command: Command): Command {
  return command
    .option('--retain <n>', 'keep the N newest versions of each product (the newest is always kept)')
    .option('--retain-days <d>', 'drop versions built more than D days ago (the newest is always kept)')
    .option('--grace <duration>', 'how long dropped files and old products files stay downloadable, e.g. 6h (default: 6h, or retention.grace)')
    .option('--now <time>', 'the clock for retention and grace periods, ISO 8601 (default: now)')
    .option(
      '--base-url <url>',
      'absolute URL the output will be served at (catalog.json, the site, import endpoints); with a path (https://host/lxd) every rule is written for that path',
    )
    .option('--config <file>', 'config file (default: staticstreams.yaml when present)')
    .option('--target <list>', `hosts to write rules for, comma-separated: ${TARGETS.join(', ')} (default: netlify, or targets in the config)`)
    .option('--server-config <dir>', 'where nginx/Caddy snippets and the Netlify edge function go (default: OUT-server-config, next to OUT)')
    .option(
      '--lxc',
      "also serve LXC's download template (lxc-create -t download): rootfs.tar.xz + meta.tar.xz per container version, meta/1.0/index-* (default: lxc in the config)",
    )
    .option(
      '--sign-key <file>',
      'sign the tree with this armored OpenPGP secret key (default: the key in STATICSTREAMS_SIGNING_KEY, else signing.key_file in the config; passphrase: STATICSTREAMS_SIGNING_PASSPHRASE)',
    )
    .option('--unsigned', 'publish unsigned even on top of a signed tree (without it, a signed previous tree needs the signing key)')
    .option('--no-site', 'skip the catalogue website (index.html, products/, _astro/, pagefind/)')
    .option('--no-manifests', 'publish no package lists, SBOMs or changes of the images (default: manifests in the config, on)')
    .option('--json', 'print a machine-readable summary on stdout')
    .option('-q, --quiet', 'print only warnings and errors')
    .addHelpText(
      'after',
      '\nObject storage: with object_storage: in the config, image files are uploaded to that S3-compatible\nbucket (credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE), expired ones are\ndeleted from it, and /images/ on the host redirects there. See the README.',
    );
}
