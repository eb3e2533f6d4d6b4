// Pairs metadata tarballs with the rootfs files next to them (same folder, matching name stem),
// the way distrobuilder and `lxc image export` lay them out. Pure: no I/O.

import path from 'node:path';
import { ImageError } from '../util/errors.js';
import type { Classified } from './classify.js';
import { folderOf } from './find.js';
import { byEntryKey } from '../util/compare.js';
import type { ImageKind } from '../simplestreams/ftypes.js';

export type MetadataFile = Extract<Classified, { role: 'metadata' }>;
export type RootfsFile = Extract<Classified, { role: 'rootfs' }>;
export type UnifiedFile = Extract<Classified, { role: 'unified' }>;

/** distrobuilder's `build-lxc` output next to an image: LXC's meta and root tarballs, published as they are with --lxc. */
export interface SuppliedLxc {
  meta: RootfsFile;
  rootfs: RootfsFile;
}

export type PairedImage =
  { kind: 'split'; meta: MetadataFile; rootfs: RootfsFile; type: ImageKind; lxc?: SuppliedLxc } | { kind: 'unified'; file: UnifiedFile; type: ImageKind };

const EXTENSIONS = /\.(tar|tgz|tbz2?|txz|tzst|gz|xz|bz2|zst|lzma|lz4|squashfs|sqfs|qcow2|img|raw)$/i;
/** Metadata tarball names that belong to whatever rootfs shares their folder. */
const GENERIC_META = new Set(['lxd', 'incus', 'meta', 'metadata']);

/** `meta-foo.tar.xz` → `meta-foo`; `rootfs.squashfs` → `rootfs`. */
export function stemOf(name: string): string {
  let stem = path.posix.basename(name);
  while (EXTENSIONS.test(stem)) stem = stem.replace(EXTENSIONS, '');
  return stem;
}

/** The rootfs stem a metadata tarball names, or undefined for a generic name (lxd.tar.xz). */
function targetStem(meta: MetadataFile): string | undefined {
  const stem = stemOf(meta.file.rel);
  if (GENERIC_META.has(stem.toLowerCase())) return undefined;
  const m = /^(?:meta|metadata|lxd|incus)[-_.](.+)$/i.exec(stem) ?? /^(.+)[-_.](?:meta|metadata)$/i.exec(stem);
  return m ? m[1] : stem;
}

/** True for names only metadata tarballs have: lxd.tar.xz, meta-NAME.tar.xz, NAME.meta.tar.xz. */
function namedLikeMetadata(rel: string): boolean {
  const stem = stemOf(rel);
  return GENERIC_META.has(stem.toLowerCase()) || /^(?:meta|metadata)[-_.]|[-_.](?:meta|metadata)$/i.test(stem);
}

/**
 * `failed`: files (relative paths) whose reading already failed with a reported problem; a partner
 * left alone by such a file gets no second, misleading problem (the cause is reported once).
 */
