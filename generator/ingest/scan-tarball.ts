// Reads a (possibly compressed) tarball to tell what it is — a metadata tarball, a unified
// image, or a root filesystem — and pulls out metadata.yaml. Two ways in, one walk of the tar
// entries deciding: a large file is streamed just far enough to decide (a metadata tarball to its
// end, hashed in the same pass; ingest/wholeness proves the other tarballs whole when hashing);
// a small file held in memory is decompressed and walked to its end-of-archive marker whatever
// it is, so it is hashed and proven whole by this one read.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import tar from 'tar-stream';
import type { Compression } from './detect.js';
import { decompressor, decompressWhole, TooLargeInMemory } from './decompress.js';
import { cutShort as archiveCutShort, hasInit, initPaths, stoppedStream, TarEnd } from './wholeness.js';
import { BOMB_FIX, bombProblem, METADATA_YAML_LIMIT } from './limits.js';
import { archivePart, untilTarEnd } from './tar-end.js';
import type { ImageKind } from '../simplestreams/ftypes.js';
import { packageDbPaths, readPackages } from './packages.js';
import type { PackageScan } from '../formats/manifest.js';

/** Entries read before giving up on finding out what a tarball is. */
export const TAR_ENTRY_LIMIT = 100_000;
/** Bytes of non-rootfs content (metadata.yaml, templates) a tarball may expand to. */
export const METADATA_EXPANDED_LIMIT = 256 * 1024 * 1024;

export type TarScan =
  | {
      role: 'metadata';
      metadataYaml: Buffer;
      /** sha256 of the whole file, computed in the same read. */
      sha256: string;
      size: number;
    }
  /**
   * `sha256`: set when the file was read whole in memory (and so proven whole); `init`: then,
   * whether a container's root filesystem has /sbin/init (LXD and Incus start nothing else);
   * `packages`: then, what its package database lists.
   */
  | { role: 'unified'; metadataYaml: Buffer; type: ImageKind; sha256?: string; init?: boolean; packages?: PackageScan }
  | { role: 'rootfs'; sha256?: string; init?: boolean; packages?: PackageScan };

/** A problem found inside the tarball; the caller adds the file name and a fix. */
export class TarProblem extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

/** Entries read inside an unusual first folder before deciding the tarball is a root filesystem. */
const WRAPPER_LOOK = 64;

/** What a root filesystem holds at its top: a first folder of another name may wrap a whole image. */
const ROOT_DIRS = new Set([
  'bin',
  'boot',
  'dev',
  'etc',
  'home',
  'lib',
  'lib32',
  'lib64',
  'libx32',
  'media',
  'mnt',
  'opt',
  'proc',
  'root',
  'run',
  'sbin',
  'snap',
  'srv',
  'sys',
  'tmp',
  'usr',
  'var',
]);

/** Strips `./` prefixes and trailing slashes; reports names that would escape the archive root. */
function normalize(name: string): { name: string; unsafe: boolean } {
  const unsafe = name.startsWith('/') || name.split('/').includes('..');
  let n = name;
  while (n.startsWith('./')) n = n.slice(2);
  n = n.replace(/^\/+/, '').replace(/\/+$/, '');
  if (n === '.') n = '';
  return { name: n, unsafe };
}

/**
 * True when a link in a metadata tarball points inside templates/: a symlink's target read from
 * the link's own folder, a hard link's from the archive root (as tar reads them).
 */
function linkStaysInTemplates(name: string, type: 'symlink' | 'link', target: string): boolean {
  if (target.startsWith('/')) return false;
  const parts = type === 'symlink' ? name.split('/').slice(0, -1) : [];
  for (const part of target.split('/')) {
    if (part === '..') {
      if (!parts.length) return false;
      parts.pop();
    } else if (part !== '.' && part !== '') parts.push(part);
  }
  return parts[0] === 'templates' && parts.length > 1;
}

/** The stream of one entry's content, as tar-stream hands it over. */
type EntryStream = tar.ExtractEvents['entry'][1];

/**
 * The decisions of one walk through a tarball's entries. `toEnd`: keep walking after deciding
 * (every entry is seen, and a missing end-of-archive marker fails whatever the tarball is).
 */
