// The mirror stage of a build: read each upstream (source/upstream), turn its products into
// planned ones as a carried-over tree is (plan/previous: items, keys, aliases kept, the other
// client's items added), choose what to copy (plan/select), reuse every version the previous
// output already holds with the same images, download the rest several at a time (resumable,
// each file checked against the upstream index), and prove every downloaded image: its combined
// fingerprint recomputed, every tarball read to its end, every squashfs as long as it says.
// Nothing is published unless all of it passes; what passed stays in the downloads folder for
// the next run when a later stage fails.

import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { ownFolder } from '../util/fs.js';
import path from 'node:path';
import { BuildError, BuildFailed, ImageError } from '../util/errors.js';
import type { Reporter } from '../util/reporter.js';
import { mapLimit } from '../util/concurrency.js';
import type { Filter } from '../config/filters.js';
import type { WorkerPool } from '../pool/pool.js';
import { previousProducts } from '../plan/previous.js';
import { selectProducts } from '../plan/select.js';
import { pathClashes } from '../plan/publication.js';
import { lxcOf } from '../plan/lxc.js';
import { readLxcMeta, templatedProblems, withAncestors } from '../ingest/lxc-meta.js';
import type { PlannedFile, PlannedProduct, PlannedVersion } from '../plan/products.js';
import { LXC_META_FTYPE, LXC_ROOTFS_FTYPE, METADATA_FTYPES, ROOTFS_FTYPES, UNIFIED_FTYPES } from '../simplestreams/ftypes.js';
import type { Classified } from '../ingest/classify.js';
import { download, type HttpLimits } from '../source/http.js';
import { readUpstream, upstreamBase, type UpstreamTrust } from '../source/upstream.js';
import { withoutCredentials } from '../util/url.js';
import { count } from '../util/format.js';
import { isManifestItem } from '../plan/manifests.js';
import { squashfsPackages } from '../ingest/squashfs-packages.js';
import { jsonOf, MANIFEST_FTYPES, parseChangesJson, parseManifestJson, type PackageList, type PackageScan } from '../formats/manifest.js';

export interface MirrorOptions {
  /** Upstream base URLs. */
  upstreams: string[];
  filters: Filter[];
  /** Copy the N newest versions of each selected product. */
  keep?: number;
  http: HttpLimits;
  /** Files downloaded at a time. */
  concurrency: number;
  /** Where downloads (and partial downloads) wait for the publish. */
  downloads: string;
  /** The previous output's folder, whose files `held` lists. */
  heldRoot?: string;
  /** Files the previous output keeps for their grace period (reused like held ones). */
  heldGrace?: { path: string; sha256: string; size: number }[];
  /** Plan only: download nothing. */
  dryRun?: boolean;
  /** The upstreams' signed chains, checked against this keyring under this policy. */
  trust?: UpstreamTrust;
  /** What the previous output recorded of each upstream (catalog.json `upstreams`): its signer, its signed index's time. */
  recorded?: { url: string; signer?: string; updated?: string }[];
  /** The build's clock: an upstream catalogue dating images later is not used. */
  now?: Date;
  /**
   * Only add (`promote`): versions the filters leave out stay in the previous tree; a plain
   * mirror drops them (it follows its upstream).
   */
  addOnly?: boolean;
  /** With addOnly: a version key the output holds with other images may take the upstream's (--replace). */
  replace?: boolean;
}

export interface MirrorStats {
  upstreams: string[];
  /** `product version` copied from an upstream in this run. */
  downloadedVersions: string[];
  /** Selected versions the previous output already held with the same images. */
  heldVersions: number;
  filesDownloaded: number;
  bytesFetched: number;
  /** Bytes an interrupted earlier run had fetched (not fetched again). */
  bytesResumed: number;
}

