// Hashes images: a rootfs's own sha256 and the combined metadata‖rootfs fingerprint on the hash
// pool's two cores; a unified tarball's sha256 is its fingerprint. A tarball (unified image, root
// tarball) is proven whole in a read of its own where that means decoding it (the two hashes then
// share the other core's read), else in the read that hashes it alone; a metadata tarball was
// proven whole when its metadata was read, and so was any small file read whole when it was
// classified (its sha256 comes with it; the batch that read a metadata tarball and its rootfs
// whole hashed the pair too). Files proven unchanged by the cache are not read at all (an entry
// is only written for a file that passed).

import { ImageError } from '../util/errors.js';
import type { PairedImage, RootfsFile } from '../ingest/pair.js';
import type { FoundFile } from '../ingest/find.js';
import type { HashedFile, HashedImage } from '../ingest/model.js';
import type { FingerprintCache } from './cache.js';
import { ReadFailed, type HashResult, type WorkerPool } from '../pool/pool.js';
import type { Compression } from '../ingest/detect.js';
import { hasInit, initPaths } from '../ingest/wholeness.js';
import { squashfsPackages } from '../ingest/squashfs-packages.js';
import type { PackageScan } from '../formats/manifest.js';

function readError(e: unknown, fallback: FoundFile): ImageError {
  if (e instanceof ImageError && e.file === fallback.path) return new ImageError(fallback.rel, e.problem, e.fix);
  if (e instanceof ReadFailed) {
    return new ImageError(e.file === fallback.path ? fallback.rel : e.file, `cannot be read (${e.code ?? e.message})`, 'check the file and its permissions');
  }
  throw e;
}

function checkSize(file: FoundFile, size: number): void {
  if (size !== file.size) {
    throw new ImageError(
      file.rel,
      `changed while the build read it (was ${file.size} bytes, read ${size})`,
      'do not modify images during a build; run it again',
    );
  }
}

/** Whether proving a tarball of this compression whole decodes it (more work than hashing it). */
const decodes = (check: Compression | undefined): boolean => check !== undefined && check !== 'none';

interface Checked {
  sha256: string;
  /** With `prefixed`: sha256(prefixed ‖ file). */
  combined?: string;
  watched?: HashResult['watched'];
  packages?: PackageScan;
}

/**
 * A file's sha256, proven whole as a tarball of `check`'s compression, and with `prefixed` the
 * fingerprint sha256(prefixed ‖ file) — on the pool's two cores at once: where the check decodes,
 * it reads on one core while the other makes both hashes in one read (decoding costs more than
 * two hashes); else one core hashes and checks, the other makes the fingerprint. `only:
 * 'combined'`: just the fingerprint. Every read runs to its end before a failure is reported (the
 * build never moves on, and closes the pool, with a read still running on a worker).
 */
async function hashChecked(
  pool: WorkerPool,
  file: FoundFile,
  options: { onBytes?: (n: number) => void; check?: Compression; watch?: string[]; prefixed?: FoundFile; only?: 'combined'; packages?: string },
): Promise<Checked> {
  const { onBytes, check, watch, prefixed, only, packages } = options;
  const bytes = file.size;
  const separate = decodes(check) && only === undefined;
  const reads = await Promise.allSettled([
    only ? undefined : pool.hash([file.path], { onBytes, check, watch, bytes, packages, ...(separate ? { hashless: true } : {}) }),
    separate || prefixed ? pool.hash([file.path], { bytes, ...(prefixed ? { prefixed: prefixed.path } : {}) }) : undefined,
  ]);
  for (const r of reads) if (r.status === 'rejected') throw r.reason;
  const [first, second] = reads.map((r) => (r as PromiseFulfilledResult<HashResult | undefined>).value);
  for (const r of [first, second]) if (r) checkSize(file, r.sizes[0]!);
  if (second?.prefixedSize !== undefined) checkSize(prefixed!, second.prefixedSize);
  return {
    sha256: separate || only ? (second?.sha256 ?? '') : first!.sha256,
    ...(second?.combined ? { combined: second.combined } : {}),
    ...(first?.watched ? { watched: first.watched } : {}),
    ...(first?.packages ? { packages: first.packages } : {}),
  };
}

/** Why a virtual machine's image has no package list. */
const VM_PACKAGES: PackageScan = { none: 'a virtual-machine image: no manifest is read from a VM disk' };

/** A container's package list: read this run, known from the cache, or read now from a squashfs. */
async function packagesOf(cache: FingerprintCache, sha256: string, read: PackageScan | undefined, squashfs?: string): Promise<PackageScan | undefined> {
  const scan = read ?? cache.packagesOf(sha256) ?? (squashfs ? await squashfsPackages(squashfs) : undefined);
  if (scan) cache.rememberPackages(sha256, scan);
  return scan;
}

/**
 * Fingerprints one paired image; `onBytes` hears of each file's bytes as they are read, or at
 * once with `cached` set when the fingerprint cache already knew them (nothing was read).
 */