class TarWalk {
  readonly extract = tar.extract();
  readonly tarEnd = Object.assign(new TarEnd(), {
    watch: new Set([...initPaths(''), ...initPaths('rootfs/')]),
    capture: new Set([...packageDbPaths(''), ...packageDbPaths('rootfs/')]),
  });
  metadataYaml: Buffer | undefined;
  result: TarScan | undefined;
  failure: Error | undefined;
  /** Decompressed bytes fed to the walk. */
  decompressed = 0;
  /** Compressed bytes read (the bomb check's denominator). */
  size = 0;
  readonly settled: Promise<void>;
  /** Resolves once the tar stream has ended, or failed. */
  readonly ended: Promise<void>;
  /** The first error of all, even one after the decision (which `failure` leaves out unless walking to the end). */
  anyError: Error | undefined;
  /** The walk reached the tar stream's end. */
  reachedEnd = false;
  private settle!: () => void;
  private end!: () => void;
  private sawRootfsDir = false;
  private sawRootfsImg = false;
  private sawOther = false;
  /** A first folder no root filesystem has at its top (a tarball made from the folder above?). */
  private wrapper: string | undefined;
  private entries = 0;
  private expanded = 0;

  /** `toEnd` may be switched on after a decision (the rest is then walked too). */
  constructor(public toEnd: boolean) {
    this.settled = new Promise<void>((resolve) => (this.settle = resolve));
    this.ended = new Promise<void>((resolve) => (this.end = resolve));
    this.extract.on('close', () => this.end());
    this.extract.on('entry', (header, stream, next) => this.entry(header, stream, next));
    this.extract.on('finish', () => this.finish());
  }

  private unified(): TarScan {
    return { role: 'unified', metadataYaml: this.metadataYaml!, type: this.sawRootfsImg ? 'virtual-machine' : 'container' };
  }

  private decide(r: TarScan): void {
    if (!this.result && !this.failure) this.result = r;
    if (!this.toEnd) this.settle();
  }

  fail(e: Error): void {
    this.anyError ??= e;
    // Walking to the end, a later failure (a cut-short archive) overrules the decision.
    if (!this.failure && (this.toEnd || !this.result)) this.failure = e;
    this.settle();
    this.end();
  }

  private entry(header: tar.Header, stream: EntryStream, next: () => void): void {
    // A truncated archive errors the entry stream too; the extract's own error reports it.
    stream.on('error', () => {});
    this.tarEnd.entry(header, stream);
    if (this.failure || this.result) {
      stream.on('end', next);
      stream.resume();
      return;
    }
    this.entries++;
    const { name, unsafe } = normalize(header.name);
    const isMetadata = name === 'metadata.yaml';
    const isRootfs = name === 'rootfs' || name.startsWith('rootfs/');
    const isTemplate = name === 'templates' || name.startsWith('templates/');

    if (this.entries > TAR_ENTRY_LIMIT) {
      this.fail(new TarProblem(`no decision after ${TAR_ENTRY_LIMIT} tar entries`, 'put metadata.yaml first in the tarball'));
    } else if (isMetadata) {
      if (this.metadataYaml) {
        this.fail(new TarProblem('the tarball holds metadata.yaml twice', 'rebuild the tarball with a single metadata.yaml'));
      } else if (header.type !== 'file') {
        this.fail(new TarProblem(`metadata.yaml is a ${header.type}, not a regular file`, 'store metadata.yaml as a regular file (LXD refuses anything else)'));
      } else if ((header.size ?? 0) > METADATA_YAML_LIMIT) {
        this.fail(
          new TarProblem(`metadata.yaml is ${header.size} bytes, over LXD's limit of 1 MiB`, 'shrink metadata.yaml (move large template data into templates/)'),
        );
      } else {
        const chunks: Buffer[] = [];
        stream.on('data', (c: unknown) => {
          chunks.push(c as Buffer);
        });
        stream.on('end', () => {
          this.metadataYaml = Buffer.concat(chunks);
          this.expanded += this.metadataYaml.length;
          if (this.sawRootfsDir || this.sawRootfsImg) this.decide(this.unified());
          next();
        });
        return;
      }
    } else if (isRootfs || name === 'rootfs.img') {
      if (name === 'rootfs.img') this.sawRootfsImg = true;
      else this.sawRootfsDir = true;
      if (this.metadataYaml) this.decide(this.unified());
    } else if (name === '') {
      // the archive's own root directory entry
    } else if (isTemplate) {
      if (unsafe) {
        this.fail(new TarProblem(`entry "${header.name}" points outside the archive`, 'remove absolute paths and ".." from the tarball'));
      } else if (!['file', 'directory'].includes(header.type ?? 'file')) {
        this.fail(new TarProblem(`entry "${header.name}" is a ${header.type}; templates must be regular files`, 'store templates as regular files'));
      }
      this.expanded += header.size ?? 0;
    } else if (!this.metadataYaml && !this.sawRootfsDir && /^[^/]+\/metadata\.yaml$/.test(name) && this.wrapper === name.split('/')[0]) {
      // Made from the folder above (tar -czf x.tar.gz wrap): metadata.yaml one level down.
      const dir = this.wrapper;
      this.fail(
        new TarProblem(
          `metadata.yaml is inside ${dir}/, not at the top of the tarball, where LXD and Incus read it`,
          `make the tarball from inside that folder: tar --numeric-owner -C ${dir} -czf FILE metadata.yaml templates rootfs`,
        ),
      );
    } else if (!this.metadataYaml && !this.sawRootfsDir && this.entries === 1 && header.type === 'directory' && !ROOT_DIRS.has(name)) {
      // A first folder a root filesystem does not have at its top: the next entries tell.
      this.wrapper = name;
    } else if (!this.metadataYaml && !this.sawRootfsDir && this.wrapper && name.startsWith(`${this.wrapper}/`) && this.entries <= WRAPPER_LOOK) {
      // Inside that first folder: metadata.yaml may still come (the decision waits a few entries).
      this.sawOther = true;
    } else if (!this.metadataYaml && !this.sawRootfsDir) {
      // Anything else before metadata.yaml: this is a root filesystem tarball (bin/, etc/, ...).
      this.sawOther = true;
      this.decide({ role: 'rootfs' });
    } else if ((header.type === 'symlink' || header.type === 'link') && !linkStaysInTemplates(name, header.type, header.linkname ?? '')) {
      this.fail(
        new TarProblem(
          `entry "${header.name}" (${header.type}) links to ${JSON.stringify(header.linkname ?? '')}, outside templates/`,
          'a metadata tarball holds only metadata.yaml and templates/ (regular files): remove the link',
        ),
      );
    } else if (unsafe || ['block-device', 'character-device', 'fifo'].includes(header.type ?? '')) {
      this.fail(
        new TarProblem(
          `entry "${header.name}" (${header.type}) is not allowed in a metadata tarball`,
          'a metadata tarball holds only metadata.yaml and templates/',
        ),
      );
    } else {
      this.expanded += header.size ?? 0;
    }
    if (this.expanded > METADATA_EXPANDED_LIMIT) {
      this.fail(
        new TarProblem(`the metadata part expands to more than ${METADATA_EXPANDED_LIMIT / 1024 / 1024} MiB`, 'keep metadata.yaml and templates small'),
      );
    }
    stream.on('end', next);
    stream.resume();
  }

