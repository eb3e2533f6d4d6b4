// Which LXC files to make (pure): for each container version of the tree without them, the
// image LXC's `download` template gets (a split squashfs image first, then a unified one, then
// a split root tarball — the order clients prefer), the file its root filesystem comes from, its
// metadata, and the key its root tarball is listed under. And how a version published again
// with the same images keeps the LXC files made for it before.

import { LXC_ROOTFS_FTYPE, METADATA_FTYPES } from '../simplestreams/ftypes.js';
import { lxcFilesOf } from '../simplestreams/images.js';
import type { PlannedFile, PlannedImage, PlannedItem, PlannedProduct, PlannedVersion } from './products.js';
import { byKey } from '../util/compare.js';

export type LxcSourceKind = 'squashfs' | 'unified' | 'root-tarball';

export interface LxcJob {
  product: PlannedProduct;
  version: string;
  /** The version's folder (the LXC files go in a folder of their own inside it). */
  dir: string;
  /** The image whose root filesystem LXC gets. */
  image: PlannedImage;
  source: { kind: LxcSourceKind; file: PlannedFile };
  /** The image's metadata tarball (split), or its unified tarball. */
  metadata: PlannedFile;
  /** The metadata items of a split image: they get the root tarball's combined hash when it is listed as `root.tar.xz`. */
  metaKeys: string[];
  /** `root.tar.xz` (the item OpenNebula imports), or — when that key holds an input root tarball — `lxc.rootfs.tar.xz`. */
  rootKey: 'root.tar.xz' | typeof LXC_ROOTFS_FTYPE;
  /** `root.tar.xz` when it pairs with the image's metadata items (a second image of the version for LXD and Incus); otherwise an ftype they skip. */
  rootFtype: 'root.tar.xz' | typeof LXC_ROOTFS_FTYPE;
  /** distrobuilder's LXC files found next to the image: published as they are, nothing is made. */
  supplied?: SuppliedLxcFiles;
}

/** LXC's files an images folder holds for an image (by its fingerprint). */
export interface SuppliedLxcFiles {
  meta: PlannedFile;
  rootfs: PlannedFile;
  /** sha256(metadata ‖ rootfs) when the rootfs is not the image's own. */
  fingerprint?: string;
}

const RANK: Record<LxcSourceKind, number> = { squashfs: 0, unified: 1, 'root-tarball': 2 };

function sourceOf(image: PlannedImage): { kind: LxcSourceKind; file: PlannedFile; metadata: PlannedFile } | undefined {
  if (image.type !== 'container') return undefined;
  const [first, second] = image.files;
  if (!first) return undefined;
  if (!second) return { kind: 'unified', file: first.file, metadata: first.file };
  if (second.ftype === 'squashfs') return { kind: 'squashfs', file: second.file, metadata: first.file };
  if (second.ftype === 'root.tar.xz') return { kind: 'root-tarball', file: second.file, metadata: first.file };
  return undefined;
}

/** The LXC files of a planned version, if it has them. */
export function lxcOf(version: PlannedVersion) {
  return lxcFilesOf(
    version.items.map((i): [string, { ftype: string; path: string; item: PlannedItem }] => [i.key, { ftype: i.ftype, path: i.file.path, item: i }]),
  );
}

/** The container versions of `products` without LXC files, and what to make them from (or take: `supplied`, by image fingerprint). */
export function planLxc(products: PlannedProduct[], supplied: ReadonlyMap<string, SuppliedLxcFiles> = new Map()): LxcJob[] {
  const jobs: LxcJob[] = [];
  for (const product of products) {
    for (const v of product.versions) {
      if (lxcOf(v)) continue;
      const candidates = v.images
        .map((image) => ({ image, source: sourceOf(image) }))
        .filter((c): c is { image: PlannedImage; source: NonNullable<ReturnType<typeof sourceOf>> } => c.source !== undefined)
        .sort((a, b) => Number(supplied.has(b.image.fingerprint)) - Number(supplied.has(a.image.fingerprint)) || RANK[a.source.kind] - RANK[b.source.kind]);
      const chosen = candidates[0];
      if (!chosen) continue;
      const { image, source } = chosen;
      const metaKeys =
        source.kind === 'unified' ? [] : v.items.filter((i) => METADATA_FTYPES.includes(i.ftype) && i.file.path === source.metadata.path).map((i) => i.key);
      const rootKey = v.items.some((i) => i.key === 'root.tar.xz') ? LXC_ROOTFS_FTYPE : 'root.tar.xz';
      const anyFile = v.items[0]!.file.path;
      const given = supplied.get(image.fingerprint);
      jobs.push({
        product,
        version: v.key,
        dir: anyFile.slice(0, anyFile.lastIndexOf('/')),
        image,
        source: { kind: source.kind, file: source.file },
        metadata: source.metadata,
        metaKeys,
        rootKey,
        rootFtype: rootKey === 'root.tar.xz' && metaKeys.length ? 'root.tar.xz' : LXC_ROOTFS_FTYPE,
        ...(given ? { supplied: given } : {}),
      });
    }
  }
  return jobs;
}

/** The images of a version LXC files added (a root tarball listed as `root.tar.xz`, paired with the metadata). */
export function lxcImages(version: PlannedVersion): Set<string> {
  const lxc = lxcOf(version);
  if (!lxc) return new Set();
  const root = lxc.rootfs.item.path;
  return new Set(version.images.filter((i) => i.files.some((f) => f.file.path === root)).map((i) => i.fingerprint));
}

/**
 * A version built again with the same images as `published`: keeps the LXC files, the image they
 * add and the combined hashes the published version has for them.
 */
export function carryLxc(published: PlannedVersion, fresh: PlannedVersion): PlannedVersion {
  const lxc = lxcOf(published);
  if (!lxc || lxcOf(fresh)) return fresh;
  const added = lxcImages(published);
  const keys = new Set([lxc.meta.key, lxc.rootfs.key]);
  const combinedOf = new Map(published.items.map((i) => [i.key, i.combined]));
  const items = [
    ...fresh.items.map((i) => {
      const before = combinedOf.get(i.key);
      if (!METADATA_FTYPES.includes(i.ftype) || !before) return i;
      const extra = Object.fromEntries(Object.entries(before).filter(([field, value]) => i.combined[field] === undefined && [...added].includes(value)));
      return Object.keys(extra).length ? { ...i, combined: { ...i.combined, ...extra } } : i;
    }),
    ...published.items.filter((i) => keys.has(i.key)),
  ].sort(byKey);
  return { ...fresh, items, images: [...fresh.images, ...published.images.filter((i) => added.has(i.fingerprint))] };
}
