// The shapes that flow through the pipeline once images are found, paired and hashed.

import type { Compression } from './detect.js';
import type { FoundFile } from './find.js';
import type { ImageMetadata } from './metadata.js';
import type { ImageKind } from '../simplestreams/ftypes.js';
import type { PackageScan } from '../formats/manifest.js';

/** One input file of an image, hashed. */
export interface HashedFile {
  source: FoundFile;
  sha256: string;
  size: number;
  /** What the file is inside the image. */
  part: 'metadata' | 'squashfs' | 'root-tarball' | 'qcow2' | 'unified';
  compression: Compression;
}

/** An image ready to plan: its metadata, its files with their hashes, and its fingerprint. */
export interface HashedImage {
  kind: 'split' | 'unified';
  type: ImageKind;
  metadata: ImageMetadata;
  /** split: sha256(metadata ‖ rootfs); unified: sha256(file). */
  fingerprint: string;
  /** split: [metadata, rootfs]; unified: [file]. */
  files: HashedFile[];
  /**
   * distrobuilder's LXC output found next to the image (published as it is with --lxc);
   * `fingerprint`: sha256(metadata ‖ LXC's rootfs) when that rootfs is not the image's own.
   */
  lxc?: { meta: HashedFile; rootfs: HashedFile; fingerprint?: string };
  /** A container whose root filesystem, read by this build, has no /sbin/init: it cannot start. */
  noInit?: true;
  /** What the root filesystem's package database lists (or why there is no list), when read or cached. */
  packages?: PackageScan;
}

/** The input file that names an image in messages. */
export function imageLabel(image: HashedImage): string {
  return image.files.map((f) => f.source.rel).join(' + ');
}
