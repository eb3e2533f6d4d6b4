// Proves a tarball whole, as a client will unpack it: decompressed to its very end (so the
// compression's own end checks run: gzip's CRC and size trailer, xz's index and stream footer,
// zstd's frame ends, bzip2's end of stream) and its tar stream walked to the end-of-archive
// marker (two zero blocks). It is fed the bytes of the read that hashes the file, so the file is
// read once. A failure is an ArchiveProblem saying what is wrong; the caller names the file.

import { once } from 'node:events';
import { Transform, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import { decompressor, decompressWhole, TooLargeInMemory } from './decompress.js';
import { BOMB_FIX, bombProblem, METADATA_YAML_LIMIT, WHOLE_FILE_LIMIT } from './limits.js';
import { sniff, type Compression } from './detect.js';
import { archivePart, TarBlocks } from './tar-end.js';
import { PACKAGE_DB_LIMIT, type Captured } from './packages.js';

/** The content stream of one tar entry, as tar-stream hands it over. */
type EntryContent = tarStream.ExtractEvents['entry'][1];

/** What is wrong with an archive, and how to fix it (the caller adds the file name). */
export class ArchiveProblem extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

const BLOCK = 512;
/** The fix for an archive that does not unpack to its end. */
export const REFETCH = 'rebuild the image or copy the complete file again (compare its size with the original)';

/**
 * Tracks where a tar stream's last entry ends, to tell whether the end-of-archive marker (1,024
 * zero bytes) follows: tar-stream reads zero blocks as "no header" and says nothing either way.
 */
export class TarEnd {
  private entriesEnd = 0;
  /** Decompressed bytes seen. */
  bytes = 0;
  /** The top-level metadata.yaml's content, when the tarball has one. */
  metadataYaml: Buffer | undefined;
  /** Paths (without `./`) whose entry type is recorded in `seen`, when asked. */
  watch: ReadonlySet<string> | undefined;
  /** Watched path → the type of its last entry (GNU tar lets a later entry replace an earlier one). */
  seen: Record<string, string> = {};
  /** An entry of a type the walk does not read (a Solaris `X` header, …) was met. */
  odd = false;
  /** Paths (without `./`) whose content is kept in `captured` (package databases), when asked. */
  capture: ReadonlySet<string> | undefined;
  /** Captured path → its last entry's bytes, or why they were not kept (a link, too large). */
  captured: Record<string, Captured> = {};

  /** Notes an entry; `stream`: its content, read here when its path is captured. */
  entry(header: tarStream.Header & { byteOffset?: number }, stream?: EntryContent): void {
    const size = header.size ?? 0;
    this.entriesEnd = (header.byteOffset ?? 0) + Math.ceil(size / BLOCK) * BLOCK;
    if (!this.watch && !this.capture) return;
    const name = header.name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    if (this.watch) {
      if (header.type === null) this.odd = true;
      if (this.watch.has(name)) this.seen[name] = header.type ?? 'unknown';
    }
    if (stream && this.capture?.has(name)) this.keep(name, header, stream);
  }

  /** Keeps a captured entry's content: a regular file within the limit, never what a link points to. */
  private keep(name: string, header: tarStream.Header, stream: EntryContent): void {
    const size = header.size ?? 0;
    if (header.type !== 'file') {
      const what = header.type === 'symlink' ? 'a symbolic link' : header.type === 'link' ? 'a hard link' : `a ${header.type ?? 'special'} entry`;
      this.captured[name] = { skipped: `is ${what}, which is not followed` };
    } else if (size > PACKAGE_DB_LIMIT) {
      this.captured[name] = { skipped: `is ${size} bytes, over the limit of ${PACKAGE_DB_LIMIT / 1024 / 1024} MiB` };
    } else {
      const parts: Buffer[] = [];
      delete this.captured[name];
      stream.on('data', (c: unknown) => parts.push(c as Buffer));
      stream.on('end', () => (this.captured[name] = Buffer.concat(parts)));
    }
  }

  /** Called once the whole stream parsed without error. */
  problem(): ArchiveProblem | undefined {
    if (this.bytes - this.entriesEnd >= 2 * BLOCK) return undefined;
    return new ArchiveProblem(
      `has no tar end-of-archive marker: the archive stops after ${this.bytes} bytes of tar data, right after an entry (cut short at an entry boundary)`,
      REFETCH,
    );
  }
}

/** The stream's name in messages: the compression, or tar for a plain tarball. */
export function streamName(compression: Compression): string {
  return compression === 'none' ? 'tar' : compression;
}

/** Walks every entry of `extract` past its body, noting where each ends (for the end-of-archive check). */
function followEntries(extract: tarStream.Extract, end: TarEnd): void {
  extract.on('entry', (header, stream, next) => {
    end.entry(header as tarStream.Header & { byteOffset?: number }, stream);
    stream.on('end', next);
    stream.on('error', () => {}); // reported by the extract itself
    // metadata.yaml at the top (LXD's limit of 1 MiB), kept for whoever checks what the tarball is
    if (header.type === 'file' && header.name.replace(/^(\.\/)+/, '') === 'metadata.yaml' && (header.size ?? 0) <= METADATA_YAML_LIMIT) {
      const parts: Buffer[] = [];
      stream.on('data', (c: unknown) => parts.push(c as Buffer));
      stream.on('end', () => (end.metadataYaml = Buffer.concat(parts)));
    } else stream.resume();
  });
}

/** Which stream stopped unpacking: tar-stream's own error names a cut tar stream, any other the decoder's. */
export function stoppedStream(compression: Compression, e: Error): string {
  return /unexpected end of data/i.test(e.message) ? 'the tar stream' : `the ${streamName(compression)} stream`;
}

/** The problem of an archive whose `what` stream stops unpacking after `input` bytes. */
export function cutShort(input: number, what: string, e: Error): ArchiveProblem {
  return new ArchiveProblem(`is cut short or corrupt after ${input} bytes: ${what} does not unpack to its end (${e.message})`, REFETCH);
}

export class WholenessCheck {
  private dec: Duplex;
  private end = new TarEnd();
  private input = 0;
  private finished: Promise<Error | null>;

  /** `watch`: paths whose entry types to record (see `seen`); `capture`: paths whose content to keep (see `captured`). */
  constructor(
    readonly compression: Compression,
    watch?: readonly string[],
    capture?: readonly string[],
  ) {
    if (watch?.length) this.end.watch = new Set(watch);
    if (capture?.length) this.end.capture = new Set(capture);
    this.dec = decompressor(compression);
    const extract = tarStream.extract();
    const end = this.end;
    followEntries(extract, end);
    // One stage counts the bytes (the bomb check) and passes the tar walk only what comes up to
    // the end-of-archive marker, as tar reads it.
    const blocks = new TarBlocks();
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        end.bytes += chunk.length;
        const bomb = bombProblem(end.bytes, this.input);
        if (bomb) return done(new ArchiveProblem(bomb, BOMB_FIX));
        const archive = blocks.feed(chunk);
        done(null, archive === chunk.length ? chunk : chunk.subarray(0, archive));
      },
    });
    this.finished = pipeline(this.dec, counter, extract).then(
      () => null,
      (e: Error) => {
        this.failed = true;
        return e;
      },
    );
    // Once the pipeline has failed, the rest of the file is read (for its hash) but not fed:
    // a write to the destroyed stream would otherwise raise an unhandled error.
    this.dec.on('error', () => {});
  }

  private failed = false;

  /** Feeds the next bytes of the file (the caller must not reuse `chunk`); await the result when it is a promise. */
  write(chunk: Buffer): Promise<unknown> | undefined {
    this.input += chunk.length;
    if (this.failed || this.dec.destroyed) return undefined;
    if (this.dec.write(chunk)) return undefined;
    return Promise.race([once(this.dec, 'drain'), this.finished]);
  }

  /** The tarball's top-level metadata.yaml, once it was read. */
  get metadataYaml(): Buffer | undefined {
    return this.end.metadataYaml;
  }

  /** What the walk saw of the watched paths, once it ended. */
  get watched(): { seen: Record<string, string>; odd: boolean } {
    return { seen: this.end.seen, odd: this.end.odd };
  }

  /** The captured entries, once the walk ended. */
  get captured(): Readonly<Record<string, Captured>> {
    return this.end.captured;
  }

  /** Gives up (the file could not be read to its end): frees the decoder. */
  abort(): void {
    this.dec.destroy();
  }

  /** Ends the input; rejects with an ArchiveProblem when the archive is not whole. */
  async done(): Promise<void> {
    if (!this.failed && !this.dec.destroyed) this.dec.end();
    const e = await this.finished;
    if (e instanceof ArchiveProblem) throw e;
    if (e) throw cutShort(this.input, stoppedStream(this.compression, e), e);
    const problem = this.end.problem();
    if (problem) throw problem;
  }
}

