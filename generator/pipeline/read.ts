// The reading stages of a build: what each found file is (on the worker threads), and the
// fingerprint of every paired image, hashing started folder by folder as soon as its files are read.

import { ImageError, isReportable } from '../util/errors.js';
import type { Classified } from '../ingest/classify.js';
import { folderOf, type FoundFile } from '../ingest/find.js';
import { pairImages, type PairedImage } from '../ingest/pair.js';
import { hashImage } from '../fingerprint/hash-images.js';
import { futureProblem } from '../ingest/metadata.js';
import { imageLabel, type HashedImage } from '../ingest/model.js';
import type { BuildContext } from './context.js';

/**
 * Stage: what each found file is, with its metadata (on the worker threads; cached when unchanged).
 * `onFolder` gets each folder's files as soon as all of them are read (what did and did not read).
 */
export async function readImages(
  ctx: BuildContext,
  files: FoundFile[],
  onFolder?: (classified: Classified[], failed: Set<string>) => void,
): Promise<{ classified: Classified[]; failed: Set<string>; ignored: string[] }> {
  const { reporter, pool, cache, problems } = ctx;
  if (files.length) reporter.phase('reading metadata');
  const classified: Classified[] = [];
  // On the worker threads (queued all at once, so small files go in batches); results kept in file order.
  const failed = new Set<string>();
  const known = files.map((file) => cache.classification(file));
  // Everything served by the cache (a no-change rebuild): nothing to wait for. (Files that are no
  // image are never cached: with one of them the files are read as below, and it is reported.)
  if (known.every((k) => k !== undefined && !datedInFuture(k, ctx.settings.now))) {
    warnAboutMetadata(known as Classified[], reporter);
    return { classified: known as Classified[], failed, ignored: [] };
  }
  const reads = files.map((file, i) => Promise.resolve(known[i] ?? pool.classify(file)));
  if (onFolder) {
    // Only folders with a file to read: where everything is known, nothing is gained by starting early.
    const folders = new Map<string, number[]>();
    files.forEach((file, i) => {
      const folder = folderOf(file);
      const list = folders.get(folder);
      if (list) list.push(i);
      else folders.set(folder, [i]);
    });
    for (const indexes of folders.values()) {
      if (indexes.every((i) => known[i])) continue;
      void Promise.allSettled(indexes.map((i) => reads[i]!)).then((results) => {
        const done: Classified[] = [];
        const broken = new Set<string>();
        results.forEach((r, k) => {
          if (r.status === 'fulfilled') done.push(r.value);
          else broken.add(files[indexes[k]!]!.rel);
        });
        onFolder(done, broken);
      });
    }
  }
  for (const r of await Promise.allSettled(reads)) {
    const future = r.status === 'fulfilled' ? datedInFuture(r.value, ctx.settings.now) : undefined;
    if (future) {
      problems.push(future);
      failed.add(future.file);
    } else if (r.status === 'fulfilled') {
      classified.push(r.value);
      cache.rememberClassification(r.value);
    } else if (isReportable(r.reason)) {
      problems.push(r.reason);
      if (r.reason instanceof ImageError) failed.add(r.reason.file);
    } else throw r.reason;
  }
  warnAboutMetadata(classified, reporter);
  const ignored = classified.filter((c) => c.role === 'other').map((c) => c.file.rel);
  for (const rel of ignored) reporter.warn(`${rel}: not an image file, left out`);
  return { classified, failed, ignored };
}

/** What metadata.yaml files say that is read as the clients read it but deserves a word. */
function warnAboutMetadata(classified: Classified[], reporter: BuildContext['reporter']): void {
  for (const c of classified)
    if ((c.role === 'metadata' || c.role === 'unified') && c.metadata.warnings)
      for (const w of c.metadata.warnings) reporter.warn(`${c.file.rel}: metadata.yaml: ${w}`);
}

/** An image dated after the build's clock (--now, else now), as a problem of its file. */
function datedInFuture(c: Classified, now: Date): ImageError | undefined {
  if (c.role !== 'metadata' && c.role !== 'unified') return undefined;
  const problem = futureProblem(c.metadata, Math.floor(now.getTime() / 1000));
  return problem && new ImageError(c.file.rel, problem.message, problem.fix);
}

const imageId = (i: PairedImage) => (i.kind === 'split' ? `${i.meta.file.path}\u0000${i.rootfs.file.path}` : i.file.file.path);
export const imageLabelOf = (i: PairedImage) => (i.kind === 'split' ? i.rootfs.file.rel : i.file.file.rel);

