// Decides what each found file is — metadata tarball, rootfs (squashfs, qcow2, root tarball),
// or unified image — from its content, and reads and validates its metadata.yaml. A small file
// is read whole in one read: that read also hashes it and, for a tarball, proves it whole, so
// hashing does not open it again.

import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { ImageError } from '../util/errors.js';
import { parseMetadata, MetadataProblem, type ImageMetadata } from './metadata.js';
import { qcow2Problem, squashfsProblem } from './rootfs.js';
import { sniff, SNIFF_BYTES, type Compression } from './detect.js';
import { WHOLE_FILE_LIMIT } from './limits.js';
import type { FoundFile } from './find.js';
import { scanTarball, scanTarballBytes, TarProblem, type TarScan } from './scan-tarball.js';
import type { ImageKind } from '../simplestreams/ftypes.js';
import type { PackageScan } from '../formats/manifest.js';
import path from 'node:path';

export type RootfsFormat = 'squashfs' | 'qcow2' | 'tarball';

/** `sha256` of a rootfs or unified image: set when the file was read whole here (a tarball then proven whole). */
export type Classified =
  | { role: 'metadata'; file: FoundFile; compression: Compression; metadata: ImageMetadata; sha256: string }
  /** `init`: known when the whole file was read: whether the root filesystem has /sbin/init. */
  /** `packages`: known then too: what its package database lists. */
  | { role: 'rootfs'; file: FoundFile; format: RootfsFormat; compression: Compression; sha256?: string; init?: boolean; packages?: PackageScan }
  | {
      role: 'unified';
      file: FoundFile;
      compression: Compression;
      metadata: ImageMetadata;
      type: ImageKind;
      sha256?: string;
      init?: boolean;
      packages?: PackageScan;
    }
  /** Not an image file at all (a README, a checksum list...): reported, not published. */
  | { role: 'other'; file: FoundFile };

/** Names that say "I am an image file": such a file that is not one is an error, not a note. */
const IMAGE_NAME = /\.(tar|tgz|tbz2?|txz|tzst|gz|xz|bz2|zst|lzma|lz4|squashfs|sqfs|qcow2|img)$/i;

/** The first SNIFF_BYTES of a file: what sniff() and the rootfs checks need. */
export async function readHead(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buf, 0, SNIFF_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The whole file when it still has the size it was found with; undefined when it changed (stream it then). */
function readWhole(file: FoundFile): Buffer | undefined {
  const fd = openSync(file.path, 'r');
  try {
    // One byte more than expected: a short read is the end of the file, a full one says it grew.
    const buf = Buffer.allocUnsafe(file.size + 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, n);
      if (r === 0) break;
      n += r;
      if (n === buf.length) return undefined;
    }
    return n === file.size ? buf.subarray(0, n) : undefined;
  } finally {
    closeSync(fd);
  }
}

function metadataError(file: FoundFile, e: unknown): ImageError {
  if (e instanceof MetadataProblem) return new ImageError(file.rel, e.message, e.fix);
  throw e;
}

/**
 * `wholeUpTo`: files up to this size are read whole (the tests read every file both ways).
 * `keep`: given the bytes of a file read whole (the worker hashes neighbours' pairs from them).
 */
export async function classify(file: FoundFile, wholeUpTo = WHOLE_FILE_LIMIT, keep?: (whole: Buffer) => void): Promise<Classified> {
  let head: Uint8Array;
  let whole: Buffer | undefined;
  try {
    if (file.size <= wholeUpTo) whole = readWhole(file);
    if (whole) keep?.(whole);
    head = whole ? whole.subarray(0, SNIFF_BYTES) : await readHead(file.path);
  } catch (e) {
    throw new ImageError(file.rel, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check the file permissions');
  }
  const sniffed = sniff(head);
  const sha256 = () => (whole ? { sha256: createHash('sha256').update(whole).digest('hex') } : {});
  switch (sniffed.kind) {
    case 'squashfs': {
      const problem = squashfsProblem(head, file.size);
      if (problem) throw new ImageError(file.rel, `squashfs ${problem}`, 'rebuild or re-copy the squashfs (mksquashfs)');
      return { role: 'rootfs', file, format: 'squashfs', compression: 'none', ...sha256() };
    }
    case 'qcow2': {
      const problem = qcow2Problem(head, file.size);
      if (problem) throw new ImageError(file.rel, `qcow2 disk ${problem}`, 'rebuild or re-copy the disk image (qemu-img check can tell more)');
      return { role: 'rootfs', file, format: 'qcow2', compression: 'none', ...sha256() };
    }
    case 'unknown':
      if (file.size === 0 && IMAGE_NAME.test(file.rel)) {
        throw new ImageError(file.rel, 'is empty', 'rebuild or re-copy the image file');
      }
      // zstd's skippable frame first: what pzstd (and zstd --adapt with -T) write; LXD and Incus
      // refuse it ("Unsupported compression"): it is zstd, but not one they read.
      if (head.length >= 4 && (head[0]! & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18)
        throw new ImageError(
          file.rel,
          'starts with a zstd skippable frame (as pzstd writes it): LXD and Incus refuse it as "Unsupported compression"',
          `recompress it with zstd itself: zstd -d -c FILE | zstd -T0 -19 -o ${path.posix.basename(file.rel)}.new, then replace the file`,
        );
      if (IMAGE_NAME.test(file.rel)) {
        throw new ImageError(
          file.rel,
          'is not a tarball, squashfs or qcow2 file (unrecognised magic bytes)',
          'replace it with a valid image file, or move it out of the images folder',
        );
      }
      return { role: 'other', file };
    default:
      break;
  }
  if (sniffed.compression === 'lz4') {
    throw new ImageError(file.rel, 'is lz4-compressed, which LXD cannot unpack (only Incus can)', 'recompress it with xz, gzip or zstd');
  }
  if (sniffed.compression === 'lzma') {
    // LZMA-alone has no size limit in its header that can be trusted and no streaming decoder
    // here: reading it would mean buffering an unbounded expansion.
    throw new ImageError(
      file.rel,
      'uses legacy .lzma (LZMA-alone) compression, which cannot be read safely as a stream',
      'recompress it with xz (xz -z), gzip or zstd',
    );
  }
  let scan: TarScan;
  try {
    scan = (whole && (await scanTarballBytes(whole, sniffed.compression))) || (await scanTarball(file.path, sniffed.compression, file.size));
  } catch (e) {
    if (e instanceof TarProblem) throw new ImageError(file.rel, e.message, e.fix);
    throw e;
  }
  const known =
    scan.role !== 'metadata' && scan.sha256
      ? { sha256: scan.sha256, ...(scan.init !== undefined ? { init: scan.init } : {}), ...(scan.packages ? { packages: scan.packages } : {}) }
      : {};
  if (scan.role === 'rootfs') return { role: 'rootfs', file, format: 'tarball', compression: sniffed.compression, ...known };
  let metadata: ImageMetadata;
  try {
    metadata = parseMetadata(scan.metadataYaml);
  } catch (e) {
    throw metadataError(file, e);
  }
  if (scan.role === 'unified') {
    return { role: 'unified', file, compression: sniffed.compression, metadata, type: scan.type, ...known };
  }
  return {
    role: 'metadata',
    file: { ...file, size: scan.size },
    compression: sniffed.compression,
    metadata,
    sha256: scan.sha256,
  };
}
