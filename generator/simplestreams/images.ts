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
  /** Split images: every metadata item that declares it (one per client, possibly one file listed twice). */
  metas?: { key: string; item: T }[];
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
    else {
      if (!seen.clients.includes(image.clients[0]!)) seen.clients = [...seen.clients, image.clients[0]!].sort();
      if (seen.metas && image.meta) seen.metas.push(image.meta);
    }
  };
  const metas = entries.filter(([, i]) => METADATA_FTYPES.includes(i.ftype));
  for (const [rkey, root] of entries) {
    const rootfs = ROOTFS_FTYPES[root.ftype];
    if (!rootfs) continue;
    for (const [mkey, meta] of metas) {
      const fingerprint = combinedFingerprint(meta, root.ftype);
      if (!fingerprint) continue;
      const metaRef = { key: mkey, item: meta };
      add({ fingerprint, type: rootfs.type, clients: [clientOf(meta.ftype)], meta: metaRef, metas: [metaRef], rootfs: { key: rkey, item: root } });
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

/** Why a client cannot see a rootfs item as an image: what its metadata items lack. */
export interface PairingGap<T> {
  rootfs: { key: string; item: T };
  client: ClientName;
  /**
   * `no-metadata`: the version has no metadata item of this client (a tree for the other one);
   * `no-fingerprint`: none of its metadata items carries the rootfs's combined_*_sha256;
   * `ambiguous`: several do, and the client cannot tell which goes with the rootfs.
   */
  gap: 'no-metadata' | 'no-fingerprint' | 'ambiguous';
  /** The combined field the client looks for first. */
  field: string;
}

/** The metadata ftype of each client. */
const METADATA_OF: Readonly<Record<ClientName, string>> = { lxd: 'lxd.tar.xz', incus: 'incus.tar.xz' };

/** Each rootfs item × client that imagesOf pairs into no image, or into more than one, with why. */
export function pairingGaps<T extends PairableItem>(items: Record<string, T> | [string, T][]): PairingGap<T>[] {
  const entries = (Array.isArray(items) ? items : Object.entries(items)).filter(([, i]) => typeof i?.ftype === 'string');
  const gaps: PairingGap<T>[] = [];
  for (const [rkey, root] of entries) {
    const rootfs = ROOTFS_FTYPES[root.ftype];
    if (!rootfs) continue;
    for (const client of ['lxd', 'incus'] as const) {
      const metas = entries.filter(([, m]) => m.ftype === METADATA_OF[client]);
      const carrying = metas.filter(([, m]) => combinedFingerprint(m, root.ftype) !== undefined).length;
      const gap = metas.length === 0 ? 'no-metadata' : carrying === 0 ? 'no-fingerprint' : carrying > 1 ? 'ambiguous' : undefined;
      if (gap) gaps.push({ rootfs: { key: rkey, item: root }, client, gap, field: rootfs.combined[0]! });
    }
  }
  return gaps;
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
