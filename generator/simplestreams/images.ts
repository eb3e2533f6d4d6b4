// How the items of one version pair into images, the one place that decides it (as Incus's
// shared/simplestreams does): each rootfs item (squashfs, root.tar.xz, disk-kvm.img, …) with each
// metadata item (lxd.tar.xz, incus.tar.xz) that carries the rootfs's combined_*_sha256 — that
// value is the image's fingerprint — and each unified item on its own (fingerprint = its
// sha256). An image seen through both clients' items is one image with both clients.

import {
  combinedFingerprint,
  LXC_FILE_NAMES,
  LXC_META_FTYPE,
  LXC_ROOTFS_FTYPE,
  METADATA_FTYPES,
  ROOTFS_FTYPES,
  UNIFIED_FTYPES,
  type ImageKind,
} from './ftypes.js';

export type ClientName = 'lxd' | 'incus';

/** The fields of an item pairing reads; anything else rides along in T. */
export interface PairableItem {
  ftype: string;
  sha256: string;
  combined_type?: string;
  [field: string]: unknown;
}

export interface PairedImage<T> {
  fingerprint: string;
  type: ImageKind;
  /** The clients whose items list it, sorted. */
  clients: ClientName[];
  /** Split images: the metadata and rootfs items (the first client's metadata item). */
  meta?: { key: string; item: T };
  rootfs?: { key: string; item: T };
  /** Unified images: the combined item. */
  unified?: { key: string; item: T };
}

/** The client a metadata or unified ftype belongs to. */
export const clientOf = (ftype: string): ClientName => (ftype.startsWith('incus') ? 'incus' : 'lxd');

/** The images `items` (key → item) make, in the order: split images by rootfs item key, then unified ones. */
export function imagesOf<T extends PairableItem>(items: Record<string, T> | [string, T][]): PairedImage<T>[] {
  const entries = (Array.isArray(items) ? items : Object.entries(items)).filter(([, i]) => typeof i?.ftype === 'string');
  const images = new Map<string, PairedImage<T>>();
  const add = (image: PairedImage<T>) => {
    const seen = images.get(image.fingerprint);
    if (!seen) images.set(image.fingerprint, image);
    else if (!seen.clients.includes(image.clients[0]!)) seen.clients = [...seen.clients, image.clients[0]!].sort();
  };
  const metas = entries.filter(([, i]) => METADATA_FTYPES.includes(i.ftype));
  for (const [rkey, root] of entries) {
    const rootfs = ROOTFS_FTYPES[root.ftype];
    if (!rootfs) continue;
    for (const [mkey, meta] of metas) {
      const fingerprint = combinedFingerprint(meta, root.ftype);
      if (!fingerprint) continue;
      add({ fingerprint, type: rootfs.type, clients: [clientOf(meta.ftype)], meta: { key: mkey, item: meta }, rootfs: { key: rkey, item: root } });
    }
  }
  for (const [ukey, item] of entries) {
    if (!UNIFIED_FTYPES.includes(item.ftype) || typeof item.sha256 !== 'string') continue;
    add({
      fingerprint: item.sha256,
      type: item.combined_type === 'virtual-machine' ? 'virtual-machine' : 'container',
      clients: [clientOf(item.ftype)],
      unified: { key: ukey, item },
    });
  }
  return [...images.values()];
}

/** The fields of an item the LXC pairing reads. */
export interface PathedItem {
  ftype: string;
  path: string;
}

/** A version's files for LXC's `download` template: both tarballs, in one folder. */
export interface LxcFiles<T> {
  /** The folder holding both, relative to the tree's root, without a trailing `/`. */
  dir: string;
  meta: { key: string; item: T };
  rootfs: { key: string; item: T };
}

const folderOf = (p: string) => p.slice(0, p.lastIndexOf('/'));
const nameOf = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/**
 * The LXC files of a version's items: a meta item (`lxc.meta.tar.xz`, named meta.tar.xz) and,
 * in the same folder, a root tarball named rootfs.tar.xz (ftype `root.tar.xz` or
 * `lxc.rootfs.tar.xz`). Undefined when the version has none.
 */
export function lxcFilesOf<T extends PathedItem>(items: Record<string, T> | [string, T][]): LxcFiles<T> | undefined {
  const entries = (Array.isArray(items) ? items : Object.entries(items)).filter(([, i]) => typeof i?.ftype === 'string' && typeof i.path === 'string');
  for (const [mkey, meta] of entries) {
    if (meta.ftype !== LXC_META_FTYPE || nameOf(meta.path) !== LXC_FILE_NAMES.meta) continue;
    const dir = folderOf(meta.path);
    const root = entries.find(
      ([, i]) => (i.ftype === 'root.tar.xz' || i.ftype === LXC_ROOTFS_FTYPE) && folderOf(i.path) === dir && nameOf(i.path) === LXC_FILE_NAMES.rootfs,
    );
    if (root) return { dir, meta: { key: mkey, item: meta }, rootfs: { key: root[0], item: root[1] } };
  }
  return undefined;
}
