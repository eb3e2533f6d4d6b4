// The last stage of a build: render the planned tree, write it (and the site, the server config,
// the bucket) into a staging folder and swap it in; a build with nothing to change writes nothing.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { BuildError, ImageError } from '../util/errors.js';
import { schemasDigest } from '../formats/schemas-digest.js';
import type { Plan, PlannedFile } from '../plan/products.js';
import { graceAfter, type PreviousState, type Publication } from '../plan/publication.js';
import { renderState, STATE_PATH } from '../formats/state.js';
import { INDEX_PATH, newestCreation, renderStreams } from '../render/streams.js';
import { sjsonPath } from '../simplestreams/signed.js';
import { PUBLIC_KEY_PATHS } from '../formats/catalog.js';
import { signTree } from './sign.js';
import { renderCatalog } from '../render/catalog.js';
import type { Catalog } from '../formats/catalog.js';
import { placeFiles, type PlaceStats, type Touched } from '../publish/blobs.js';
import { StagedOutput } from '../publish/output/tree.js';
import type { HashedImage } from '../ingest/model.js';
import { publishedLogoName } from '../formats/site-input.js';
import { renderTargets } from '../render/cdn/targets.js';
import { siblingPaths } from '../render/cdn/hidden.js';
import { basePathOf } from '../render/cdn/import-map.js';
import { writeServerConfig } from '../publish/server-config.js';
import type { Settings } from '../config/settings.js';
import { blobRedirect, isBucketFile } from '../render/bucket-layout.js';
import { removeExpired, syncBucket, type BucketStats } from '../publish/bucket/sync.js';
import type { DeltaResult } from '../publish/deltas.js';
import type { LxcResult } from '../publish/lxc.js';
import { outputDigest, outputIntact, type Published } from '../publish/output/unchanged.js';
import { groupProducts, isStale } from '../formats/groups.js';
import { sitePages } from '../publish/site.js';
import { readDescriptions } from './descriptions.js';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { count } from '../util/format.js';
import { downloadsPath, type BuildContext, type BuildResult, type Lifecycle } from './context.js';

const withoutEndpoint = ({ endpoint: _endpoint, ...rest }: NonNullable<Config['object_storage']>) => rest;

