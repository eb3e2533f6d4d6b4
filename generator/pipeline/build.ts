// The build pipeline as a library call, in stages over one BuildContext: claim the output →
// read the previous tree (source/) → find and read images (ingest/, on the worker pool) → pair →
// hash (fingerprint/) → plan, merge, retention (plan/, pure) → deltas → render and publish
// (render/, publish/: the only writer, atomic swap). The CLI's `build` and `prune` are thin
// layers over `build()`.

import type { Reporter } from '../util/reporter.js';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_CONFIG, type Config, type Target } from '../config/config.js';
import { BuildError, BuildFailed, ImageError, UsageError, isReportable } from '../util/errors.js';
import type { Classified } from '../ingest/classify.js';
import { findFiles, folderOf, type FoundFile } from '../ingest/find.js';
import { pairImages, type PairedImage } from '../ingest/pair.js';
import { hashImage } from '../fingerprint/hash-images.js';
import { WorkerPool } from '../pool/pool.js';
import { cachePath, derivedPath, FingerprintCache } from '../fingerprint/cache.js';
import { schemasDigest } from '../formats/schemas-digest.js';
import { planProducts, type Plan, type PlannedFile, type PlannedProduct, type PublishedFormats } from '../plan/products.js';
import { versionFormatOf, type VersionFormat } from '../simplestreams/version-key.js';
import { graceAfter, listedFiles, planPublication, type PreviousState, type Publication } from '../plan/publication.js';
import { previousProducts } from '../plan/previous.js';
import { openPreviousSource } from '../source/source.js';
import { readPublished, type PublishedTree } from '../source/published.js';
import { renderState, STATE_PATH, type GraceEntry } from '../formats/state.js';
import { renderStreams } from '../render/streams.js';
import { renderCatalog } from '../render/catalog.js';
import type { Catalog } from '../formats/catalog.js';
import { placeFiles, type PlaceStats, type Touched } from '../publish/blobs.js';
import { outputPathTest, StagedOutput } from '../publish/output/tree.js';
import type { SpareEntry } from '../publish/output/spare.js';
import { imageLabel, type HashedFile, type HashedImage } from '../ingest/model.js';
import { lockOutput } from '../publish/output/lock.js';
import { publishedLogoName } from '../formats/site-input.js';
import { renderTargets, SERVER_CONFIG_FILES } from '../render/cdn/targets.js';
import { claimOutput, claimServerConfig } from '../publish/output/ownership.js';
import { writeServerConfig } from '../publish/server-config.js';
import { resolveBuild, type Settings } from '../config/settings.js';
import { blobRedirect, isBucketFile } from '../render/bucket-layout.js';
import { removeExpired, syncBucket, type BucketStats } from '../publish/bucket/sync.js';
import { planDeltas } from '../plan/deltas.js';
import { checkXdelta3, makeDeltas, type DeltaResult } from '../publish/deltas.js';
import { planLxc, type SuppliedLxcFiles } from '../plan/lxc.js';
import { checkLxcTools, makeLxc, type LxcResult } from '../publish/lxc.js';
import { outputDigest, outputIntact, type Published } from '../publish/output/unchanged.js';
import { groupProducts, isStale } from '../formats/groups.js';
import { sitePages } from '../publish/site.js';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Mirrored, MirrorOptions, MirrorStats } from './mirror.js';
import { count } from '../util/format.js';

export interface BuildOptions {
  /** The images folder; none (prune) publishes only what `previous` holds. */
  images?: string;
  out: string;
  /** A previously published tree (folder or base URL) to publish on top of. */
  previous?: string;
  /** Let a new image take a version key the previous tree holds with other images. */
  replace?: boolean;
  /** Keep at most this many versions per product (default: the config's retention.keep). */
  retain?: number;
  /** Drop versions older than this many days (default: the config's retention.days). */
  retainDays?: number;
  /** Grace period of unlisted files, e.g. "6h" (default: the config's retention.grace). */
  grace?: string;
  /** Make squashfs deltas for new versions (default: the config's deltas). Needs xdelta3. */
  deltas?: boolean;
  /** Derive LXC's files for container versions that lack them (default: the config's lxc). Needs xz, and sqfs2tar for squashfs images. */
  lxc?: boolean;
  /** Plan and report, write nothing. */
  dryRun?: boolean;
  baseUrl?: string;
  config?: Config;
  /** Render the catalogue website into the output (default true). */
  site?: boolean;
  /** The build's clock (default: now): retention, grace periods and the site's "stale" badges count from it. */
  now?: Date;
  /** The config file `config` was read from, if any: its folder is never replaced. */
  configFile?: string;
  /** Hosts to write rules for (default: the config's targets, else netlify). */
  targets?: Target[];
  /** Where nginx/Caddy/Netlify config goes (default: config server_config, else OUT-server-config). */
  serverConfig?: string;
  /** Leave out images with problems (listed in the result) and publish the rest. */
  keepGoing?: boolean;
  /** Reuse fingerprints of files proven unchanged (default true); false re-hashes everything. */
  cache?: boolean;
  /** Mirror these upstream servers into the output (with the images folder's images, if any). */
  mirror?: Omit<MirrorOptions, 'downloads'>;
  reporter?: Reporter;
}

