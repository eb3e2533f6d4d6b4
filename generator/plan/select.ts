// Chooses what a mirror copies from an upstream's products (pure): the products and images the
// filters select, and the `keep` newest versions of each. A `type` filter keeps only that type's
// images of a version, with the items they need (a shared metadata item loses the combined
// fingerprint of a rootfs left out; squashfs deltas and LXC's files go with the container images).

import type { Filter } from '../config/filters.js';
import { findArchitecture } from '../simplestreams/architectures.js';
import { DELTA_FTYPES, ROOTFS_FTYPES } from '../simplestreams/ftypes.js';
import type { PlannedItem, PlannedProduct, PlannedVersion } from './products.js';
import { lxcOf } from './lxc.js';

/** Every name the product's architecture goes by (amd64 and x86_64 alike). */
function archNames(p: PlannedProduct): string[] {
  const arch = findArchitecture(p.arch);
  return arch ? [arch.canonical, arch.debian, ...arch.aliases] : [p.arch, p.canonicalArch];
}

function productValues(p: PlannedProduct, key: Filter['key']): string[] {
  switch (key) {
    case 'os':
      return [p.os];
    case 'release':
      return [p.release];
    case 'variant':
      return [p.variant];
    case 'arch':
      return archNames(p);
    case 'alias':
      return p.aliases.flatMap((a) => [a, ...archNames(p).map((n) => `${a}/${n}`)]);
    case 'type':
    case 'version':
      return [];
  }
}

/**
 * The names a version key goes by: itself, and without its colons (20261206_03:00 is also
 * 20261206_0300, the shape keys had before 2026-12 and docs and scripts still write).
 */
const versionNames = (key: string): string[] => (key.includes(':') ? [key, key.replace(/:/g, '')] : [key]);

/** True when `values` satisfy every filter of `key` (any one of them), or there are none. */
function matches(filters: Filter[], key: Filter['key'], values: string[]): boolean {
  const of = filters.filter((f) => f.key === key);
  return of.length === 0 || of.some((f) => values.some((v) => f.test(v)));
}

/** The version with only the images whose type passes, and the items those images use. */
function ofTypes(version: PlannedVersion, filters: Filter[]): PlannedVersion | undefined {
  const images = version.images.filter((i) => matches(filters, 'type', [i.type, i.type === 'virtual-machine' ? 'vm' : 'ct']));
  if (images.length === 0) return undefined;
  if (images.length === version.images.length) return version;
  const used = new Set(images.flatMap((i) => i.files.map((f) => f.file.path)));
  // LXC's two files go with the container images (the root tarball may be no image's own).
  const lxc = lxcOf(version);
  if (lxc && images.some((i) => i.type === 'container')) for (const f of [lxc.meta, lxc.rootfs]) used.add(f.item.path);
  const rootfsKept = new Set(version.items.filter((i) => ROOTFS_FTYPES[i.ftype] && used.has(i.file.path)).map((i) => i.ftype));
  const items: PlannedItem[] = [];
  for (const item of version.items) {
    const delta = DELTA_FTYPES[item.ftype];
    if (delta ? !rootfsKept.has(delta) : !used.has(item.file.path)) continue;
    const combined = Object.fromEntries(
      Object.entries(item.combined).filter(([field]) =>
        Object.entries(ROOTFS_FTYPES).some(([ftype, r]) => r.combined.includes(field) && rootfsKept.has(ftype)),
      ),
    );
    items.push({ ...item, combined });
  }
  return { ...version, items, images };
}

/** The products and versions to copy: filtered (a `version` filter picks versions), then the `keep` newest versions of each. */
export function selectProducts(products: PlannedProduct[], filters: Filter[], keep?: number): PlannedProduct[] {
  const selected: PlannedProduct[] = [];
  for (const p of products) {
    if (!(['os', 'release', 'arch', 'variant', 'alias'] as const).every((key) => matches(filters, key, productValues(p, key)))) continue;
    let versions = p.versions.filter((v) => matches(filters, 'version', versionNames(v.key))).flatMap((v) => ofTypes(v, filters) ?? []);
    if (keep !== undefined) versions = versions.slice(-keep);
    if (versions.length) selected.push({ ...p, versions });
  }
  return selected;
}