/** The compression of a tarball from its first bytes; undefined when the bytes are no tarball a client unpacks. */
export function isTarballHead(head: Uint8Array): Compression | undefined {
  const s = sniff(head);
  if (s.kind === 'tar') return 'none';
  if (s.kind === 'compressed' && s.compression !== 'lz4' && s.compression !== 'lzma') return s.compression;
  return undefined;
}

/**
 * Proves a whole small tarball held in memory whole, without a stream per file (most of the cost
 * for thousands of tiny tarballs). Throws TooLargeInMemory when it expands past IN_MEMORY_EXPANDED_LIMIT.
 */
async function problemInMemory(bytes: Buffer, compression: Compression, seen: Seen = {}): Promise<ArchiveProblem | undefined> {
  let tar: Buffer;
  try {
    tar = await decompressWhole(bytes, compression);
  } catch (e) {
    if (e instanceof TooLargeInMemory) throw e;
    return cutShort(bytes.length, `the ${streamName(compression)} stream`, e as Error);
  }
  const end = new TarEnd();
  end.bytes = tar.length;
  const extract = tarStream.extract();
  followEntries(extract, end);
  const failed = await new Promise<Error | null>((resolve) => {
    extract.on('finish', () => resolve(null));
    extract.on('error', resolve);
    extract.end(archivePart(tar));
  });
  if (failed) return cutShort(bytes.length, 'the tar stream', failed);
  if (end.metadataYaml) seen.metadataYaml = end.metadataYaml;
  return end.problem();
}

