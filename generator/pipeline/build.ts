// The build pipeline as a library call, in stages over one BuildContext (context.ts): settings
// resolved once (config/settings) → claim the output → read the previous tree (source/) → find
// and read images, pair, hash (read.ts) → plan, merge, retention (plan/, pure; here) → derived
// files: deltas, LXC's tarballs (derive.ts) → render and publish (publish.ts: the only writer,
// atomic swap). The CLI's `build`, `mirror` and `prune` are thin layers over `build()`.

import type { Reporter } from '../util/reporter.js';
import { readFile, stat } from 'node:fs/promises';
import { catalogSchema } from '../formats/catalog.js';
import path from 'node:path';
import { DEFAULT_CONFIG, type Config, type Target } from '../config/config.js';
import { bcryptCost, parseHtpasswd } from '../config/htpasswd.js';
import { BuildError, BuildFailed, ImageError, UsageError } from '../util/errors.js';
import { findFiles } from '../ingest/find.js';
import { pairImages } from '../ingest/pair.js';
import { WorkerPool } from '../pool/pool.js';
import { cachePath, FingerprintCache } from '../fingerprint/cache.js';
import { planProducts, type Plan, type PlannedProduct, type PublishedFormats } from '../plan/products.js';
import { versionFormatOf, type VersionFormat } from '../simplestreams/version-key.js';
import { listedFiles, pathClashes, planPublication, type PreviousState, type Publication } from '../plan/publication.js';
import { previousProducts } from '../plan/previous.js';
import { selectWithdrawals, withoutWithdrawn, type Withdrawn } from '../plan/withdraw.js';
import type { PublishedTree } from '../source/published.js';
import { outputPathTest, StagedOutput } from '../publish/output/tree.js';
import { imageLabel, type HashedImage } from '../ingest/model.js';
import { lockOutput } from '../publish/output/lock.js';
import { CLOUDFLARE_MAX_BCRYPT_COST, SERVER_CONFIG_FILES, type TargetAuth } from '../render/cdn/targets.js';
import { claimOutput, claimServerConfig } from '../publish/output/ownership.js';
import { resolveBuild, type Settings } from '../config/settings.js';
import { checkXdelta3 } from '../publish/deltas.js';
import { checkXz } from '../publish/lxc.js';
import type { BuildContext, BuildOptions, BuildResult } from './context.js';
import { downloadsPath } from './context.js';
import { EarlyHashes, hashAll, readImages } from './read.js';
import { deriveFiles } from './derive.js';
import { publish } from './publish.js';
import { loadSigner } from './sign.js';
import { readPrevious } from './previous.js';
import type { SigningKey } from '../signing/openpgp.js';

export type { BuildOptions, BuildResult, Lifecycle, MirrorStats, Reporter } from './context.js';
export { downloadsPath };

const silent: Reporter = { phase() {}, progress() {}, warn() {} };

/**
 * A private tree's users, and the hosts that can keep it private: nginx, Caddy, Cloudflare Pages
 * (its worker checks every request) and `serve`. Netlify serves the files before any code of
 * ours, and a bucket's public URL serves image files to anyone: refused with what to do instead.
 */