  private finish(): void {
    this.reachedEnd = true;
    this.tarEnd.bytes = this.decompressed;
    const cut = this.tarEnd.problem();
    if (this.result) {
      // Only a walk to the end gets here with a decision: the archive must end properly too.
      if (cut) this.fail(new TarProblem(cut.message, cut.fix));
    } else if (this.metadataYaml && cut && !this.sawRootfsDir && !this.sawRootfsImg) {
      this.fail(new TarProblem(cut.message, cut.fix));
    } else if (this.metadataYaml) {
      this.decide(this.sawRootfsDir || this.sawRootfsImg ? this.unified() : { role: 'metadata', metadataYaml: this.metadataYaml, sha256: '', size: this.size });
    } else if (this.sawRootfsDir || this.sawRootfsImg) {
      this.fail(new TarProblem('the tarball has a rootfs but no metadata.yaml', 'add metadata.yaml at the top of the tarball'));
    } else if (this.entries === 0) {
      this.fail(new TarProblem('the tarball is empty', 'rebuild the image'));
    } else if (!this.sawOther) {
      this.fail(new TarProblem('the tarball has no metadata.yaml', 'add metadata.yaml at the top of the tarball'));
    } else {
      this.decide({ role: 'rootfs' }); // a small root tarball whose first folder is an unusual one
    }
    this.settle();
  }

  /** Counts decompressed bytes; refuses a decompression bomb. */
  count(n: number): void {
    this.decompressed += n;
    const bomb = bombProblem(this.decompressed, this.size);
    if (bomb) this.fail(new TarProblem(bomb, BOMB_FIX));
  }
}

/** The problem of a tarball that stops unpacking after `bytes` bytes (as ingest/wholeness words it). */
function cutShort(compression: Compression, bytes: number, e: Error): TarProblem {
  const problem = archiveCutShort(bytes, stoppedStream(compression, e), e);
  return new TarProblem(problem.message, problem.fix);
}

