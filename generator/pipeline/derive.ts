// The stage that derives files from the planned ones (squashfs deltas, LXC's tarballs), between
// planning and publishing.

import { BuildError, BuildFailed } from '../util/errors.js';
import { derivedPath } from '../fingerprint/cache.js';
import { type Plan, type PlannedFile, type PlannedProduct } from '../plan/products.js';
import { listedFiles, type Publication } from '../plan/publication.js';
import { type HashedFile, type HashedImage } from '../ingest/model.js';
import { planDeltas } from '../plan/deltas.js';
import { makeDeltas, type DeltaResult } from '../publish/deltas.js';
import { planLxc, type SuppliedLxcFiles } from '../plan/lxc.js';
import { checkSqfs2tar, makeLxc, type LxcResult } from '../publish/lxc.js';
import { count } from '../util/format.js';
import type { BuildContext } from './context.js';
import { planManifests } from '../plan/manifests.js';
import { makeManifests } from '../publish/manifests.js';
import { readPublishedLists } from './published-lists.js';
import type { PackageList } from '../formats/manifest.js';

/**
 * Stage: files derived from the planned ones — squashfs deltas for the versions this run adds,
 * LXC's tarballs for container versions without them — added to the plan. `cleanup` removes the
 * scratch folders once the files are placed; `lxc.prune()` the kept files no job used.
 */
export async function deriveFiles(
  ctx: BuildContext,
  planned: Plan,
  publication: Publication,
  hashed: HashedImage[],
): Promise<{ plan: Plan; deltas?: DeltaResult; lxc?: LxcResult }> {
  const { options, reporter, settings, previous } = ctx;
  let plan = planned;
  const described = await deriveManifests(ctx, plan, hashed);
  if (described) plan = { ...plan, products: described, files: listedFiles(described) };
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
    if (lxcJobs.some((j) => j.source.kind === 'squashfs' && !j.supplied)) await checkSqfs2tar();
    reporter.phase(`LXC's root and meta tarballs for ${count(lxcJobs.length, 'container version')} (made with xz on every core, or kept from the last build)`);
    try {
      lxc = await makeLxc(plan.products, lxcJobs, previous?.source, {
        dir: derivedPath(options.out),
        cache: ctx.cache,
        onJob: (name, n, of) =>
          ctx.reporter.phase(`making LXC's files for ${name} (${n} of ${of}: its root filesystem as a tar, compressed with xz on every core)`),
      });
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
  return { plan, ...(deltas ? { deltas } : {}), ...(lxc ? { lxc } : {}) };
}

/** The package lists, SBOMs and changes of the versions whose images this run read, added as items. */
async function deriveManifests(ctx: BuildContext, plan: Plan, hashed: HashedImage[]): Promise<PlannedProduct[] | undefined> {
  if (!ctx.settings.make.manifests) return undefined;
  const lists = new Map<string, PackageList>(ctx.mirrored?.lists ?? []);
  for (const h of hashed) if (h.packages && 'list' in h.packages) lists.set(h.fingerprint, h.packages.list);
  if (!lists.size) return undefined;
  const published = ctx.previous ? await readPublishedLists(plan.products, lists, ctx.previous.source, ctx.reporter) : new Map<string, PackageList>();
  const jobs = planManifests(plan.products, lists, published);
  if (!jobs.length) return undefined;
  ctx.reporter.phase(`package lists, SBOMs and changes of ${count(jobs.length, 'version')}`);
  return makeManifests(plan.products, jobs);
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