export interface Mirrored {
  products: PlannedProduct[];
  stats: MirrorStats;
  /** `product version` an upstream lists that the filters leave out: not kept from the previous output. */
  deselected: Set<string>;
  /** `product version` held with other images (the upstream replaced it, or the filters changed): replaced. */
  replaced: Set<string>;
  /** Product key → the upstream it is mirrored from. */
  from: Map<string, string>;
  /** Each upstream, the key its signed chain was checked against and its signed index's time (when it was). */
  upstreams?: { url: string; signer?: string; updated?: string }[];
  /** Image fingerprint → the package list read from its root filesystem (downloaded versions without the upstream's own). */
  lists?: Map<string, PackageList>;
}

const fingerprints = (v: PlannedVersion) =>
  v.images
    .map((i) => i.fingerprint)
    .sort()
    .join();

/** Upstream products to publish, with `input` files in the downloads folder (or `previous` files when held). */
export async function mirrorUpstreams(options: MirrorOptions, held: PlannedProduct[], pool: WorkerPool, reporter: Reporter): Promise<Mirrored> {
  const stats: MirrorStats = { upstreams: [], downloadedVersions: [], heldVersions: 0, filesDownloaded: 0, bytesFetched: 0, bytesResumed: 0 };
  const products: PlannedProduct[] = [];
  const problems: BuildError[] = [];
  const deselected = new Set<string>();
  const replaced = new Set<string>();
  const owner = new Map<string, string>();
  const aliasOwner = new Map<string, string>();
  /** Upstream file → its URL. */
  const urls = new Map<PlannedFile, string>();
  const signers: { url: string; signer?: string; updated?: string }[] = [];
  for (const spec of options.upstreams) {
    reporter.phase(`reading the upstream ${withoutCredentials(spec)}`);
    const recorded = options.recorded?.find((r) => r.url === upstreamBase(spec));
    const trust: UpstreamTrust = { ...(options.trust ?? { policy: 'off' }), ...(recorded ? { recorded } : {}) };
    const upstream = await readUpstream(spec, options.http, trust, options.now);
    for (const w of upstream.warnings) reporter.warn(w);
    for (const n of upstream.notes) reporter.phase(n);
    stats.upstreams.push(upstream.base);
    signers.push({ url: upstream.base, ...(upstream.signer ? { signer: upstream.signer } : {}), ...(upstream.updated ? { updated: upstream.updated } : {}) });
    const all = previousProducts(upstream.products, upstream.catalog, upstream.base);
    const selected = selectProducts(all, options.filters, options.keep);
    const chosen = new Set(selected.flatMap((p) => p.versions.map((v) => `${p.key} ${v.key}`)));
    if (!options.addOnly) for (const p of all) for (const v of p.versions) if (!chosen.has(`${p.key} ${v.key}`)) deselected.add(`${p.key} ${v.key}`);
    reporter.phase(
      `${upstream.base}: ${selected.length} of ${count(all.length, 'product')} selected, ${count(
        selected.reduce((n, p) => n + p.versions.length, 0),
        'version',
      )}`,
    );
    for (const p of selected) {
      const first = owner.get(p.key);
      if (first)
        problems.push(new BuildError(`product ${p.key} is published by two upstreams: ${first} and ${upstream.base}`, 'mirror it from one of them (--filter)'));
      owner.set(p.key, upstream.base);
      for (const alias of p.aliases) {
        const claim = `${alias}/${p.canonicalArch}`;
        const by = aliasOwner.get(claim);
        if (by && by !== upstream.base)
          problems.push(
            new BuildError(`alias ${alias} (${p.arch}) is claimed by two upstreams: ${by} and ${upstream.base}`, 'mirror it from one of them (--filter)'),
          );
        aliasOwner.set(claim, upstream.base);
      }
      for (const v of p.versions) for (const i of v.items) urls.set(i.file, new URL(i.file.path, upstream.base).href);
      products.push(p);
    }
  }
  problems.push(...pathClashes(products, (key) => `${owner.get(key)}: `));
  if (problems.length) throw new BuildFailed(problems);

  // A filter that selects nothing: a release job must not report success having done nothing
  // (and a mirror must not drop everything it held).
  if (products.every((p) => p.versions.length === 0))
    throw new BuildError(
      `nothing to ${options.addOnly ? 'promote' : 'mirror'}: the filters${options.filters.length ? ` (${options.filters.map((f) => `${f.key}=${f.glob}`).join(', ')})` : ''} select no image of ${stats.upstreams.join(', ')}`,
      'loosen --filter (os, release, arch, variant, type, alias, version=YYYYMMDD_HH:MM; shell globs, any case), or check the upstream URL: staticstreams list URL shows what it serves',
    );

  // Versions held already (same product, version key and images) are linked from the previous output.
  const heldVersions = new Map(held.flatMap((p) => p.versions.map((v) => [`${p.key} ${v.key}`, v] as const)));
  const fetch: PlannedVersion[] = [];
  const mirrored = products.map((p) => ({
    ...p,
    versions: p.versions.map((v) => {
      const have = heldVersions.get(`${p.key} ${v.key}`);
      if (have && fingerprints(have) === fingerprints(v)) {
        stats.heldVersions++;
        return have;
      }
      // promote publishes what was tested: another build under a key the output already serves
      // (a rebuild in daily) is not swapped in unless the user says so; pinned users would get other bytes.
      if (have && options.addOnly && !options.replace)
        problems.push(
          new BuildError(
            `${p.key} ${v.key}: the output already publishes this version with other images (${fingerprints(have)}); ${owner.get(p.key)} now has ${fingerprints(v)}`,
            'promote a new version instead, or give --replace to publish the new images under the same key (users pinned to it get other bytes)',
          ),
        );
      if (have) replaced.add(`${p.key} ${v.key}`);
      fetch.push(v);
      stats.downloadedVersions.push(`${p.key} ${v.key}`);
      return v;
    }),
  }));

  if (problems.length) throw new BuildFailed(problems);
  if (options.dryRun) return { products: mirrored, stats, deselected, replaced, from: owner, upstreams: signers.filter((s) => s.signer) };
  // A file the previous output holds (same sha256) is linked from there, not downloaded again.
  const heldFiles = new Map<string, { path: string; size: number }>([
    ...(options.heldGrace ?? []).map((g) => [g.sha256, g] as const),
    ...held.flatMap((p) => p.versions.flatMap((v) => v.items.map((i) => [i.file.sha256, i.file] as const))),
  ]);
  const local = new Map<string, string>();
  const files: PlannedFile[] = [];
  for (const file of new Map(fetch.flatMap((v) => v.items.map((i) => [i.file.sha256, i.file] as const))).values()) {
    const have = heldFiles.get(file.sha256);
    // (With object storage the previous output's image files are in the bucket, not on disk.)
    const there = have && options.heldRoot ? path.join(options.heldRoot, have.path) : undefined;
    if (there && have!.size === file.size && (await stat(there).catch(() => null))?.size === file.size) local.set(file.sha256, there);
    else files.push(file);
  }
  const total = files.reduce((n, f) => n + f.size, 0);
  if (files.length) {
    reporter.phase(`downloading ${count(files.length, 'file')}, ${(total / 2 ** 20).toFixed(1)} MiB`);
    await ownFolder(options.downloads);
  }
  let done = 0;
  // The combined fingerprint of a split image is hashed while its rootfs downloads: the metadata
  // tarballs (small) come first, and each rootfs continues the hash of every one it pairs with.
  const pairs = new Map<string, { meta: PlannedFile; fingerprint: string }[]>();
  for (const v of fetch)
    for (const image of v.images)
      if (image.files.length === 2) {
        const [meta, rootfs] = [image.files[0]!, image.files[1]!];
        const list = pairs.get(rootfs.file.sha256) ?? [];
        if (!list.some((x) => x.meta.sha256 === meta.file.sha256)) list.push({ meta: meta.file, fingerprint: image.fingerprint });
        pairs.set(rootfs.file.sha256, list);
      }
  const metas = new Set([...pairs.values()].flatMap((l) => l.map((x) => x.meta.sha256)));
  /** `meta sha256 + rootfs sha256` → the combined sha256 hashed on the way in. */
  const combinedSeen = new Map<string, string>();
  const fetchOne = async (file: PlannedFile) => {
    const url = urls.get(file)!;
    const dest = path.join(options.downloads, file.sha256);
    const partners = pairs.get(file.sha256) ?? [];
    // (a metadata tarball is read whole into memory: only one of a sane size)
    const ready = partners.filter((x) => local.has(x.meta.sha256) && x.meta.size <= PREFIX_BYTES);
    const prefixes = await Promise.all(ready.map(async (x) => createHash('sha256').update(await readFile(local.get(x.meta.sha256)!))));
    const got = await download(
      url,
      dest,
      file,
      options.http,
      (n) => {
        done += n;
        reporter.progress('downloading', done, total, url);
      },
      undefined,
      prefixes,
    );
    ready.forEach((x, i) => combinedSeen.set(`${x.meta.sha256} ${file.sha256}`, got.combined[i]!));
    stats.bytesFetched += got.fetched;
    stats.bytesResumed += got.resumed;
    if (got.fetched) stats.filesDownloaded++;
    local.set(file.sha256, dest);
  };
  const results = [
    ...(await mapLimit(
      files.filter((f) => metas.has(f.sha256)),
      options.concurrency,
      fetchOne,
    )),
    ...(await mapLimit(
      files.filter((f) => !metas.has(f.sha256)),
      options.concurrency,
      fetchOne,
    )),
  ];
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failed.length) throw new BuildFailed(failed.map((e) => (e instanceof BuildError ? e : new BuildError(String((e as Error).message), 'try again'))));

  let lists = new Map<string, PackageList>();
  if (fetch.length) {
    reporter.phase(
      `checking ${count(
        fetch.reduce((n, v) => n + v.images.length, 0),
        'downloaded image',
      )} as clients would`,
    );
    const proven = await proveImages(fetch, local, urls, pool, combinedSeen);
    problems.push(...proven.problems);
    if (problems.length) throw new BuildFailed(problems);
    lists = proven.lists;
  }
  // Every downloaded (or held) file becomes an input of this build: linked into the output like an image.
  for (const v of fetch)
    for (const i of v.items) {
      const url = urls.get(i.file)!;
      i.file.origin = { kind: 'input', path: local.get(i.file.sha256)!, rel: url };
    }
  return { products: mirrored, stats, deselected, replaced, from: owner, upstreams: signers.filter((s) => s.signer), lists };
}