async function loadAuth(file: string, targets: readonly Target[], config: Config): Promise<TargetAuth> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(
      `cannot read auth.htpasswd ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})\n  fix: write it with \`htpasswd -B -c ${file} USER\``,
    );
  }
  const users = parseHtpasswd(text, file);
  const problems: string[] = [];
  if (targets.includes('netlify'))
    problems.push(
      'auth with --target netlify: Netlify serves the files itself, and only its own password protection (site settings → Access & security, on paid plans) can keep them private; build without auth: and turn that on, or publish with --target nginx or caddy',
    );
  const costly = users.filter((u) => bcryptCost(u.hash) > CLOUDFLARE_MAX_BCRYPT_COST);
  if (targets.includes('cloudflare') && costly.length)
    problems.push(
      `auth with --target cloudflare: ${costly.map((u) => `${u.user}'s hash has bcrypt cost ${bcryptCost(u.hash)}`).join(', ')}: the worker would spend ${2 ** (bcryptCost(costly[0]!.hash) - 10) * 66} ms of CPU or more on each check (the most it is given is cost ${CLOUDFLARE_MAX_BCRYPT_COST}); write them again with htpasswd -B -C 7 and long random passwords`,
    );
  if (config.object_storage)
    problems.push(
      "auth with object_storage: /images/ would redirect private clients to the bucket's public URL, which serves every image file to anyone; keep image files on the server (no object_storage:) for a private tree",
    );
  if (problems.length) throw new UsageError(problems.join('\nerror: '));
  return { file, users };
}

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
  const settings = resolveBuild({ ...options, env: options.env ?? process.env, mirrorKeep: options.mirror?.keep }, config);
  // The tree lives in the bucket: each attempt is this build on top of the live tree, then a commit.
  if (settings.targets.includes('bucket') && !options.bucketStage) {
    const { buildIntoBucket } = await import('./bucket-target.js');
    return buildIntoBucket({ ...options, reporter }, settings, config, build);
  }
  // A key that cannot sign stops the build before anything is written.
  const signer = settings.signing ? await loadSigner(settings.signing, settings.now) : undefined;
  if (signer && !signer.deterministic)
    reporter.warn(
      `the signing key ${signer.fingerprint} makes different signatures on every build (DSA, ECDSA or a v6 key): every build rewrites them; an Ed25519 or RSA key does not`,
    );
  if (settings.baseUrl && /^http:/i.test(settings.baseUrl))
    reporter.warn(
      `the base URL ${settings.baseUrl} is http://: LXD and Incus refuse a simplestreams remote over plain http (lxc remote add needs https); the catalogue and the import endpoints name it as given`,
    );
  const auth = settings.htpasswd ? await loadAuth(settings.htpasswd, settings.targets, config) : undefined;
  if (options.images !== undefined) await checkImages(options.images);
  else if (!options.previous && !options.mirror) throw new UsageError('nothing to publish: give an images folder, a previous tree, or both');
  // Nothing of the user's is ever replaced: checked before anything is written.
  await claimOutput(options.out, { images: options.images, configFile: options.configFile, dryRun: options.dryRun });
  await claimServerConfig(settings.serverConfigDir, Object.values(SERVER_CONFIG_FILES));
  if (settings.make.deltas) await checkXdelta3();
  if (settings.make.lxc) await checkXz();
  const lock = await lockOutput(options.out);
  try {
    return await buildLocked(options, reporter, config, settings, signer, auth);
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

async function buildLocked(
  options: BuildOptions,
  reporter: Reporter,
  config: Config,
  given: Settings,
  signer: SigningKey | undefined,
  auth: TargetAuth | undefined,
): Promise<BuildResult> {
  let settings = given;
  const problems: (ImageError | BuildError)[] = [];

  let previous: PublishedTree | null = null;
  if (options.previous) {
    previous = await readPrevious(
      options.previous,
      options.out,
      settings,
      { signer, keyring: options.keyring, unsigned: options.unsigned },
      reporter,
      options.previousSource,
    );
    // prune keeps the tree's base URL
    if (!settings.baseUrl && previous.catalog?.baseUrl) settings = { ...settings, baseUrl: previous.catalog.baseUrl };
  }

  const pool = new WorkerPool();
  const cache = await FingerprintCache.load(cachePath(options.out), options.cache !== false);
  try {
    // With nothing cached every image is read: the workers load while the images are found.
    if (options.images !== undefined && cache.cold) pool.warm();
    if (options.images !== undefined) reporter.phase('finding images');
    const found = options.images !== undefined ? await findFiles(options.images, outputPathTest(options.out)) : { files: [], problems: [] };
    problems.push(...found.problems);

    // The previous tree as planned products, once: the mirror reuses what it holds, planning merges onto it.
    let twins = 0;
    const carried =
      previous &&
      previousProducts(previous.products, previous.catalog, previous.source.label, () => twins++).map((p) => (previous.foreign ? { ...p, adopted: true } : p));
    const withdrawn = withdrawals(options, previous, carried, settings.now);
    const ctx: BuildContext = {
      options,
      reporter,
      config,
      settings,
      previous,
      withdrawn,
      carried: carried && { products: carried, twins },
      pool,
      cache,
      problems,
      ...(signer ? { signer } : {}),
      ...(auth ? { auth } : {}),
    };
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
          ...(previous?.catalog?.upstreams ? { recorded: previous.catalog.upstreams } : {}),
          now: settings.now,
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

/**
 * Versions the output being replaced already published with other images (a rebuild under a
 * fixed serial): clients that cached the version keep the old build. A warning, as only the
 * output of an earlier build of this folder is compared (with --previous it is an error).
 */
async function republished(out: string, plan: Plan): Promise<string[]> {
  let catalog;
  try {
    catalog = catalogSchema.safeParse(JSON.parse(await readFile(path.join(out, 'catalog.json'), 'utf8')));
  } catch {
    return [];
  }
  if (!catalog.success) return [];
  const before = new Map(
    catalog.data.products.flatMap((p) =>
      p.versions.map((v) => [
        `${p.key} ${v.version}`,
        v.images
          .map((i) => i.fingerprint)
          .sort()
          .join(),
      ]),
    ),
  );
  const warnings: string[] = [];
  for (const p of plan.products)
    for (const v of p.versions) {
      const was = before.get(`${p.key} ${v.key}`);
      const now = v.images
        .map((i) => i.fingerprint)
        .sort()
        .join();
      if (was !== undefined && was !== now)
        warnings.push(
          `${p.key} ${v.key} was published in ${out} with other images: clients that already have this version keep the old build, and a version key should name one build; give the image a new serial (e.g. \`date -u +%Y%m%d_%H%M\`)`,
        );
    }
  return warnings;
}

/**
 * The versions withdrawn from the tree: those its state records, and those this run withdraws
 * (`withdraw`), each named in the previous tree or refused.
 */
function withdrawals(options: BuildOptions, previous: PublishedTree | null, carried: PlannedProduct[] | null, now: Date): Withdrawn[] {
  const before = previous?.state?.withdrawn ?? [];
  if (!options.withdraw?.length) return before;
  const { withdrawn, problems } = selectWithdrawals(carried ?? [], options.withdraw, now.toISOString());
  if (problems.length) throw new BuildFailed(problems);
  return [...before, ...withdrawn];
}

/** The images of this run, without those of withdrawn versions (each left out with a word). */
function keptOut(ctx: BuildContext, hashed: HashedImage[]): HashedImage[] {
  const withdrawn = new Map(ctx.withdrawn.flatMap((w) => w.fingerprints.map((f) => [f, w] as const)));
  return hashed.filter((image) => {
    const w = withdrawn.get(image.fingerprint);
    if (w)
      ctx.reporter.warn(
        `${imageLabel(image)}: left out: it is ${w.product} ${w.version}, withdrawn from this tree on ${w.since} (staticstreams-state.json); rebuild it with a new serial to publish a fixed build`,
      );
    return !w;
  });
}

/** Stages: plan (pure: products, merge with the previous tree, retention), deltas, then publish. */
async function planAndPublish(ctx: BuildContext, hashed: HashedImage[], ignored: string[], done: number): Promise<BuildResult> {
  const { options, reporter, config, settings, previous, problems } = ctx;
  reporter.phase('planning');
  const {
    plan: fresh,
    problems: planProblems,
    skipped: planSkipped,
  } = planKeepingGoing(keptOut(ctx, hashed), config, options.keepGoing === true, publishedFormats(ctx.carried?.products ?? []));
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
  const mirrored = withoutWithdrawn(ctx.mirrored?.products ?? [], ctx.withdrawn);
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
  // A withdrawn version is not kept either: its files stay for the grace period, unlisted.
  const deselected = ctx.mirrored?.deselected;
  const mergeBase =
    previousState && (deselected?.size || ctx.withdrawn.length)
      ? {
          ...previousState,
          products: withoutWithdrawn(previousState.products, ctx.withdrawn)
            .map((p) => ({ ...p, versions: p.versions.filter((v) => !deselected?.has(`${p.key} ${v.key}`)) }))
            .filter((p) => p.versions.length),
        }
      : previousState;
  const publication: Publication = planPublication([...fresh.products, ...mirrored], mergeBase, {
    replace: options.replace === true ? true : (ctx.mirrored?.replaced ?? false),
    retention: settings.retention,
    nowMs,
  });
  planProblems.push(...publication.problems, ...pathClashes(publication.products));
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
  if (!previous) plan = { ...plan, warnings: [...plan.warnings, ...(await republished(options.out, plan))] };
  for (const w of plan.warnings) reporter.warn(w);

  const { plan: derivedPlan, deltas, lxc } = await deriveFiles(ctx, plan, publication, hashed);
  plan = derivedPlan;
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