export async function hashImage(
  image: PairedImage,
  pool: WorkerPool,
  cache: FingerprintCache,
  onBytes?: (n: number, cached?: boolean) => void,
): Promise<HashedImage> {
  if (image.kind === 'unified') {
    const { file } = image;
    const cached = cache.file(file.file);
    let sha256 = cached ?? file.sha256;
    const container = image.type === 'container';
    let init = cached === undefined ? file.init : undefined;
    let read = cached === undefined ? file.packages : undefined;
    if (!sha256) {
      try {
        const r = await hashChecked(pool, file.file, {
          onBytes,
          check: file.compression,
          watch: container ? initPaths('rootfs/') : undefined,
          packages: container ? 'rootfs/' : undefined,
        });
        sha256 = r.sha256;
        read = r.packages;
        if (container && r.watched) init = hasInit(r.watched.seen, 'rootfs/');
      } catch (e) {
        throw readError(e, file.file);
      }
    } else {
      onBytes?.(file.file.size, cached !== undefined);
    }
    cache.rememberFile(file.file, sha256);
    const packages = container ? await packagesOf(cache, sha256, read) : VM_PACKAGES;
    return {
      kind: 'unified',
      type: image.type,
      metadata: file.metadata,
      fingerprint: sha256,
      files: [{ source: file.file, sha256, size: file.file.size, part: 'unified', compression: file.compression }],
      ...(container && init === false ? { noInit: true } : {}),
      ...(packages ? { packages } : {}),
    };
  }
  const { meta, rootfs } = image;
  const ownCached = cache.file(rootfs.file);
  let own = ownCached ?? rootfs.sha256;
  // A container's root tarball read now (not known from the cache) says whether it has /sbin/init.
  const watchInit = image.type === 'container' && rootfs.format === 'tarball';
  let init = ownCached === undefined ? rootfs.init : undefined;
  let read = ownCached === undefined ? rootfs.packages : undefined;
  let combined = cache.combinedOf(meta.file, rootfs.file) ?? pool.knownPair(meta.file.path, rootfs.file.path);
  if (!own) {
    try {
      const r = await hashChecked(pool, rootfs.file, {
        onBytes,
        check: rootfs.format === 'tarball' ? rootfs.compression : undefined,
        watch: watchInit ? initPaths('') : undefined,
        prefixed: combined ? undefined : meta.file,
        packages: watchInit ? '' : undefined,
      });
      own = r.sha256;
      read = r.packages;
      combined ??= r.combined;
      if (watchInit && r.watched) init = hasInit(r.watched.seen, '');
    } catch (e) {
      throw readError(e, rootfs.file);
    }
  } else if (!combined) {
    onBytes?.(rootfs.file.size, ownCached !== undefined);
    try {
      combined = (await hashChecked(pool, rootfs.file, { prefixed: meta.file, only: 'combined' })).combined!;
    } catch (e) {
      throw readError(e, rootfs.file);
    }
  } else onBytes?.(rootfs.file.size, ownCached !== undefined); // both known: nothing to read
  cache.rememberFile(meta.file, meta.sha256);
  cache.rememberFile(rootfs.file, own!);
  cache.rememberCombined(meta.file, rootfs.file, combined!);
  const metaFile: HashedFile = { source: meta.file, sha256: meta.sha256, size: meta.file.size, part: 'metadata', compression: meta.compression };
  const rootFile: HashedFile = {
    source: rootfs.file,
    sha256: own!,
    size: rootfs.file.size,
    part: rootfs.format === 'squashfs' ? 'squashfs' : rootfs.format === 'qcow2' ? 'qcow2' : 'root-tarball',
    compression: rootfs.compression,
  };
  const packages = image.type === 'container' ? await packagesOf(cache, own!, read, rootfs.format === 'squashfs' ? rootfs.file.path : undefined) : VM_PACKAGES;
  const hashed: HashedImage = {
    kind: 'split',
    type: image.type,
    metadata: meta.metadata,
    fingerprint: combined!,
    files: [metaFile, rootFile],
    ...(watchInit && init === false ? { noInit: true } : {}),
    ...(packages ? { packages } : {}),
  };
  return image.lxc ? { ...hashed, lxc: await hashSuppliedLxc(image, rootFile, pool, cache, onBytes) } : hashed;
}

/** A tarball's own sha256, proven whole in the same read (or known to the cache). */
async function ownHash(f: RootfsFile, pool: WorkerPool, cache: FingerprintCache, onBytes?: (n: number, cached?: boolean) => void): Promise<string> {
  const cached = cache.file(f.file) ?? f.sha256;
  if (cached) {
    onBytes?.(f.file.size, true);
    cache.rememberFile(f.file, cached);
    return cached;
  }
  try {
    const r = await hashChecked(pool, f.file, { onBytes, check: f.compression });
    cache.rememberFile(f.file, r.sha256);
    return r.sha256;
  } catch (e) {
    throw readError(e, f.file);
  }
}

/** distrobuilder's LXC files of an image: each hashed and proven whole, and metadata ‖ LXC's rootfs when that is a file of its own. */
async function hashSuppliedLxc(
  image: Extract<PairedImage, { kind: 'split' }>,
  rootFile: HashedFile,
  pool: WorkerPool,
  cache: FingerprintCache,
  onBytes?: (n: number, cached?: boolean) => void,
): Promise<NonNullable<HashedImage['lxc']>> {
  const { meta, rootfs } = image.lxc!;
  const hashedOf = (f: RootfsFile, sha256: string): HashedFile => ({
    source: f.file,
    sha256,
    size: f.file.size,
    part: 'root-tarball',
    compression: f.compression,
  });
  const metaFile = hashedOf(meta, await ownHash(meta, pool, cache, onBytes));
  if (rootfs === image.rootfs) return { meta: metaFile, rootfs: rootFile };
  const own = await ownHash(rootfs, pool, cache, onBytes);
  let fingerprint = cache.combinedOf(image.meta.file, rootfs.file);
  if (!fingerprint) {
    try {
      fingerprint = (await hashChecked(pool, rootfs.file, { prefixed: image.meta.file, only: 'combined' })).combined!;
    } catch (e) {
      throw readError(e, rootfs.file);
    }
  }
  cache.rememberCombined(image.meta.file, rootfs.file, fingerprint);
  return { meta: metaFile, rootfs: hashedOf(rootfs, own), fingerprint };
}