type Role = 'metadata' | 'unified' | 'tarball' | 'squashfs' | 'qcow2';
const ROLE_NAMES: Record<string, string> = {
  metadata: 'a metadata tarball with metadata.yaml',
  unified: 'a unified tarball with metadata.yaml and a root filesystem',
  tarball: 'a root filesystem tarball',
  squashfs: 'a squashfs',
  qcow2: 'a qcow2 disk',
  other: 'no image file (unrecognised bytes)',
};

/** What the file of an item of `ftype` must be; undefined for deltas. */
function expectedRole(ftype: string): Role | undefined {
  if (METADATA_FTYPES.includes(ftype)) return 'metadata';
  if (UNIFIED_FTYPES.includes(ftype)) return 'unified';
  if (ftype === 'squashfs') return 'squashfs';
  // LXC's root and meta tarballs: proven to unpack to their end like a root tarball
  if (ftype === 'root.tar.xz' || ftype === LXC_ROOTFS_FTYPE || ftype === LXC_META_FTYPE) return 'tarball';
  return ROOTFS_FTYPES[ftype] ? 'qcow2' : undefined;
}

/**
 * Proves the downloaded images as a client would find them: each file is what its item says
 * (classified and its metadata.yaml read as the build reads an input), a split image's metadata‖rootfs
 * sha256 is its fingerprint, every tarball (metadata, root, unified) decompresses and reads to its
 * end, a squashfs is as long as its superblock says.
 */
