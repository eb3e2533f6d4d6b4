// What the publishing commands print when they are done: the summary (human or --json) of a
// build, prune, withdraw, mirror or promote, as data first and then as lines. Only text here.

import path from 'node:path';
import type { BuildResult } from '../pipeline/build.js';
import type { Config } from '../config/config.js';
import { count, formatBytes } from '../util/format.js';

/** The publishing commands, as they name themselves. */
export type PublishingCommand = 'build' | 'prune' | 'withdraw' | 'mirror' | 'promote';

/** What each command did to the output, in the summary's last line. */
const DONE: Record<PublishingCommand, string> = {
  build: 'built',
  prune: 'pruned',
  withdraw: 'withdrew from',
  mirror: 'mirrored into',
  promote: 'promoted into',
};

/** The --json summary: every figure of the run. */
export function summaryOf(result: BuildResult, out: string, started: number) {
  return {
    ok: true,
    out: path.resolve(out),
    products: result.plan.products.length,
    versions: result.plan.products.reduce((n, p) => n + p.versions.length, 0),
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
    bucketCommit: result.bucketCommit ?? null,
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
}

/** The human summary. `from`: the tree downloads came from (--previous), for the last line. */
export function summaryText(
  result: BuildResult,
  command: PublishingCommand,
  summary: ReturnType<typeof summaryOf>,
  config: Config,
  from: string | undefined,
  bucketConfigured: boolean,
): string {
  const lines: string[] = [lifecycleText(result, command)];
  for (const d of result.deltas) lines.push(`delta ${d.product} ${d.base} → ${d.version}: ${formatBytes(d.size)} instead of ${formatBytes(d.of)}\n`);
  for (const l of result.lxc) lines.push(`lxc ${l.product} ${l.version}: rootfs.tar.xz ${formatBytes(l.rootfs)}, meta.tar.xz ${formatBytes(l.meta)}\n`);
  if (result.bucket) lines.push(bucketText(result.bucket));
  if (result.bucketCommit) lines.push(commitText(result.bucketCommit, result.bucket?.bucket ?? 'the bucket'));
  if (result.catalog.signing) lines.push(`signed by ${result.catalog.signing.fingerprint}: check with gpgv --keyring signing-key.gpg streams/v1/index.sjson\n`);
  if (result.mirror) lines.push(mirrorText(result.mirror, result.dryRun));
  if (result.dryRun) {
    lines.push(`dry run: nothing was written to ${summary.out}${bucketConfigured ? ' and nothing was uploaded or deleted' : ''}\n`);
    return lines.join('');
  }
  lines.push(
    `${DONE[command]} ${summary.out}: ${productsText(result)}, ${count(summary.versions, 'version')}, ${imagesText(result, summary.images)} ` +
      `(${formatBytes(summary.bytesHashed)} hashed, ${count(summary.filesLinked, 'file')} linked, ${summary.filesCopied} copied` +
      `${summary.filesDownloaded ? `, ${summary.filesDownloaded} downloaded (${formatBytes(summary.bytesDownloaded)}) from ${from}` : ''}) in ${summary.seconds.toFixed(1)} s\n` +
      (result.skipped.length ? `left out ${count(result.skipped.length, 'problem image')} (--keep-going): see the warnings above\n` : '') +
      (summary.filesLinked && command === 'build'
        ? `note: image files are hard links of your inputs: replace an input with mv (a new file), never cp over it, which would change the published file too\n`
        : '') +
      `add it as a remote: lxc remote add ${config.site.remote_name ?? 'NAME'} ${result.catalog.baseUrl ?? 'https://YOUR-HOST'} --protocol simplestreams\n`,
  );
  return lines.join('');
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
    withdrawn: l.withdrawn,
    grace: l.grace,
    expired: l.expired.map((e) => e.path),
  };
}

function commitText(c: NonNullable<BuildResult['bucketCommit']>, bucket: string): string {
  const tries = c.retries ? ` after ${count(c.retries, 'commit')} another publisher made first` : '';
  return (
    `${c.status === 'committed' ? `committed to ${bucket}${tries}` : `${bucket} already held this tree`}` +
    `${c.converged ? '' : '; a newer commit followed, and its publisher brings the catalogue up to date'}` +
    `${c.deleted.length ? `; deleted ${count(c.deleted.length, 'file')} no commit lists` : ''}\n`
  );
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

function lifecycleText(result: BuildResult, command: PublishingCommand): string {
  const l = result.lifecycle;
  const lines: string[] = [];
  const would = result.dryRun ? 'would be ' : '';
  if (l.previous !== undefined) {
    const counts =
      command === 'prune'
        ? [`${count(l.dropped.length, 'version')} ${would}dropped (retention)`, `${count(l.kept.length, 'version')} ${would}kept`]
        : command === 'withdraw'
          ? [`${count(l.withdrawn.length, 'version')} ${would}withdrawn`, `${count(l.kept.length, 'version')} ${would}kept`]
          : [
              `${count(l.added.length, 'version')} ${would}added`,
              `${l.replaced.length} ${would}replaced`,
              `${l.unchanged.length} rebuilt unchanged`,
              `${l.kept.length} ${would}kept as published`,
            ];
    lines.push(`${command === 'prune' ? 'pruning' : command === 'withdraw' ? 'withdrawing from' : 'on top of'} ${l.previous}: ${counts.join(', ')}`);
  }
  for (const v of l.withdrawn) lines.push(`  ${would}withdrawn ${v} (its files stay for the grace period; its images are kept out of later builds)`);
  for (const v of l.replaced) lines.push(`  ${would}replaced ${v}`);
  for (const v of l.dropped) lines.push(`  ${would}dropped ${v} (retention)`);
  if (l.grace.length) lines.push(`${count(l.grace.length, 'file')} ${would}kept for their grace period (listed in staticstreams-state.json)`);
  if (l.expired.length)
    lines.push(
      `${count(l.expired.length, 'file')} past their grace period ${result.dryRun ? 'would be removed' : 'removed'}: ${l.expired.map((e) => e.path).join(', ')}`,
    );
  return lines.length ? `${lines.join('\n')}\n` : '';
}