/**
 * Hashing started while other files are still being read: as soon as a folder's files are all
 * read, its images (paired the way pairImages pairs them: by folder) are hashed, so one large
 * file still being read (a unified tarball whose metadata.yaml comes last) does not hold up the
 * other worker. hashAll then uses these results; the order of results and problems is its own.
 */
export class EarlyHashes {
  private started = new Map<string, Promise<HashedImage>>();
  /** Bytes hashed so far (those the fingerprint cache knew count, as `cached` too), and the progress line once the hashing phase shows it. */
  done = 0;
  cached = 0;
  report?: (label: string) => void;

  constructor(private readonly ctx: BuildContext) {}

  onBytes(label: string): (n: number, cached?: boolean) => void {
    return (n, cached) => {
      this.done += n;
      if (cached) this.cached += n;
      this.report?.(label);
    };
  }

  start(classified: Classified[], failed: Set<string>): void {
    for (const image of pairImages(classified, failed).images) {
      const p = hashImage(image, this.ctx.pool, this.ctx.cache, this.onBytes(imageLabelOf(image)));
      p.catch(() => {}); // reported by hashAll, which awaits it
      this.started.set(imageId(image), p);
    }
  }

  take(image: PairedImage): Promise<HashedImage> | undefined {
    return this.started.get(imageId(image));
  }
}

/** Stage: fingerprints of every paired image (and, for tarballs, proof that they are whole). */
/** Images a warning shared by many names one by one, at most. */
const NAMED_AT_MOST = 3;

export async function hashAll(ctx: BuildContext, images: PairedImage[], early: EarlyHashes): Promise<{ hashed: HashedImage[]; bytesHashed: number }> {
  const { reporter, pool, cache, problems } = ctx;
  if (images.length) reporter.phase('hashing');
  const total = images.reduce((n, i) => n + (i.kind === 'split' ? i.rootfs.file.size : i.file.file.size), 0);
  early.report = (label) => reporter.progress('hashing', early.done, total, label);
  const hashed: HashedImage[] = [];
  {
    const results = await Promise.allSettled(images.map((image) => early.take(image) ?? hashImage(image, pool, cache, early.onBytes(imageLabelOf(image)))));
    for (const r of results) {
      if (r.status === 'fulfilled') hashed.push(r.value);
      else if (isReportable(r.reason)) problems.push(r.reason);
      else throw r.reason;
    }
  }

  const noInit = hashed.filter((image) => image.noInit).map(imageLabel);
  const fix = `build the root filesystem with an init (debootstrap --include=systemd-sysv, or busybox with /sbin/init -> /bin/busybox)`;
  // One line each for a few; one line for many (a corpus made without an init says so once).
  if (noInit.length > NAMED_AT_MOST)
    reporter.warn(
      `${noInit.length} container images have no /sbin/init (${noInit.slice(0, NAMED_AT_MOST).join(', ')} and ${noInit.length - NAMED_AT_MOST} more): LXD and Incus list them, but containers made from them fail to start ("Failed to exec /sbin/init"); ${fix}`,
    );
  else
    for (const label of noInit)
      reporter.warn(
        `${label}: its root filesystem has no /sbin/init: LXD and Incus list it, but a container made from it fails to start ("Failed to exec /sbin/init"); ${fix}`,
      );
  warnPackages(reporter, hashed);
  return { hashed, bytesHashed: early.done - early.cached };
}

/**
 * What a package list leaves out, said once per image (grouped when many say the same): a
 * database that is there but cannot be read, and entries refused as not plain. A root with no
 * database at all, and a VM, are not warned about (their versions simply have no manifest).
 */
function warnPackages(reporter: BuildContext['reporter'], hashed: HashedImage[]): void {
  const quiet = /^(no package database|a virtual-machine image)/;
  const byReason = new Map<string, string[]>();
  for (const image of hashed) {
    const p = image.packages;
    const reason =
      p && 'none' in p
        ? quiet.test(p.none)
          ? undefined
          : `${p.none}: its versions get no package list`
        : p?.list.refused
          ? `${p.list.refused} package entries with characters no package manager allows in a name or version were left out of its package list`
          : undefined;
    if (reason) byReason.set(reason, [...(byReason.get(reason) ?? []), imageLabel(image)]);
  }
  for (const [reason, labels] of byReason)
    reporter.warn(
      labels.length > NAMED_AT_MOST
        ? `${labels.length} images (${labels.slice(0, NAMED_AT_MOST).join(', ')} and ${labels.length - NAMED_AT_MOST} more): ${reason}`
        : `${labels.join(', ')}: ${reason}`,
    );
}