export type { Reporter };
export type { MirrorStats };

/** Where a mirror's downloads wait for the publish (next to OUT, like the fingerprint cache). */
export function downloadsPath(out: string): string {
  const resolved = path.resolve(out);
  return path.join(path.dirname(resolved), `.${path.basename(resolved)}.downloads`);
}

export interface BuildResult {
  plan: Plan;
  catalog: Catalog;
  indexPath: string;
  productsPath: string;
  warnings: string[];
  /** Files in the images folder that are not image files, left out. */
  ignored: string[];
  /** Server config files written (absolute paths). */
  serverConfigFiles: string[];
  /** With keepGoing: the problems whose images were left out. */
  skipped: (ImageError | BuildError)[];
  /** Fingerprint cache hits and misses (files and combined hashes). */
  cache: { hits: number; misses: number };
  images: number;
  /** Pages of the catalogue site (0 with site: false). */
  sitePages: number;
  bytesHashed: number;
  placed: PlaceStats;
  /** With deltas: the deltas made in this run (`of`: the size of the file each replaces). */
  deltas: DeltaResult['made'];
  /** With --lxc: the container versions LXC's files were made for in this run (sizes in bytes). */
  lxc: LxcResult['made'];
  /** With object storage (config object_storage): what was uploaded to and deleted from the bucket. */
  bucket?: BucketStats;
  /** What changed against the previous tree, and the grace list. */
  lifecycle: Lifecycle;
  /** With mirror: what was copied from the upstreams. */
  mirror?: MirrorStats;
  /** True when nothing was written (dryRun). */
  dryRun: boolean;
}

export interface Lifecycle {
  previous?: string;
  added: string[];
  /** Rebuilt from the images with the same fingerprints as published. */
  unchanged: string[];
  replaced: string[];
  /** Published before and still listed, not built by this run (carried over). */
  kept: string[];
  /** `product version` dropped by retention. */
  dropped: string[];
  /** Files kept only for their grace period, and those whose period ended (left out now). */
  grace: GraceEntry[];
  expired: GraceEntry[];
}

const withoutEndpoint = ({ endpoint: _endpoint, ...rest }: NonNullable<Config['object_storage']>) => rest;

/** The settings `prune` reuses when run without the config file (see formats/state.ts). */
function recordedSettings(config: Config, settings: Settings): Record<string, unknown> {
  const { title, description, remote_name, stale_after_days, logo } = config.site;
  return {
    ...(settings.baseUrl ? { base_url: settings.baseUrl } : {}),
    targets: settings.targets,
    default_arch: config.default_arch,
    retention: config.retention,
    // The endpoint stays out of the public tree (an R2 endpoint names the account): a prune
    // without the config file takes it from AWS_ENDPOINT_URL_S3, as the AWS SDK does.
    ...(config.object_storage ? { object_storage: withoutEndpoint(config.object_storage) } : {}),
    site: {
      title,
      description,
      ...(remote_name ? { remote_name } : {}),
      stale_after_days,
      ...(logo && settings.site ? { logo: publishedLogoName(logo) } : {}),
    },
  };
}

const silent: Reporter = { phase() {}, progress() {}, warn() {} };

async function checkImages(images: string): Promise<void> {
  let st;
  try {
    st = await stat(images);
  } catch {
    throw new UsageError(`the images folder ${images} does not exist (set it with --images DIR)`);
  }
  if (!st.isDirectory()) throw new UsageError(`${images} is not a folder (set the images folder with --images DIR)`);
}

export async function build(options: BuildOptions): Promise<BuildResult> {
  const reporter = options.reporter ?? silent;
  const config = options.config ?? DEFAULT_CONFIG;
  const settings = resolveBuild({ ...options, mirrorKeep: options.mirror?.keep }, config);
  if (options.images !== undefined) await checkImages(options.images);
  else if (!options.previous && !options.mirror) throw new UsageError('nothing to publish: give an images folder, a previous tree, or both');
  // Nothing of the user's is ever replaced: checked before anything is written.
  await claimOutput(options.out, { images: options.images, configFile: options.configFile, dryRun: options.dryRun });
  await claimServerConfig(settings.serverConfigDir, Object.values(SERVER_CONFIG_FILES));
  if (settings.make.deltas) await checkXdelta3();
  if (settings.make.lxc) await checkLxcTools(false);
  const lock = await lockOutput(options.out);
  try {
    return await buildLocked(options, reporter, config, settings);
  } finally {
    await lock.release();
  }
}