/** The settings `prune` reuses when run without the config file (see formats/state.ts). */
function recordedSettings(config: Config, settings: Settings): Record<string, unknown> {
  const { title, description, remote_name, stale_after_days, logo } = config.site;
  return {
    ...(settings.baseUrl ? { base_url: settings.baseUrl } : {}),
    targets: settings.targets,
    default_arch: config.default_arch,
    retention: config.retention,
    // A private tree stays private on every later run (prune from cron, --previous): the path of
    // its users' file, never a hash (the hashes are only where a host needs them).
    ...(settings.htpasswd ? { auth: { htpasswd: path.resolve(settings.htpasswd) } } : {}),
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

/** What the planning stages hand to publish(). */
export interface Planned {
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

/**
 * A signed tree's texts that live with the image files (each version's SHA256SUMS and .asc), as
 * files in `dir` for the bucket upload.
 */
async function bucketTexts(dir: string, signed: Map<string, string | Uint8Array>): Promise<PlannedFile[]> {
  const files: PlannedFile[] = [];
  for (const [rel, text] of signed) {
    if (!isBucketFile(rel)) continue;
    const at = path.join(dir, rel);
    await mkdir(path.dirname(at), { recursive: true });
    await writeFile(at, text);
    files.push({ origin: { kind: 'input', path: at, rel }, path: rel, sha256: createHash('sha256').update(text).digest('hex'), size: Buffer.byteLength(text) });
  }
  return files;
}

/** What catalog.json says of the tree's signing key and a mirror's upstreams' signers. */
function trustOf(ctx: BuildContext): Parameters<typeof renderCatalog>[3] {
  const signer = ctx.signer;
  return {
    ...(signer
      ? {
          signing: {
            fingerprint: signer.fingerprint,
            userIds: signer.userIds,
            key: PUBLIC_KEY_PATHS.armored,
            keyring: PUBLIC_KEY_PATHS.binary,
            index: sjsonPath(INDEX_PATH),
          },
        }
      : {}),
    ...(ctx.mirrored?.upstreams ? { upstreams: ctx.mirrored.upstreams } : {}),
  };
}

const NOTHING_PLACED: PlaceStats = { linked: 0, copied: 0, bytesCopied: 0, downloaded: 0, bytesDownloaded: 0 };

/** What differs between a dry run, a build with nothing to change and a real one. */
interface Outcome {
  catalog: Catalog;
  warnings: string[];
  placed?: PlaceStats;
  sitePages?: number;
  serverConfigFiles?: string[];
  bucket?: BucketStats;
  dryRun?: true;
}

/** The one result of publish(), dry or real. */
function resultOf(
  ctx: BuildContext,
  planned: Planned,
  streams: ReturnType<typeof renderStreams>,
  lifecycle: Lifecycle,
  { catalog, warnings, placed = NOTHING_PLACED, sitePages = 0, serverConfigFiles = [], bucket, dryRun }: Outcome,
): BuildResult {
  const { plan, hashed, ignored, skipped, done, deltas, lxc } = planned;
  const mirrored = ctx.mirrored?.products.reduce((n, p) => n + p.versions.reduce((m, v) => m + v.images.length, 0), 0) ?? 0;
  return {
    plan,
    catalog,
    indexPath: streams.indexPath,
    productsPath: streams.productsPath,
    warnings,
    ignored,
    serverConfigFiles,
    skipped,
    images: hashed.length + mirrored,
    sitePages,
    bytesHashed: done,
    placed,
    deltas,
    lxc,
    ...(bucket ? { bucket } : {}),
    ...(ctx.mirrored ? { mirror: ctx.mirrored.stats } : {}),
    cache: { hits: ctx.cache.hits, misses: ctx.cache.misses },
    lifecycle,
    dryRun: dryRun ?? false,
  };
}

/** Which versions were added, kept, replaced and dropped, and which superseded files stay for the grace period. */
function lifecycleOf(ctx: BuildContext, planned: Planned, streams: ReturnType<typeof renderStreams>) {
  const { previousState, publication, plan, nowMs, graceMs } = planned;
  // Every file this build writes is listed: a previous tree's streams/v1/images.json (an adopted
  // peer's products file) is replaced at once, not kept for the grace period.
  const before = new Set((ctx.previous?.state?.withdrawn ?? []).map((w) => `${w.product} ${w.version}`));
  const withdrawn = ctx.withdrawn.map((w) => `${w.product} ${w.version}`).filter((w) => !before.has(w));
  const grace = graceAfter(
    previousState,
    publication,
    new Set([...plan.files.map((f) => f.path), ...streams.files.keys()]),
    nowMs,
    graceMs,
    new Set(withdrawn),
  );
  const lifecycle: Lifecycle = {
    ...(ctx.previous ? { previous: ctx.previous.source.label } : {}),
    added: publication.added,
    unchanged: publication.unchanged,
    replaced: publication.replaced,
    kept: keptVersions(previousState, plan, publication),
    dropped: publication.dropped.map((d) => `${d.product} ${d.version}`),
    withdrawn,
    grace: grace.keep,
    expired: grace.expired,
  };
  return { grace, lifecycle };
}

/** Image files (and a signed tree's SHA256SUMS) to the bucket, expired ones deleted: last before the swap. */
async function syncToBucket(
  ctx: BuildContext,
  bucket: Awaited<ReturnType<(typeof import('../source/bucket.js'))['openBucket']>>,
  stagedDir: string,
  files: PlannedFile[],
  signed: Map<string, string | Uint8Array>,
  expired: string[],
): Promise<BucketStats> {
  const storage = ctx.config.object_storage!;
  const scratch = path.join(stagedDir, '.staticstreams-upload');
  const checksums = await bucketTexts(path.join(stagedDir, '.staticstreams-signed'), signed);
  const synced = await syncBucket(bucket, {
    settings: storage,
    files: [...files, ...checksums],
    expired,
    previous: ctx.previous?.source,
    scratch,
    reporter: ctx.reporter,
  });
  await rm(scratch, { recursive: true, force: true });
  await rm(path.join(stagedDir, '.staticstreams-signed'), { recursive: true, force: true });
  // With --target bucket, deletions wait for the commit (publish/bucket/commit.ts).
  if (synced.remove.length && !ctx.options.bucketStage) {
    ctx.reporter.phase(`deleting ${count(synced.remove.length, 'expired file')} from ${bucket.label}`);
    await removeExpired(bucket, synced.remove, storage.concurrency);
  }
  return { ...synced.stats, removed: ctx.options.bucketStage ? [] : synced.remove };
}

/**
 * A mirror's downloads, once published (hard links or copies in the output), are removed; the
 * mirrored files, proven against the upstream's sha256, are known under their output path from
 * now on, so a rerun with nothing new upstream writes nothing.
 */
async function settleMirrored(ctx: BuildContext): Promise<void> {
  if (!ctx.mirrored) return;
  await rm(downloadsPath(ctx.options.out), { recursive: true, force: true });
  if (ctx.config.object_storage) return;
  const out = path.resolve(ctx.options.out);
  for (const p of ctx.mirrored.products)
    for (const v of p.versions)
      for (const i of v.items) {
        const at = path.join(out, i.file.path);
        const st = statSync(at, { throwIfNoEntry: false });
        if (st) ctx.cache.remember(at, st, i.file.sha256);
      }
}

/** Renders and writes the planned tree (uploading to the bucket when configured) and swaps it in. */
export async function publish(ctx: BuildContext, planned: Planned): Promise<BuildResult> {
  const { options, reporter, config, settings, previous, cache } = ctx;
  const { baseUrl } = settings;
  const { plan } = planned;

  const streams = renderStreams(plan);
  const { grace, lifecycle } = lifecycleOf(ctx, planned, streams);
  const storage = config.object_storage;
  const allFiles = [...plan.files, ...grace.keep.map((e) => ({ origin: { kind: 'previous' as const }, path: e.path, sha256: e.sha256, size: e.size }))];
  if (options.dryRun) {
    const rendered = renderCatalog(plan, streams, baseUrl, trustOf(ctx));
    streams.validate();
    rendered.validate();
    return resultOf(ctx, planned, streams, lifecycle, { catalog: rendered.catalog, warnings: plan.warnings, dryRun: true });
  }

  // Signatures of documents the output already holds unchanged are kept, not made again; the
  // others are made on the signing workers while the rest of the tree is written.
  const signing = ctx.signer
    ? signTree(
        ctx.signer,
        plan,
        streams.files,
        newestCreation(plan),
        Math.floor(planned.nowMs / 1000),
        config.object_storage ? undefined : options.out,
        ctx.cache,
      )
    : undefined;
  const signed = signing?.texts ?? new Map<string, string | Uint8Array>();
  /** Waits for the signatures being made, and adds them to `signed`; what they are. */
  const signaturesMade = async () => {
    const made = signing ? await signing.made : new Map<string, string>();
    for (const [rel, text] of made) signed.set(rel, text);
    if (made.size) reporter.phase(`signed ${count(made.size, 'document')}`);
    return made;
  };
  const { catalog, text: catalogText, validate: validateCatalog } = renderCatalog(plan, streams, baseUrl, trustOf(ctx));
  const targets = renderTargets(
    settings.targets,
    catalog,
    config.default_arch,
    // (with --target bucket the tree is in the bucket itself: nothing redirects)
    storage && !settings.targets.includes('bucket') ? blobRedirect(storage) : null,
    ctx.auth ?? null,
    siblingPaths(basePathOf(catalog.baseUrl), options.out, settings.serverConfigDir),
  );
  for (const w of targets.warnings) reporter.warn(w);
  const stateText = renderState(grace.keep, recordedSettings(config, settings), ctx.withdrawn);
  const builtAt = settings.now;
  /** Every text the tree has (the signatures being made, once they are). */
  const textsOf = (): Published['texts'] => [...streams.files, ...signed, ['catalog.json', catalogText], [STATE_PATH, stateText], ...targets.published];
  const published: Published = {
    texts: textsOf(),
    files: allFiles,
    site: options.site !== false ? siteOf(catalog, catalogText, config, builtAt, ctx.auth !== undefined) : null,
  };
  const outcome = { catalog, warnings: [...plan.warnings, ...targets.warnings] };
  const serverConfig = () => (targets.serverConfig.size ? writeServerConfig(settings.serverConfigDir, targets.serverConfig) : Promise.resolve([]));
  // Nothing changed (the same digest as the last build, and the output still holds it all): write
  // nothing. Not with object storage, whose files live in the bucket; not when a signature had to
  // be made (the output does not hold it).
  if (!storage && options.cache !== false && !signing?.pending) {
    const digest = outputDigest(published);
    if (cache.lastOutput === digest && outputIntact(path.resolve(options.out), published, cache)) {
      reporter.phase('nothing changed: the output already holds what this build would write');
      cache.output = digest;
      // Nothing was linked (the ctimes the cache keys on did not move): an unchanged cache is not rewritten.
      if (!cache.unchanged()) await cache.save();
      return resultOf(ctx, planned, streams, lifecycle, { ...outcome, serverConfigFiles: await serverConfig() });
    }
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
  const bucket = storage ? (await import('../source/bucket.js')).openBucket(storage) : undefined;
  try {
    // With object storage, image files go to the bucket and /images/ redirects there.
    const local = storage ? allFiles.filter((f) => !isBucketFile(f.path)) : allFiles;
    const held = staged.prepare(new Set(local.map((f) => f.path)), touched);
    // The site renders while the files and indexes are written (Astro is mostly CPU, writing is
    // mostly waiting on the disk); its pages move in once both are done.
    const site = options.site !== false ? import('../publish/site.js') : undefined; // Astro loads only when needed
    const rendering = site?.then(async ({ renderSite }) =>
      renderSite({
        dir: staged.dir,
        catalog,
        settings: config.site,
        builtAt,
        private: ctx.auth !== undefined,
        described: await readDescriptions(plan.products, previous?.source, reporter),
      }),
    );
    const writing = (async () => {
      const stats = await placeFiles(staged.dir, local, previous?.source, cache, held, touched, reporter);
      // With object storage, what is signed under images/ (SHA256SUMS and .asc) goes to the bucket below.
      const here = ([rel]: readonly [string, unknown]) => !storage || !isBucketFile(rel);
      staged.writeTexts([...streams.files, ...[...signed].filter(here), ['catalog.json', catalogText], [STATE_PATH, stateText], ...targets.published]);
      // The signatures being made, last (the rest of the tree was written meanwhile).
      staged.writeTexts([...(await signaturesMade())].filter(here));
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
    // Last before the swap: a failed site build uploads nothing; a failed upload publishes nothing.
    if (bucket)
      bucketStats = await syncToBucket(
        ctx,
        bucket,
        staged.dir,
        allFiles,
        signed,
        grace.expired.map((e) => e.path),
      );
    reporter.phase('replacing the previous output');
    // Kept for the next build only when this tree's image files are all links (no bytes to spare).
    if (await staged.commit(placed.copied === 0 && placed.downloaded === 0)) touched = undefined;
    await settleMirrored(ctx);
  } catch (e) {
    await staged.discard();
    throw e;
  } finally {
    bucket?.close();
  }
  reporter.phase('saving the fingerprint cache');
  cache.output = outputDigest({ ...published, texts: textsOf() });
  await cache.save(touched);
  return resultOf(ctx, planned, streams, lifecycle, {
    ...outcome,
    placed,
    sitePages,
    serverConfigFiles: await serverConfig(),
    ...(bucketStats ? { bucket: bucketStats } : {}),
  });
}

/**
 * What the site is rendered from, as far as it shows: the catalog, the site settings (and the
 * logo file's size and time), the build's day, and which products are stale at the build time;
 * and the pages (and search index) a site rendered from it has.
 */
function siteOf(catalog: Catalog, catalogText: string, config: Config, builtAt: Date, isPrivate: boolean): NonNullable<Published['site']> {
  const logo = config.site.logo ? statSync(config.site.logo, { throwIfNoEntry: false }) : undefined;
  const groups = groupProducts(catalog);
  const stale = groups.filter((g) => isStale(g.newest.created, config.site.stale_after_days, builtAt)).map((g) => g.slug);
  const key = JSON.stringify([
    createHash('sha256').update(catalogText).digest('hex'),
    config.site,
    logo ? [logo.size, logo.mtimeMs] : null,
    builtAt.toISOString().slice(0, 10),
    stale,
    isPrivate,
  ]);
  return { key, pages: [...sitePages(groups.map((g) => g.slug)), 'pagefind/pagefind.js'] };
}