/** Streams the tarball at `path` just far enough to decide what it is. */
export async function scanTarball(path: string, compression: Compression, sizeHint?: number): Promise<TarScan> {
  const hash = createHash('sha256');
  const walk = new TarWalk(false);
  const dec = decompressor(compression);
  const onStreamError = (e: Error) => walk.fail(cutShort(compression, walk.size, e));
  walk.extract.on('error', onStreamError);
  dec.on('error', onStreamError);
  // A refusal (a bomb, a bad entry) stops the decoder at once, not when the read loop next looks.
  void walk.settled.then(() => walk.failure && dec.destroy());
  dec.on('data', (chunk: Buffer) => walk.count(chunk.length));
  const gate = untilTarEnd();
  dec.pipe(gate).pipe(walk.extract);

  // Small reads for small files: a 1 MiB buffer per tiny metadata tarball is mostly garbage.
  const file = createReadStream(path, { highWaterMark: Math.max(64 * 1024, Math.min(1024 * 1024, sizeHint ?? 1024 * 1024)) });
  let readAll: boolean;
  let stopped = false;
  try {
    for await (const chunk of file as AsyncIterable<Buffer>) {
      hash.update(chunk);
      walk.size += chunk.length;
      const { result, failure } = walk;
      if (failure) break;
      if (result && result.role !== 'metadata' && !walk.toEnd) {
        // Decided late (a unified tarball with metadata.yaml near its end): reading the rest here
        // hashes the file and proves it whole, so hashing does not read it all a second time.
        if (result.role === 'unified' && sizeHint !== undefined && walk.size * 2 >= sizeHint) walk.toEnd = true;
        else {
          stopped = true;
          break;
        }
      }
      if (result?.role === 'metadata') continue; // keep hashing what follows the tar end
      if (!dec.write(chunk)) await Promise.race([once(dec, 'drain'), walk.toEnd ? walk.ended : walk.settled]);
    }
    // The loop ran out of bytes without stopping early: the whole file was read.
    readAll = !stopped && !walk.failure;
    if (readAll) {
      // Every byte is read and hashed: walking the rest to the end proves the file whole too.
      walk.toEnd = true;
      dec.end();
      await walk.ended;
    }
  } finally {
    file.destroy();
    dec.destroy();
    gate.destroy();
    walk.extract.destroy();
  }
  const { result, failure } = walk;
  if (failure) throw failure;
  if (readAll && walk.anyError) throw walk.anyError;
  if (!result) throw new TarProblem('cannot read the tarball', 'the file is truncated or corrupt');
  if (result.role === 'metadata') return { ...result, sha256: hash.digest('hex'), size: walk.size };
  // Read to its end without a fault: hashed and proven whole here, hashing need not read it again.
  if (readAll && walk.reachedEnd) return { ...result, sha256: hash.digest('hex'), ...initOf(walk, result) };
  return result;
}

/** Whether a container root filesystem walked to its end has an init, and its packages (see TarScan). */
function initOf(walk: TarWalk, result: TarScan): { init?: boolean; packages?: PackageScan } {
  const { seen, captured } = walk.tarEnd;
  if (result.role === 'rootfs') return { init: hasInit(seen, ''), packages: readPackages(captured, '') };
  if (result.role === 'unified' && result.type === 'container') return { init: hasInit(seen, 'rootfs/'), packages: readPackages(captured, 'rootfs/') };
  return {};
}

/**
 * Decides what a whole tarball held in memory is, walking it to its end: the result carries the
 * file's sha256 and the archive is proven whole. Undefined when it expands past
 * IN_MEMORY_EXPANDED_LIMIT (stream it with scanTarball instead).
 */
export async function scanTarballBytes(bytes: Buffer, compression: Compression): Promise<TarScan | undefined> {
  const walk = new TarWalk(true);
  walk.size = bytes.length;
  let tarBytes: Buffer;
  try {
    tarBytes = await decompressWhole(bytes, compression);
  } catch (e) {
    if (e instanceof TooLargeInMemory) return undefined;
    throw cutShort(compression, bytes.length, e as Error);
  }
  walk.extract.on('error', (e: Error) => walk.fail(cutShort(compression, bytes.length, e)));
  walk.count(tarBytes.length);
  walk.extract.end(archivePart(tarBytes));
  await walk.settled;
  const { result, failure } = walk;
  if (failure) throw failure;
  if (!result) throw new TarProblem('cannot read the tarball', 'the file is truncated or corrupt');
  return {
    ...result,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    ...(result.role === 'metadata' ? { size: bytes.length } : initOf(walk, result)),
  };
}