/**
 * The shape of each previous product's version keys (its newest key's), by product key and by
 * os:release:arch:variant (how a new image joins a product another tool named).
 */
function publishedFormats(products: PlannedProduct[]): PublishedFormats {
  const formats = new Map<string, VersionFormat>();
  for (const p of products) {
    const format = p.versions.length ? versionFormatOf(p.versions.at(-1)!.key) : undefined;
    if (!format) continue;
    formats.set(p.key, format);
    formats.set(`${p.os}:${p.release}:${p.arch}:${p.variant}`, format);
  }
  return formats;
}

/** Plans, and with keepGoing re-plans without the images behind each problem until none is left. */
function planKeepingGoing(hashed: HashedImage[], config: Config, keepGoing: boolean, published: PublishedFormats) {
  const skipped: (ImageError | BuildError)[] = [];
  let current = hashed;
  for (;;) {
    const result = planProducts(current, config, published);
    if (!keepGoing || result.problems.length === 0) return { ...result, skipped };
    const drop = new Set(result.problems.flatMap((p) => (p instanceof ImageError ? [p.file] : (p.skip ?? p.files))));
    const next = current.filter((i) => !drop.has(imageLabel(i)));
    if (next.length === current.length) return { ...result, skipped };
    skipped.push(...result.problems);
    current = next;
  }
}

async function buildLocked(options: BuildOptions, reporter: Reporter, config: Config, given: Settings): Promise<BuildResult> {
  let settings = given;
  const problems: (ImageError | BuildError)[] = [];

  let previous: PublishedTree | null = null;
  if (options.previous) {
    reporter.phase(`reading the previous tree ${options.previous}`);
    // A file the output being replaced holds with the listed sha256 is linked from it, not downloaded.
    previous = await readPublished(openPreviousSource(options.previous, { reuse: [path.resolve(options.out)] }));
    // prune keeps the tree's base URL
    if (!settings.baseUrl && previous.catalog?.baseUrl) settings = { ...settings, baseUrl: previous.catalog.baseUrl };
    if (previous.foreign) {
      // Another tool's tree is carried over only when clients can use all of it: every listed
      // file there with its size and sha256, every combined fingerprint right. Only on the first
      // build (the tree has no catalog.json of ours yet): later builds trust what we published.
      reporter.phase(`checking the tree to carry over (${options.previous}) as clients would`);
      // Loaded only when needed, like the mirror below: a plain build starts faster.
      const { verifyTree } = await import('../inspect/verify.js');
      const report = await verifyTree(options.previous, { quick: true });
      const errors = report.problems.filter((p) => p.severity === 'error');
      if (errors.length) {
        throw new BuildFailed(
          errors.map(
            (p) =>
              new BuildError(
                `${options.previous}: ${p.where}: ${p.message}`,
                'clients cannot use this image either: remove it from that tree (incus-simplestreams remove FINGERPRINT, or delete its version from the products file) or add it again with the tool that made it, then build again',
              ),
          ),
        );
      }
    }
  }

  const pool = new WorkerPool();
  const cache = await FingerprintCache.load(cachePath(options.out), options.cache !== false);
  try {
    // With nothing cached every image is read: the workers load while the images are found.
    if (options.images !== undefined && cache.cold) pool.warm();
    reporter.phase('finding images');
    const found = options.images !== undefined ? await findFiles(options.images, outputPathTest(options.out)) : { files: [], problems: [] };
    problems.push(...found.problems);

    // The previous tree as planned products, once: the mirror reuses what it holds, planning merges onto it.
    let twins = 0;
    const carried =
      previous &&
      previousProducts(previous.products, previous.catalog, previous.source.label, () => twins++).map((p) => (previous.foreign ? { ...p, adopted: true } : p));
    const ctx: BuildContext = { options, reporter, config, settings, previous, carried: carried && { products: carried, twins }, pool, cache, problems };
    const early = new EarlyHashes(ctx);
    const { classified, failed, ignored } = await readImages(ctx, found.files, (c, f) => early.start(c, f));
    const paired = pairImages(classified, failed);
    problems.push(...paired.problems);
    const { hashed, bytesHashed } = await hashAll(ctx, paired.images, early);
    // Something changed, so the build will likely write: the spare tree (the one the last build
    // replaced) is listed meanwhile, on another thread (not started for a no-change build: it costs).
    if (!options.dryRun && (cache.changedSoFar() || options.mirror)) ctx.spare = StagedOutput.survey(options.out);
    if (options.mirror && problems.length === 0) {
      // Versions our previous output holds are linked from it, not downloaded again.
      const held = previous && !previous.foreign ? carried! : [];
      const { mirrorUpstreams } = await import('./mirror.js');
      ctx.mirrored = await mirrorUpstreams(
        {
          ...options.mirror,
          downloads: downloadsPath(options.out),
          ...(held.length && options.previous ? { heldRoot: path.resolve(options.previous), heldGrace: previous?.state?.grace ?? [] } : {}),
          dryRun: options.dryRun === true,
        },
        held,
        pool,
        reporter,
      );
    }
    // The workers' memory is given back before planning and writing need theirs.
    await pool.close();
    return await planAndPublish(ctx, hashed, ignored, bytesHashed);
  } finally {
    await pool.close();
  }
}