/** What to do about an upstream's LXC files that would reach the host. */
const LXC_FIX =
  "nothing was published: LXC applies these files on the host as they are; report it to the upstream, or leave the image out (--filter); built images' LXC files are made here (--lxc)";

/** The largest metadata tarball whose bytes start a combined hash in memory (others are hashed after the download). */
const PREFIX_BYTES = 64 * 2 ** 20;

/** `combinedSeen`: `meta sha256 + rootfs sha256` → their combined sha256, hashed during the download. */
async function proveImages(
  versions: PlannedVersion[],
  local: Map<string, string>,
  urls: Map<PlannedFile, string>,
  pool: WorkerPool,
  combinedSeen: Map<string, string>,
): Promise<{ problems: BuildError[]; lists: Map<string, PackageList> }> {
  const problems: BuildError[] = [];
  /** File sha256 → what its package database lists (root filesystems of versions without the upstream's list). */
  const scans = new Map<string, PackageScan>();
  const fix = 'nothing was published: report it to the upstream, or leave the image out (--filter)';
  const checked = new Set<string>();
  // LXC's files come with host configuration LXC applies as it is: each meta.tar.xz is read
  // first (it is small), and the paths its templates name are watched in its root tarball.
  const watch = new Map<string, { templated: string[]; meta: string }>();
  for (const v of versions) {
    const lxc = lxcOf(v);
    if (!lxc) continue;
    const metaFile = lxc.meta.item.item.file;
    const meta = await readLxcMeta(local.get(metaFile.sha256)!);
    for (const p of meta.problems) problems.push(new BuildError(`${urls.get(metaFile)}: ${p}`, LXC_FIX));
    const rootfs = lxc.rootfs.item.item.file;
    if (meta.templated.length) watch.set(rootfs.sha256, { templated: meta.templated, meta: urls.get(metaFile)! });
  }
  /** Proves a file is what its item says (as the build classifies an input) and unpacks to its end; `packages`: read its package database too. */
  const prove = async (file: PlannedFile, ftype: string, packages?: boolean) => {
    if (checked.has(file.sha256)) return;
    checked.add(file.sha256);
    const at = local.get(file.sha256)!;
    const url = urls.get(file)!;
    if (isManifestItem({ ftype })) {
      const problem = manifestProblem(ftype, await readFile(at, 'utf8'));
      if (problem) problems.push(new BuildError(`${url}: the ${ftype} item ${problem}`, fix));
      return;
    }
    const expected = expectedRole(ftype);
    if (!expected) return; // a delta: applied by the client with xdelta3, its source checked there
    if (packages && expected === 'squashfs') scans.set(file.sha256, await squashfsPackages(at));
    let found: Classified;
    try {
      found = await pool.classify({ path: at, rel: url, size: file.size, dev: 0, ino: 0, mtimeMs: 0, ctimeMs: 0 });
    } catch (e) {
      problems.push(new BuildError(e instanceof ImageError ? `${url}: ${e.problem}` : `${url}: ${(e as Error).message}`, fix));
      return;
    }
    const role = found.role === 'rootfs' ? found.format : found.role;
    if (role !== expected) {
      problems.push(
        new BuildError(`${url}: listed as ${ftype} (${ROLE_NAMES[expected]}) but is ${ROLE_NAMES[role] ?? 'no image file'}: clients would fail on it`, fix),
      );
      return;
    }
    if (found.role !== 'other' && found.compression && (role === 'metadata' || role === 'unified' || role === 'tarball')) {
      try {
        const templated = watch.get(file.sha256);
        const prefix = packages ? (role === 'unified' ? 'rootfs/' : role === 'tarball' ? '' : undefined) : undefined;
        const result = await pool.hash([at], {
          check: found.compression,
          watch: templated && withAncestors(templated.templated),
          hashless: true,
          ...(prefix !== undefined ? { packages: prefix } : {}),
        });
        if (result.packages) scans.set(file.sha256, result.packages);
        if (templated)
          for (const p of templatedProblems(templated.templated, result.watched?.seen ?? {}, result.watched?.odd ?? false))
            problems.push(new BuildError(`${templated.meta} (with ${url}): ${p}`, LXC_FIX));
      } catch (e) {
        problems.push(new BuildError(`${url}: ${e instanceof ImageError ? e.problem : (e as Error).message}`, fix));
      }
    }
  };
  const jobs: Promise<void>[] = [];
  for (const v of versions) {
    // LXC's own files (not part of an image LXD or Incus sees) are proven too.
    const lxc = lxcOf(v);
    if (lxc) for (const f of [lxc.meta, lxc.rootfs]) jobs.push(prove(f.item.item.file, f.item.ftype));
    // A version without the upstream's own package list gets one made here, from its container's root filesystem.
    const own = !v.items.some(isManifestItem);
    for (const i of v.items) if (isManifestItem(i)) jobs.push(prove(i.file, i.ftype));
    for (const image of v.images) {
      for (const [n, { file, ftype }] of image.files.entries())
        jobs.push(prove(file, ftype, own && image.type === 'container' && n === image.files.length - 1));
      if (image.files.length !== 2) continue; // unified: its sha256, checked on download, is its fingerprint
      const [meta, rootfs] = image.files;
      jobs.push(
        (async () => {
          const sha256 =
            combinedSeen.get(`${meta!.file.sha256} ${rootfs!.file.sha256}`) ??
            (await pool.hash([local.get(meta!.file.sha256)!, local.get(rootfs!.file.sha256)!])).sha256;
          if (sha256 !== image.fingerprint)
            problems.push(
              new BuildError(
                `${urls.get(meta!.file)} + ${urls.get(rootfs!.file)}: together they hash to ${sha256}, the upstream index gives the image the fingerprint ${image.fingerprint} (${ROOTFS_FTYPES[rootfs!.ftype] ? rootfs!.ftype : 'rootfs'}): clients would refuse it`,
                fix,
              ),
            );
        })(),
      );
    }
  }
  for (const r of await Promise.allSettled(jobs)) if (r.status === 'rejected') throw r.reason;
  const lists = new Map<string, PackageList>();
  for (const v of versions)
    for (const image of v.images) {
      const scan = scans.get(image.files.at(-1)!.file.sha256);
      if (scan && 'list' in scan) lists.set(image.fingerprint, scan.list);
    }
  return { problems: problems.sort((a, b) => (a.problem < b.problem ? -1 : 1)), lists };
}

/** What is wrong with a downloaded manifest item's content, if anything. */
function manifestProblem(ftype: string, text: string): string | undefined {
  if (ftype === MANIFEST_FTYPES.json) {
    const p = parseManifestJson(text);
    return typeof p === 'string' ? p : undefined;
  }
  if (ftype === MANIFEST_FTYPES.changes) {
    const p = parseChangesJson(text);
    return typeof p === 'string' ? p : undefined;
  }
  if (ftype === MANIFEST_FTYPES.sbom)
    return (jsonOf(text) as { spdxVersion?: unknown } | undefined)?.spdxVersion === 'SPDX-2.3' ? undefined : 'is not an SPDX 2.3 document';
  return /^(?:[A-Za-z0-9_][A-Za-z0-9_.+~@:-]*\t[A-Za-z0-9_.+~^:-]+\n)*$/.test(text) ? undefined : 'is not a package manifest (name<TAB>version lines)';
}
