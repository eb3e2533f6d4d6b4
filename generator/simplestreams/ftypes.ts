// The simplestreams item types (ftypes) clients know, in one place: which metadata items pair
// with which rootfs items, and which combined_*_sha256 field holds each pair's fingerprint
// (in the order clients look: the first non-empty one wins).

export type ImageKind = 'container' | 'virtual-machine';

export const METADATA_FTYPES: readonly string[] = ['lxd.tar.xz', 'incus.tar.xz'];
export const UNIFIED_FTYPES: readonly string[] = ['lxd_combined.tar.gz', 'incus_combined.tar.gz'];

/** Rootfs ftype → the metadata item's fingerprint fields, and the image type it makes. */
export const ROOTFS_FTYPES: Readonly<Record<string, { combined: readonly string[]; type: ImageKind }>> = {
  squashfs: { combined: ['combined_squashfs_sha256'], type: 'container' },
  'root.tar.xz': { combined: ['combined_rootxz_sha256', 'combined_sha256'], type: 'container' },
  'disk-kvm.img': { combined: ['combined_disk-kvm-img_sha256'], type: 'virtual-machine' },
  // read, never written: older VM formats that trees from other tools may hold
  'disk1.img': { combined: ['combined_disk1-img_sha256'], type: 'virtual-machine' },
  'uefi1.img': { combined: ['combined_uefi1-img_sha256'], type: 'virtual-machine' },
};

/** Delta ftype → the rootfs ftype it patches (clients apply squashfs deltas with xdelta3). */
export const DELTA_FTYPES: Readonly<Record<string, string>> = { 'squashfs.vcdiff': 'squashfs' };

/** The fingerprint a metadata item gives a rootfs of `ftype`, as clients read it. */
export function combinedFingerprint(meta: Record<string, unknown>, ftype: string): string | undefined {
  for (const field of ROOTFS_FTYPES[ftype]?.combined ?? []) {
    if (typeof meta[field] === 'string' && meta[field] !== '') return meta[field] as string;
  }
  return undefined;
}

/**
 * Each client reads only its own metadata and unified ftypes; the same file listed under the
 * other client's ftype makes the image visible to both (as images.linuxcontainers.org does).
 */
export const CLIENT_TWIN: Readonly<Record<string, string>> = {
  'lxd.tar.xz': 'incus.tar.xz',
  'incus.tar.xz': 'lxd.tar.xz',
  'lxd_combined.tar.gz': 'incus_combined.tar.gz',
  'incus_combined.tar.gz': 'lxd_combined.tar.gz',
};

/**
 * LXC's `download` template reads a folder holding `meta.tar.xz` and `rootfs.tar.xz` (the LXC
 * index names the folder). The meta tarball is listed under an ftype LXD and Incus skip; the root
 * tarball as `root.tar.xz` (a second image of the version for LXD and Incus, and the item
 * OpenNebula imports), or — in a version whose `root.tar.xz` key already holds an input root
 * tarball — under an ftype the clients skip.
 */
export const LXC_META_FTYPE = 'lxc.meta.tar.xz';
export const LXC_ROOTFS_FTYPE = 'lxc.rootfs.tar.xz';
export const LXC_FILE_NAMES = { meta: 'meta.tar.xz', rootfs: 'rootfs.tar.xz' } as const;

/** Every ftype a client reads: metadata, unified, rootfs, delta and LXC items. */
export const KNOWN_FTYPES: ReadonlySet<string> = new Set([
  ...METADATA_FTYPES,
  ...UNIFIED_FTYPES,
  ...Object.keys(ROOTFS_FTYPES),
  ...Object.keys(DELTA_FTYPES),
  LXC_META_FTYPE,
  LXC_ROOTFS_FTYPE,
]);