/** What every stage of one build shares; `problems` collects what is wrong, reported all at once. */
interface BuildContext {
  options: BuildOptions;
  reporter: Reporter;
  config: Config;
  /** Flags over config, resolved once (config/settings.ts). */
  settings: Settings;
  previous: PublishedTree | null;
  /** The previous tree's products as planned ones (adopted when another tool made it), and the items added so both clients see them. */
  carried: { products: PlannedProduct[]; twins: number } | null;
  pool: WorkerPool;
  cache: FingerprintCache;
  problems: (ImageError | BuildError)[];
  /** With mirror: the upstream products to publish, and what copying them took. */
  mirrored?: Mirrored;
  /** The listing of the output's spare tree, being made (see publish/output/spare.ts). */
  spare?: Promise<SpareEntry[] | null>;
}

/**
 * Stage: what each found file is, with its metadata (on the worker threads; cached when unchanged).
 * `onFolder` gets each folder's files as soon as all of them are read (what did and did not read).
 */
async function readImages(
  ctx: BuildContext,
  files: FoundFile[],
  onFolder?: (classified: Classified[], failed: Set<string>) => void,
): Promise<{ classified: Classified[]; failed: Set<string>; ignored: string[] }> {
  const { reporter, pool, cache, problems } = ctx;
  reporter.phase('reading metadata');
  const classified: Classified[] = [];
  // On the worker threads (queued all at once, so small files go in batches); results kept in file order.
  const failed = new Set<string>();
  const known = files.map((file) => cache.classification(file));
  // Everything served by the cache (a no-change rebuild): nothing to wait for. (Files that are no
  // image are never cached: with one of them the files are read as below, and it is reported.)
  if (known.every((k) => k !== undefined)) return { classified: known as Classified[], failed, ignored: [] };
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
    if (r.status === 'fulfilled') {
      classified.push(r.value);
      cache.rememberClassification(r.value);
    } else if (isReportable(r.reason)) {
      problems.push(r.reason);
      if (r.reason instanceof ImageError) failed.add(r.reason.file);
    } else throw r.reason;
  }
  const ignored = classified.filter((c) => c.role === 'other').map((c) => c.file.rel);
  for (const rel of ignored) reporter.warn(`${rel}: not an image file, left out`);
  return { classified, failed, ignored };
}

const imageId = (i: PairedImage) => (i.kind === 'split' ? `${i.meta.file.path}\u0000${i.rootfs.file.path}` : i.file.file.path);
const imageLabelOf = (i: PairedImage) => (i.kind === 'split' ? i.rootfs.file.rel : i.file.file.rel);

/**
 * Hashing started while other files are still being read: as soon as a folder's files are all
 * read, its images (paired the way pairImages pairs them: by folder) are hashed, so one large
 * file still being read (a unified tarball whose metadata.yaml comes last) does not hold up the
 * other worker. hashAll then uses these results; the order of results and problems is its own.
 */
