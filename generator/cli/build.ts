// `staticstreams build`: the CLI layer over build() — flags, config file, progress, summary.

import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig, loadRecordedConfig, TARGETS, type Config } from '../config/config.js';
import { parseFilters } from '../config/filters.js';
import { parseFlags, type ParsedFlags } from '../config/flags.js';
import { UsageError } from '../util/errors.js';
import { EXIT_OK, formatBytes, makeReporter, type Action } from './output.js';
import { installSignalCleanup } from '../publish/output/cleanup.js';
import type { BuildOptions, BuildResult } from '../pipeline/build.js';
import { count } from '../util/format.js';
import { SIGNATURE_POLICIES, type SignaturePolicy } from '../source/upstream.js';
import { loadKeyring } from './keyring.js';

export interface BuildFlags {
  images?: string;
  out: string;
  previous?: string;
  replace?: boolean;
  deltas?: boolean;
  lxc?: boolean;
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

/** The mirror settings: command-line values (checked by parseFlags) over the config's `mirror:` section. */
function mirrorOptions(flags: ParsedFlags, config: Config): NonNullable<BuildOptions['mirror']> {
  const upstreams = flags.upstreams?.length ? flags.upstreams : config.mirror.upstreams;
  if (upstreams.length === 0) throw new UsageError('mirror needs at least one upstream URL (or mirror.upstreams in the config)');
  return {
    upstreams,
    filters: parseFilters(flags.filter?.length ? flags.filter : config.mirror.filter),
    keep: flags.keep ?? config.mirror.keep,
    http: { timeoutMs: (flags.timeout ?? config.mirror.timeout) * 1000, retries: config.mirror.retries },
    concurrency: config.mirror.concurrency,
  };
}

/**
 * The mirror's --keyring and --signatures (over mirror.keyring and mirror.signatures). With a
 * keyring the default is `required`: an unsigned upstream is taken only when the user says so.
 */
async function withTrust(mirror: NonNullable<BuildOptions['mirror']>, flags: BuildFlags, config: Config): Promise<NonNullable<BuildOptions['mirror']>> {
  const file = flags.keyring ?? config.mirror.keyring;
  const given = flags.signatures ?? config.mirror.signatures;
  const policy = (given ?? (file ? 'required' : 'off')) as SignaturePolicy;
  if (!SIGNATURE_POLICIES.includes(policy)) throw new UsageError(`--signatures ${flags.signatures}: give one of ${SIGNATURE_POLICIES.join(', ')}`);
  if (policy === 'required' && !file)
    throw new UsageError('--signatures required needs the keys to check against: give --keyring FILE (or mirror.keyring in the config)');
  const keyring = file ? await loadKeyring(file) : undefined;
  return { ...mirror, trust: { policy, explicit: given !== undefined, ...(keyring ? { keyring } : {}) } };
}

/** Runs build() from CLI flags; `prune` passes no images and the tree as both previous and out. */
export async function runBuild(flags: BuildFlags, command: 'build' | 'prune' | 'mirror' | 'promote' = 'build'): Promise<number> {
  const parsed = parseFlags({ ...flags }); // every wrong flag at once, before anything else
  installSignalCleanup();
  const configFile = flags.config ?? 'staticstreams.yaml';
  let config = await loadConfig(configFile, flags.config !== undefined);
  const configFound = existsSync(configFile);
  if (flags.config === undefined && configFound && !flags.quiet && !flags.json) {
    process.stderr.write(`note: using ${path.resolve(configFile)} (found in the current folder; --config FILE picks another)\n`);
  }
  if (command === 'prune' && !configFound) {
    // A cron job has no config file: the tree says how it was built.
    const recorded = await loadRecordedConfig(flags.out);
    if (recorded) {
      config = recorded;
      if (!flags.quiet && !flags.json)
        process.stderr.write(
          `note: no config file; using the settings ${flags.out} was built with (title, logo, remote name, targets, base URL, retention), recorded in its staticstreams-state.json\n`,
        );
    }
  }
  const copying = command === 'mirror' || command === 'promote';
  const mirror = copying
    ? {
        ...(await withTrust(mirrorOptions(parsed, config), flags, config)),
        ...(command === 'promote' ? { addOnly: true, replace: flags.replace === true } : {}),
      }
    : undefined;
  // A mirror publishes on top of what it published before: only new versions are downloaded.
  // (promote: the tree given with --previous, the live stable channel, when there is one)
  const held = existsSync(path.join(flags.out, 'streams', 'v1', 'index.json'));
  const previous = command === 'promote' ? (flags.previous ?? (held ? flags.out : undefined)) : mirror && held ? flags.out : flags.previous;
  const started = Date.now();
  const { build } = await import('../pipeline/build.js'); // loaded on use: --help stays fast
  const options: BuildOptions = {
    images: flags.images,
    out: flags.out,
    previous,
    ...(mirror ? { mirror } : {}),
    replace: flags.replace === true,
    deltas: flags.deltas === true ? true : undefined,
    lxc: flags.lxc === true ? true : undefined,
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
    config.retention.days === undefined
  ) {
    process.stderr.write('note: no --retain or --retain-days (nor retention in the config): only files whose grace period is over are removed\n');
  }
  const result = await build(options);
  const versions = result.plan.products.reduce((n, p) => n + p.versions.length, 0);
  const summary = {
    ok: true,
    out: path.resolve(flags.out),
    products: result.plan.products.length,
    versions,
    images: result.images,
    bytesHashed: result.bytesHashed,
    filesLinked: result.placed.linked,
    filesCopied: result.placed.copied,
    filesDownloaded: result.placed.downloaded,
    bytesDownloaded: result.placed.bytesDownloaded,
    dryRun: result.dryRun,
    deltas: result.deltas,
    lxc: result.lxc,
    bucket: result.bucket ?? null,
    signedBy: result.catalog.signing?.fingerprint ?? null,
    ...(result.mirror ? { mirror: result.mirror } : {}),
    ...lifecycleSummary(result),
    index: result.indexPath,
    productsFile: result.productsPath,
    warnings: result.warnings,
    ignored: result.ignored,
    serverConfig: result.serverConfigFiles,
    skipped: result.skipped.map((p) => p.format()),
    cache: result.cache,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    seconds: (Date.now() - started) / 1000,
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else if (!flags.quiet) {
    process.stdout.write(lifecycleText(result, command));
    for (const d of result.deltas)
      process.stdout.write(`delta ${d.product} ${d.base} → ${d.version}: ${formatBytes(d.size)} instead of ${formatBytes(d.of)}\n`);
    for (const l of result.lxc)
      process.stdout.write(`lxc ${l.product} ${l.version}: rootfs.tar.xz ${formatBytes(l.rootfs)}, meta.tar.xz ${formatBytes(l.meta)}\n`);
    if (result.bucket) process.stdout.write(bucketText(result.bucket));
    if (result.catalog.signing)
      process.stdout.write(`signed by ${result.catalog.signing.fingerprint}: check with gpgv --keyring signing-key.gpg streams/v1/index.sjson\n`);
    if (result.mirror) process.stdout.write(mirrorText(result.mirror, result.dryRun));
    if (result.dryRun)
      process.stdout.write(`dry run: nothing was written to ${summary.out}${config.object_storage ? ' and nothing was uploaded or deleted' : ''}\n`);
    else
      process.stdout.write(
        `${command === 'prune' ? 'pruned' : command === 'mirror' ? 'mirrored into' : command === 'promote' ? 'promoted into' : 'built'} ${summary.out}: ${productsText(result)}, ${count(versions, 'version')}, ${imagesText(result, summary.images)} ` +
          `(${formatBytes(summary.bytesHashed)} hashed, ${count(summary.filesLinked, 'file')} linked, ${summary.filesCopied} copied` +
          `${summary.filesDownloaded ? `, ${summary.filesDownloaded} downloaded (${formatBytes(summary.bytesDownloaded)}) from ${options.previous}` : ''}) in ${summary.seconds.toFixed(1)} s\n` +
          (result.skipped.length ? `left out ${count(result.skipped.length, 'problem image')} (--keep-going): see the warnings above\n` : '') +
          (summary.filesLinked && command === 'build'
            ? `note: image files are hard links of your inputs: replace an input with mv (a new file), never cp over it, which would change the published file too\n`
            : '') +
          `add it as a remote: lxc remote add ${config.site.remote_name ?? 'NAME'} ${result.catalog.baseUrl ?? 'https://YOUR-HOST'} --protocol simplestreams\n`,
      );
  }
  return EXIT_OK;
}

/**
 * Products as clients count them (one per os/release/arch/variant), with the catalogue's count
 * when it groups them (one page per os/release/variant, every architecture on it).
 */
function productsText(result: BuildResult): string {
  const products = result.plan.products;
  const pages = new Set(products.map((p) => `${p.os}\0${p.release}\0${p.variant}`)).size;
  return pages === products.length
    ? count(products.length, 'product')
    : `${count(products.length, 'product')} (one per architecture; ${count(pages, 'catalogue page')}, one per os/release/variant)`;
}

/** Every image the tree publishes, and how many of them this run read (the rest were carried over or copied). */
function imagesText(result: BuildResult, read: number): string {
  const published = result.plan.products.reduce((n, p) => n + p.versions.reduce((m, v) => m + v.images.length, 0), 0);
  return published === read ? count(published, 'image') : `${count(published, 'image')} (${read} read by this run)`;
}

function lifecycleSummary(result: BuildResult) {
  const l = result.lifecycle;
  return {
    previous: l.previous ?? null,
    added: l.added,
    unchanged: l.unchanged,
    replaced: l.replaced,
    kept: l.kept,
    dropped: l.dropped,
    grace: l.grace,
    expired: l.expired.map((e) => e.path),
  };
}

function bucketText(b: NonNullable<BuildResult['bucket']>): string {
  const verified = b.verify === 'read-back' ? 'each read back and its sha256 checked' : 'sizes and recorded sha256 checked';
  return (
    `${b.bucket}: uploaded ${count(b.uploaded, 'file')}, ${formatBytes(b.bytesUploaded)} (${verified}); ${b.alreadyThere} already there` +
    `${b.removed.length ? `; deleted ${b.removed.length} expired` : ''}\n`
  );
}

function mirrorText(m: NonNullable<BuildResult['mirror']>, dryRun: boolean): string {
  if (dryRun)
    return `from ${m.upstreams.join(', ')}: would copy ${count(m.downloadedVersions.length, 'version')}${m.downloadedVersions.map((v) => `\n  ${v}`).join('')}\n${m.heldVersions} already held\n`;
  const resumed = m.bytesResumed ? `; ${formatBytes(m.bytesResumed)} already fetched by an interrupted run` : '';
  return (
    `from ${m.upstreams.join(', ')}: ${count(m.downloadedVersions.length, 'version')} copied (${count(m.filesDownloaded, 'file')}, ${formatBytes(m.bytesFetched)} downloaded and checked${resumed}), ` +
    `${m.heldVersions} already held\n`
  );
}

function lifecycleText(result: BuildResult, command: string): string {
  const l = result.lifecycle;
  const lines: string[] = [];
  const would = result.dryRun ? 'would be ' : '';
  if (l.previous !== undefined) {
    const counts =
      command === 'prune'
        ? [`${count(l.dropped.length, 'version')} ${would}dropped (retention)`, `${count(l.kept.length, 'version')} ${would}kept`]
        : [
            `${count(l.added.length, 'version')} ${would}added`,
            `${l.replaced.length} ${would}replaced`,
            `${l.unchanged.length} rebuilt unchanged`,
            `${l.kept.length} ${would}kept as published`,
          ];
    lines.push(`${command === 'prune' ? 'pruning' : 'on top of'} ${l.previous}: ${counts.join(', ')}`);
  }
  for (const v of l.replaced) lines.push(`  ${would}replaced ${v}`);
  for (const v of l.dropped) lines.push(`  ${would}dropped ${v} (retention)`);
  if (l.grace.length) lines.push(`${count(l.grace.length, 'file')} ${would}kept for their grace period (listed in staticstreams-state.json)`);
  if (l.expired.length)
    lines.push(
      `${count(l.expired.length, 'file')} past their grace period ${result.dryRun ? 'would be removed' : 'removed'}: ${l.expired.map((e) => e.path).join(', ')}`,
    );
  return lines.length ? `${lines.join('\n')}\n` : '';
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
    .option('--json', 'print a machine-readable summary on stdout')
    .option('-q, --quiet', 'print only warnings and errors')
    .addHelpText(
      'after',
      '\nObject storage: with object_storage: in the config, image files are uploaded to that S3-compatible\nbucket (credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE), expired ones are\ndeleted from it, and /images/ on the host redirects there. See the README.',
    );
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