export function pairImages(files: Classified[], failed: ReadonlySet<string> = new Set()): { images: PairedImage[]; problems: ImageError[] } {
  const images: PairedImage[] = [];
  const problems: ImageError[] = [];
  const failedFolders = new Set([...failed].map((rel) => path.posix.dirname(rel)));
  const alone = (f: Classified) => failedFolders.has(path.posix.dirname(f.file.rel));
  const folders = new Map<string, { metas: MetadataFile[]; roots: RootfsFile[] }>();
  for (const f of files) {
    if (f.role === 'unified') {
      images.push({ kind: 'unified', file: f, type: f.type });
      continue;
    }
    if (f.role !== 'metadata' && f.role !== 'rootfs') continue;
    const folder = folderOf(f.file);
    let group = folders.get(folder);
    if (!group) folders.set(folder, (group = { metas: [], roots: [] }));
    if (f.role === 'metadata') group.metas.push(f);
    else group.roots.push(f);
  }

  for (const [folder, group] of [...folders].sort(byEntryKey)) {
    const { metas } = group;
    const { roots, lxc } = suppliedLxc(group.roots);
    const used = new Set<MetadataFile>();
    const specific = new Set(roots.map((r) => stemOf(r.file.rel)));
    // Metadata tarballs that name no rootfs in this folder serve every rootfs that has no specific match.
    const generic = metas.filter((m) => {
      const t = targetStem(m);
      return t === undefined || !specific.has(t);
    });
    for (const rootfs of roots) {
      const stem = stemOf(rootfs.file.rel);
      let candidates = metas.filter((m) => targetStem(m) === stem);
      if (candidates.length === 0) candidates = generic;
      // The same metadata bytes under two names (lxd.tar.xz + incus.tar.xz) are one metadata tarball.
      const distinct = [...new Map(candidates.map((m) => [m.sha256, m])).values()];
      if (distinct.length === 0 && rootfs.format === 'tarball' && namedLikeMetadata(rootfs.file.rel)) {
        problems.push(
          new ImageError(
            rootfs.file.rel,
            'is named like a metadata tarball but holds no metadata.yaml (its entries look like a root filesystem)',
            'add metadata.yaml at the top of the tarball; if it is the root filesystem, name it rootfs.tar.xz and put its metadata tarball next to it',
          ),
        );
        continue;
      }
      if (distinct.length === 0) {
        if (alone(rootfs)) continue;
        const squashfsHint =
          rootfs.format === 'squashfs'
            ? '; if it is a whole image made by `publish --compression squashfs` (metadata.yaml inside), staticstreams cannot read that yet: publish it again with --compression xz, gzip or zstd'
            : '';
        problems.push(
          new ImageError(
            rootfs.file.rel,
            `is a ${rootfs.format === 'tarball' ? 'root filesystem tarball (it has no metadata.yaml)' : rootfs.format + ' rootfs'} with no metadata tarball next to it`,
            `put its metadata tarball in the same folder (${folder || 'the top of the images folder'}) as lxd.tar.xz or meta-${stem}.tar.xz${squashfsHint}`,
          ),
        );
        continue;
      }
      if (distinct.length > 1) {
        problems.push(
          new ImageError(
            rootfs.file.rel,
            `could pair with several different metadata tarballs: ${distinct.map((m) => m.file.rel).join(', ')}`,
            `name the right one meta-${stem}.tar.xz, or move the others to their own folders`,
          ),
        );
        continue;
      }
      for (const c of candidates) used.add(c);
      const meta = distinct[0]!;
      const type = rootfs.format === 'qcow2' ? 'virtual-machine' : 'container';
      // LXC's files go with the folder's container image (its squashfs one, else its root tarball).
      const takesLxc = lxc && type === 'container' && (rootfs.format === 'squashfs' || !roots.some((r) => r.format === 'squashfs'));
      images.push({ kind: 'split', meta, rootfs, type, ...(takesLxc ? { lxc } : {}) });
    }
    for (const meta of metas) {
      if (!used.has(meta) && !alone(meta)) {
        problems.push(
          new ImageError(
            meta.file.rel,
            'is a metadata tarball with no rootfs file next to it',
            `put its rootfs (rootfs.squashfs, disk.qcow2 or a root tarball) in the same folder${targetStem(meta) ? `, named ${targetStem(meta)}.<ext>` : ''}`,
          ),
        );
      }
    }
  }
  return { images, problems };
}

/**
 * distrobuilder's `build-lxc` writes `meta.tar.xz` (LXC's config, no metadata.yaml: it reads as a
 * root tarball here) and `rootfs.tar.xz`. With both in a folder, they are LXC's files of the
 * folder's image: `meta.tar.xz` is no rootfs, and `rootfs.tar.xz` is none either when the folder
 * has a squashfs (the image's rootfs); otherwise it is the image's rootfs and LXC's at once.
 */
function suppliedLxc(roots: RootfsFile[]): { roots: RootfsFile[]; lxc?: SuppliedLxc } {
  const named = (name: string) => roots.find((r) => r.format === 'tarball' && path.posix.basename(r.file.rel) === name);
  const meta = named('meta.tar.xz');
  const rootfs = named('rootfs.tar.xz');
  if (!meta || !rootfs) return { roots };
  const squashfs = roots.some((r) => r.format === 'squashfs');
  return { roots: roots.filter((r) => r !== meta && (r !== rootfs || !squashfs)), lxc: { meta, rootfs } };
}