/** What a deep read saw: whether the bytes are a tarball, and its top-level metadata.yaml. */
export interface Seen {
  tarball?: boolean;
  metadataYaml?: Buffer;
}

/**
 * Reads `body` to its end, hashing it with `onChunk`, and — when `deep` and the bytes are a
 * tarball — proves it whole: in memory when the whole body is small, else as a stream.
 * Resolves to the problem found, if any.
 */
export async function readChecked(
  body: AsyncIterable<Buffer>,
  onChunk: (chunk: Buffer) => void,
  deep: boolean,
  seen: Seen = {},
): Promise<ArchiveProblem | undefined> {
  let check: WholenessCheck | undefined;
  // Held until the body turns out larger than WHOLE_FILE_LIMIT, or ends.
  let held: Buffer[] | undefined = deep ? [] : undefined;
  let heldBytes = 0;
  const feed = async (chunk: Buffer) => {
    const p = check?.write(chunk);
    if (p) await p;
  };
  try {
    for await (const chunk of body) {
      onChunk(chunk);
      if (held) {
        held.push(chunk);
        heldBytes += chunk.length;
        if (heldBytes <= WHOLE_FILE_LIMIT) continue;
        const joined = Buffer.concat(held);
        held = undefined;
        const compression = isTarballHead(joined);
        seen.tarball = compression !== undefined;
        if (compression) check = new WholenessCheck(compression);
        await feed(joined);
      } else await feed(chunk);
    }
  } catch (e) {
    check?.abort();
    throw e;
  }
  if (held) {
    const joined = Buffer.concat(held);
    const compression = isTarballHead(joined);
    seen.tarball = compression !== undefined;
    if (!compression) return undefined;
    try {
      return await problemInMemory(joined, compression, seen);
    } catch (e) {
      if (!(e instanceof TooLargeInMemory)) throw e;
      check = new WholenessCheck(compression);
      await feed(joined);
    }
  }
  if (!check) return undefined;
  try {
    await check.done();
    if (check.metadataYaml) seen.metadataYaml = check.metadataYaml;
    return undefined;
  } catch (e) {
    if (e instanceof ArchiveProblem) return e;
    throw e;
  }
}

/** Where a container's init may be, in a root tarball (`prefix` '') or a unified one ('rootfs/'). */
export const initPaths = (prefix: string): string[] => [`${prefix}sbin/init`, `${prefix}sbin`, `${prefix}usr/sbin/init`];

/**
 * Whether a root filesystem has an init LXD and Incus can start (/sbin/init, itself or through a
 * merged /usr), from what the tar walk saw at initPaths.
 */
export function hasInit(seen: Readonly<Record<string, string>>, prefix: string): boolean {
  if (seen[`${prefix}sbin/init`] !== undefined) return true;
  return seen[`${prefix}sbin`] === 'symlink' && seen[`${prefix}usr/sbin/init`] !== undefined;
}