class EarlyHashes {
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
async function hashAll(ctx: BuildContext, images: PairedImage[], early: EarlyHashes): Promise<{ hashed: HashedImage[]; bytesHashed: number }> {
  const { reporter, pool, cache, problems } = ctx;
  reporter.phase('hashing');
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

  return { hashed, bytesHashed: early.done - early.cached };
}

/** Stages: plan (pure: products, merge with the previous tree, retention), deltas, then publish. */
async function planAndPublish(ctx: BuildContext, hashed: HashedImage[], ignored: string[], done: number): Promise<BuildResult> {
  const { options, reporter, config, settings, previous, problems } = ctx;
  reporter.phase('planning');
  const {
    plan: fresh,
    problems: planProblems,
    skipped: planSkipped,
  } = planKeepingGoing(hashed, config, options.keepGoing === true, publishedFormats(ctx.carried?.products ?? []));
  const nowMs = settings.now.getTime();
  const graceMs = settings.grace.ms;
  // A warning like the plan's: printed, and in --json's `warnings`.
  const graceWarnings =
    graceMs < 2 * 3_600_000
      ? [`a grace period of ${settings.grace.text} is shorter than 2 h: clients cache the products file for an hour, and a CDN may add its own TTL`]
      : [];
  const { carried } = ctx;
  if (previous?.foreign) {
    reporter.phase(
      `carrying over ${carried!.products.length} products from a tree another tool made (paths, fingerprints, version keys and aliases kept${carried!.twins ? `; ${carried!.twins} items added so LXD and Incus both see every image` : ''})`,
    );
  }
  const previousState: PreviousState | null = previous && {
    products: carried!.products,
    productsPath: previous.productsPath,
    productsFile: previous.productsFile,
    grace: previous.state?.grace ?? [],
  };
  const mirrored = ctx.mirrored?.products ?? [];
  for (const m of mirrored) {
    const local = fresh.products.find((p) => p.key === m.key);
    if (local)
      planProblems.push(
        new BuildError(
          `product ${m.key} is both mirrored from ${ctx.mirrored!.from.get(m.key)} and built from the images folder`,
          'leave one out: filter it from the mirror (--filter) or move its images out of the images folder',
          local.versions.flatMap((v) => v.images.map((i) => i.label)),
        ),
      );
  }
  // A mirror follows its upstreams: versions they list that the filters leave out are not kept,
  // and a version they list with other images than the output holds is replaced.
  const deselected = ctx.mirrored?.deselected;
  const mergeBase =
    previousState && deselected?.size
      ? {
          ...previousState,
          products: previousState.products
            .map((p) => ({ ...p, versions: p.versions.filter((v) => !deselected.has(`${p.key} ${v.key}`)) }))
            .filter((p) => p.versions.length),
        }
      : previousState;
  const publication: Publication = planPublication([...fresh.products, ...mirrored], mergeBase, {
    replace: options.replace === true ? true : (ctx.mirrored?.replaced ?? false),
    retention: settings.retention,
    nowMs,
  });
  planProblems.push(...publication.problems);
  let plan: Plan = {
    products: publication.products,
    files: listedFiles(publication.products),
    warnings: [...graceWarnings, ...fresh.warnings, ...publication.warnings],
  };
  let skipped: (ImageError | BuildError)[] = [];
  if (options.keepGoing && planProblems.length === 0) {
    skipped = [...problems, ...planSkipped];
    problems.length = 0;
  }
  problems.push(...planProblems);
  if (problems.length === 0 && plan.products.length === 0) {
    problems.push(
      skipped.length
        ? new BuildError(
            `every image in ${options.images ?? 'the previous tree'} has a problem (listed above): nothing is left to publish`,
            'fix the problems above (--keep-going leaves out the images with problems and publishes the rest; there is no rest)',
          )
        : new BuildError(
            options.mirror
              ? `nothing to mirror: the filters select no image of ${options.mirror.upstreams.join(', ')}`
              : `no images found in ${options.images ?? 'the previous tree'}`,
            options.mirror
              ? 'loosen --filter (os, release, arch, variant, type, alias; shell globs, any case), or check the upstream URL'
              : 'put image files there: a metadata tarball with its rootfs (lxd.tar.xz + rootfs.squashfs), or a unified tarball',
          ),
    );
  }
  // Each problem once: as an error when the build fails, as a warning when it publishes without it.
  if (problems.length) throw new BuildFailed([...skipped, ...problems]);
  for (const p of skipped) reporter.warn(`skipped (--keep-going): ${p.format().replace(/\n\s*/g, ' ')}`);
  for (const w of plan.warnings) reporter.warn(w);

  const deltaJobs = settings.make.deltas ? planDeltas(plan.products, new Set(publication.added)) : [];
  let deltas: DeltaResult | undefined;
  if (deltaJobs.length) {
    reporter.phase(`making ${count(deltaJobs.length, 'squashfs delta')} with xdelta3`);
    deltas = await makeDeltas(plan.products, deltaJobs, previous?.source);
    for (const v of deltas.notSmaller) reporter.warn(`${v}: the delta was not smaller than the squashfs, left out`);
    plan = { ...plan, products: deltas.products, files: listedFiles(deltas.products) };
  }
  if (!settings.lxc)
    for (const h of hashed.filter((i) => i.lxc)) {
      const only = [h.lxc!.meta, ...(h.lxc!.rootfs.source.path === h.files[1]?.source.path ? [] : [h.lxc!.rootfs])];
      reporter.warn(`${only.map((f) => f.source.rel).join(', ')}: LXC's files (distrobuilder build-lxc output), published with --lxc (lxc: true) only`);
    }
  const lxcJobs = settings.make.lxc ? planLxc(plan.products, suppliedLxc(hashed)) : [];
  let lxc: LxcResult | undefined;
  if (lxcJobs.length) {
    await checkLxcTools(lxcJobs.some((j) => j.source.kind === 'squashfs'));
    reporter.phase(`LXC's root and meta tarballs for ${count(lxcJobs.length, 'container version')} (made with xz on every core, or kept from the last build)`);
    try {
      lxc = await makeLxc(plan.products, lxcJobs, previous?.source, { dir: derivedPath(options.out), cache: ctx.cache });
    } catch (e) {
      await deltas?.cleanup();
      throw e;
    }
    if (lxc.failed.length) {
      await Promise.all([lxc.cleanup(), deltas?.cleanup()]);
      throw new BuildFailed(
        lxc.failed.map(
          (f) =>
            new BuildError(
              `${f}: LXC's root tarball could not be made from its root filesystem`,
              'check the image (staticstreams verify on a tree holding it), or build without --lxc (lxc: false)',
            ),
        ),
      );
    }
    plan = { ...plan, products: lxc.products, files: listedFiles(lxc.products) };
  }
  try {
    const result = await publish(ctx, {
      previousState,
      publication,
      plan,
      hashed,
      ignored,
      skipped,
      done,
      deltas: deltas?.made ?? [],
      lxc: lxc?.made ?? [],
      nowMs,
      graceMs,
    });
    await lxc?.prune();
    return result;
  } finally {
    await Promise.all([deltas?.cleanup(), lxc?.cleanup()]);
  }
}

/** What the planning stages hand to publish(). */
interface Planned {
  previousState: PreviousState | null;
  publication: Publication;
  plan: Plan;
  hashed: HashedImage[];
  ignored: string[];
  skipped: (ImageError | BuildError)[];
  /** Bytes hashed. */
  done: number;
  deltas: DeltaResult['made'];
  lxc: LxcResult['made'];
  nowMs: number;
  graceMs: number;
}

/** The previous tree's versions still listed that this run did not build. */
function keptVersions(previous: PreviousState | null, plan: Plan, publication: Publication): string[] {
  if (!previous) return [];
  const listed = new Set(plan.products.flatMap((p) => p.versions.map((v) => `${p.key} ${v.key}`)));
  const built = new Set([...publication.added, ...publication.unchanged, ...publication.replaced]);
  return previous.products.flatMap((p) => p.versions.map((v) => `${p.key} ${v.key}`)).filter((n) => listed.has(n) && !built.has(n));
}

/** Renders and writes the planned tree (uploading to the bucket when configured) and swaps it in. */
async function publish(ctx: BuildContext, planned: Planned): Promise<BuildResult> {
  const { options, reporter, config, settings, previous, cache } = ctx;
  const { baseUrl } = settings;
  const { previousState, publication, plan, hashed, ignored, skipped, done, deltas, lxc, nowMs, graceMs } = planned;

  const streams = renderStreams(plan);
  // Every file this build writes is listed: a previous tree's streams/v1/images.json (an adopted
  // peer's products file) is replaced at once, not kept for the grace period.
  const grace = graceAfter(previousState, publication, new Set([...plan.files.map((f) => f.path), ...streams.files.keys()]), nowMs, graceMs);
  const lifecycle: Lifecycle = {
    ...(previous ? { previous: previous.source.label } : {}),
    added: publication.added,
    unchanged: publication.unchanged,
    replaced: publication.replaced,
    kept: keptVersions(previousState, plan, publication),
    dropped: publication.dropped.map((d) => `${d.product} ${d.version}`),
    grace: grace.keep,
    expired: grace.expired,
  };
  const graceFiles = grace.keep.map((e) => ({ origin: { kind: 'previous' as const }, path: e.path, sha256: e.sha256, size: e.size }));
  const storage = config.object_storage;
  const allFiles = [...plan.files, ...graceFiles];
  const imageCount = hashed.length + (ctx.mirrored?.products.reduce((n, p) => n + p.versions.reduce((m, v) => m + v.images.length, 0), 0) ?? 0);
  if (options.dryRun) {
    const rendered = renderCatalog(plan, streams, baseUrl);
    streams.validate();
    rendered.validate();
    return {
      plan,
      catalog: rendered.catalog,
      indexPath: streams.indexPath,
      productsPath: streams.productsPath,
      warnings: plan.warnings,
      ignored,
      serverConfigFiles: [],
      skipped,
      images: imageCount,
      sitePages: 0,
      bytesHashed: done,
      placed: { linked: 0, copied: 0, bytesCopied: 0, downloaded: 0, bytesDownloaded: 0 },
      deltas,
      lxc,
      ...(ctx.mirrored ? { mirror: ctx.mirrored.stats } : {}),
      cache: { hits: cache.hits, misses: cache.misses },
      lifecycle,
      dryRun: true,
    };
  }

  const { catalog, text: catalogText, validate: validateCatalog } = renderCatalog(plan, streams, baseUrl);
  const targets = renderTargets(settings.targets, catalog, config.default_arch, storage ? blobRedirect(storage) : null);
  for (const w of targets.warnings) reporter.warn(w);
  const stateText = renderState(grace.keep, recordedSettings(config, settings));
  const builtAt = settings.now;
  const published: Published = {
    texts: [...streams.files, ['catalog.json', catalogText], [STATE_PATH, stateText], ...targets.published],
    files: allFiles,
    site: options.site !== false ? siteOf(catalog, catalogText, config, builtAt) : null,
  };
  const digest = outputDigest(published);
  const result = (placed: PlaceStats, sitePages: number, serverConfigFiles: string[], bucket?: BucketStats): BuildResult => ({
    plan,
    catalog,
    indexPath: streams.indexPath,
    productsPath: streams.productsPath,
    warnings: [...plan.warnings, ...targets.warnings],
    ignored,
    serverConfigFiles,
    skipped,
    images: imageCount,
    sitePages,
    bytesHashed: done,
    placed,
    deltas,
    lxc,
    ...(bucket ? { bucket } : {}),
    ...(ctx.mirrored ? { mirror: ctx.mirrored.stats } : {}),
    cache: { hits: cache.hits, misses: cache.misses },
    lifecycle,
    dryRun: false,
  });
  // Nothing changed (the same digest as the last build, and the output still holds it all): write
  // nothing. Not with object storage, whose files live in the bucket.
  if (!storage && options.cache !== false && cache.lastOutput === digest && outputIntact(path.resolve(options.out), published, cache)) {
    reporter.phase('nothing changed: the output already holds what this build would write');
    cache.output = digest;
    // Nothing was linked (the ctimes the cache keys on did not move): an unchanged cache is not rewritten.
    if (!cache.unchanged()) await cache.save();
    const serverConfigFiles = targets.serverConfig.size ? await writeServerConfig(settings.serverConfigDir, targets.serverConfig) : [];
    return result({ linked: 0, copied: 0, bytesCopied: 0, downloaded: 0, bytesDownloaded: 0 }, 0, serverConfigFiles);
  }

  // What clients decode, re-validated before anything is published (a product whose JSON passed
  // the same schemas in an earlier build is not checked again).
  const checker = schemasDigest();
  streams.validate(cache.provenParts(checker, 'streams'));
  validateCatalog(cache.provenParts(checker, 'catalog'));
  reporter.phase(options.site !== false ? 'writing, and building the catalogue site' : 'writing');
  const staged = await StagedOutput.create(options.out, ctx.spare);
  // Files whose link count this build changes (their ctime moves): the cache re-reads only
  // theirs. Everything's (undefined) when a whole tree is deleted, or scratch folders of links
  // come and go (deltas, LXC files, mirror downloads, bucket uploads).
  let touched: Touched | undefined = storage || ctx.mirrored || settings.deltas || settings.lxc ? undefined : new Set();
  let placed: PlaceStats;
  let bucketStats: BucketStats | undefined;
  let sitePages = 0;
  // Loaded only when used: the AWS SDK is large.
  const bucket = storage ? (await import('../publish/bucket/s3.js')).openBucket(storage) : undefined;
  try {
    // With object storage, image files go to the bucket and /images/ redirects there.
    const local = storage ? allFiles.filter((f) => !isBucketFile(f.path)) : allFiles;
    const held = staged.prepare(new Set(local.map((f) => f.path)), touched);
    // The site renders while the files and indexes are written (Astro is mostly CPU, writing is
    // mostly waiting on the disk); its pages move in once both are done.
    const site = options.site !== false ? import('../publish/site.js') : undefined; // Astro loads only when needed
    const rendering = site?.then(({ renderSite }) => renderSite({ dir: staged.dir, catalog, settings: config.site, builtAt }));
    const writing = (async () => {
      const stats = await placeFiles(staged.dir, local, previous?.source, cache, held, touched, reporter);
      for (const [rel, text] of streams.files) await staged.writeText(rel, text);
      await staged.writeText('catalog.json', catalogText);
      await staged.writeText(STATE_PATH, stateText);
      for (const [rel, text] of targets.published) await staged.writeText(rel, text);
      return stats;
    })();
    // Both finish before anything else happens to the staged folder, failed or not.
    const [wrote, rendered] = await Promise.allSettled([writing, rendering]);
    if (wrote.status === 'rejected') throw wrote.reason;
    if (rendered.status === 'rejected') throw rendered.reason;
    placed = wrote.value;
    if (site && rendered.value) {
      await (await site).placeSite(staged.dir);
      sitePages = rendered.value.pages;
    }
    if (bucket && storage) {
      // Last before the swap: a failed site build uploads nothing; a failed upload publishes nothing.
      const scratch = path.join(staged.dir, '.staticstreams-upload');
      const synced = await syncBucket(bucket, {
        settings: storage,
        files: allFiles,
        expired: grace.expired.map((e) => e.path),
        previous: previous?.source,
        scratch,
        reporter,
      });
      await rm(scratch, { recursive: true, force: true });
      if (synced.remove.length) {
        reporter.phase(`deleting ${count(synced.remove.length, 'expired file')} from ${bucket.label}`);
        await removeExpired(bucket, synced.remove, storage.concurrency);
      }
      bucketStats = { ...synced.stats, removed: synced.remove };
    }
    reporter.phase('replacing the previous output');
    // Kept for the next build only when this tree's image files are all links (no bytes to spare).
    if (await staged.commit(placed.copied === 0 && placed.downloaded === 0)) touched = undefined;
    // Published (hard links or copies in the output): the downloads have served their purpose.
    if (ctx.mirrored) {
      await rm(downloadsPath(options.out), { recursive: true, force: true });
      // The mirrored files were proven against the upstream's sha256: known under their output
      // path from now on, so a rerun with nothing new upstream writes nothing.
      const out = path.resolve(options.out);
      for (const p of ctx.mirrored.products)
        for (const v of p.versions)
          for (const i of v.items) {
            const at = path.join(out, i.file.path);
            const st = storage ? undefined : statSync(at, { throwIfNoEntry: false });
            if (st) cache.remember(at, st, i.file.sha256);
          }
    }
  } catch (e) {
    await staged.discard();
    throw e;
  } finally {
    bucket?.close();
  }
  reporter.phase('saving the fingerprint cache');
  cache.output = digest;
  await cache.save(touched);
  const serverConfigFiles = targets.serverConfig.size ? await writeServerConfig(settings.serverConfigDir, targets.serverConfig) : [];
  return result(placed, sitePages, serverConfigFiles, bucketStats);
}

/**
 * What the site is rendered from, as far as it shows: the catalog, the site settings (and the
 * logo file's size and time), the build's day, and which products are stale at the build time;
 * and the pages (and search index) a site rendered from it has.
 */
function siteOf(catalog: Catalog, catalogText: string, config: Config, builtAt: Date): NonNullable<Published['site']> {
  const logo = config.site.logo ? statSync(config.site.logo, { throwIfNoEntry: false }) : undefined;
  const groups = groupProducts(catalog);
  const stale = groups.filter((g) => isStale(g.newest.created, config.site.stale_after_days, builtAt)).map((g) => g.slug);
  const key = JSON.stringify([
    createHash('sha256').update(catalogText).digest('hex'),
    config.site,
    logo ? [logo.size, logo.mtimeMs] : null,
    builtAt.toISOString().slice(0, 10),
    stale,
  ]);
  return { key, pages: [...sitePages(groups.map((g) => g.slug)), 'pagefind/pagefind.js'] };
}

/** distrobuilder's LXC files the images folder holds, by the fingerprint of their image. */
function suppliedLxc(hashed: HashedImage[]): Map<string, SuppliedLxcFiles> {
  const input = (f: HashedFile): PlannedFile => ({
    origin: { kind: 'input', path: f.source.path, rel: f.source.rel, dev: f.source.dev, ino: f.source.ino },
    path: f.source.rel,
    sha256: f.sha256,
    size: f.size,
  });
  return new Map(
    hashed
      .filter((h) => h.lxc)
      .map((h) => [
        h.fingerprint,
        { meta: input(h.lxc!.meta), rootfs: input(h.lxc!.rootfs), ...(h.lxc!.fingerprint ? { fingerprint: h.lxc!.fingerprint } : {}) },
      ]),
  );
}
