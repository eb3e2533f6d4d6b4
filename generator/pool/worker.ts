// Worker thread for the CPU-bound stages: reading an image file's metadata (decompress, tar,
// YAML) and hashing the concatenation of files with node:crypto, with a reused read buffer
// (a second worker reading the same file gets it from the page cache). A tarball's first file
// is proven whole in the same read (fingerprint/wholeness). Tasks on small files come in
// batches, one message each way for many files.

import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { classify, type Classified } from '../ingest/classify.js';
import type { FoundFile } from '../ingest/find.js';
import { ImageError } from '../util/errors.js';
import type { Compression } from '../ingest/detect.js';
import { ArchiveProblem, WholenessCheck } from '../ingest/wholeness.js';
import { packageDbPaths, readPackages } from '../ingest/packages.js';
import type { PackageScan } from '../formats/manifest.js';

/** What a hash task gives (see pool.hash). */
export interface HashResult {
  /** sha256 of the files read one after another ('' for a read that only checks). */
  sha256: string;
  /** With `prefixed`: sha256(prefixed ‖ files), from the same read of the files. */
  combined?: string;
  /** With `prefixed`: the bytes read of it. */
  prefixedSize?: number;
  sizes: number[];
  /** With `watch`: the entry types the tar walk saw at those paths (see ingest/wholeness TarEnd). */
  watched?: { seen: Record<string, string>; odd: boolean };
  /** With `packages`: what the root filesystem's package database lists. */
  packages?: PackageScan;
}

export type Task =
  /** `check`: the first file is a tarball with this compression, to be proven whole as it is read. */
  /** `prefixed`: a second hash of that file's bytes then the files' (`combined`); `hashless`: only the check. */
  /** `packages`: with `check`, read the package database of the root filesystem at this prefix ('' or 'rootfs/'). */
  | {
      kind: 'hash';
      id: number;
      files: string[];
      progress: boolean;
      check?: Compression;
      watch?: string[];
      prefixed?: string;
      hashless?: boolean;
      packages?: string;
    }
  | { kind: 'classify'; id: number; file: FoundFile }
  /** Small tasks run one after another, answered in one reply. */
  | { kind: 'batch'; id: number; tasks: Task[] };

export type Reply =
  | ({ id: number; kind: 'hashed' } & HashResult)
  /** `combined`: "meta path\0rootfs path" → sha256(meta ‖ rootfs) of neighbours read whole in the batch. */
  | { id: number; kind: 'batch'; replies: Reply[]; combined: Record<string, string> }
  | { id: number; kind: 'classified'; value: Classified }
  | { id: number; kind: 'progress'; bytes: number }
  | { id: number; kind: 'image-error'; file: string; problem: string; fix: string }
  | { id: number; kind: 'error'; code?: string; message: string; file: string };

// Small enough to stay in the core's L2 cache between the read copy and the hash: 128 KiB hashes
// ~40 % faster here than 4 MiB, whose copy spills to RAM before the hash reads it back.
const CHUNK = 128 * 1024;
// A read that also feeds the wholeness check passes each chunk through three streams (decoder,
// counter, tar walk) and cannot reuse its buffer: there, a chunk's overhead costs more than the
// cache misses. Hashing and checking an 800 MB tar on each core at once took ~910 ms in 128 KiB
// chunks and ~650 ms in 1 MiB chunks (2–4 MiB: the same), with a lower peak RSS.
const CHECK_CHUNK = 1024 * 1024;
// A read that only checks (a decoding check on a core of its own, the hashes on the other) runs
// ahead of the decoder: half the chunk keeps its peak RSS under 200 MB (a 1 GiB zstd tar: ~185
// MB against ~210 MB), at a few per cent of its speed.
const CHECK_ONLY_CHUNK = 512 * 1024;
const PROGRESS_EVERY = 64 * 1024 * 1024;
const buffer = Buffer.allocUnsafe(CHUNK);
const post = (reply: Reply) => parentPort!.postMessage(reply);

/** Hashes; progress is posted every PROGRESS_EVERY bytes, the rest is counted from the reply's sizes. */
async function hashFiles(task: Extract<Task, { kind: 'hash' }>): Promise<Reply> {
  const hash = task.hashless ? undefined : createHash('sha256');
  const combined = task.prefixed === undefined ? undefined : createHash('sha256');
  let prefixedSize: number | undefined;
  if (combined) {
    const read = readInto(combined, task.prefixed!);
    if (typeof read !== 'number') return { ...read, id: task.id };
    prefixedSize = read;
  }
  const sizes: number[] = [];
  let watched: { seen: Record<string, string>; odd: boolean } | undefined;
  let packages: PackageScan | undefined;
  const capture = task.packages === undefined ? undefined : packageDbPaths(task.packages);
  for (const [i, file] of task.files.entries()) {
    const check = i === 0 && task.check ? new WholenessCheck(task.check, task.watch, capture) : undefined;
    let fd: number;
    let size = 0;
    let pending = 0;
    try {
      fd = openSync(file, 'r');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return { id: task.id, kind: 'error', code: err.code, message: err.message, file };
    }
    try {
      for (;;) {
        // The check keeps the chunk until it is decompressed: it gets a buffer of its own.
        const into = check ? Buffer.allocUnsafe(hash ? CHECK_CHUNK : CHECK_ONLY_CHUNK) : buffer;
        const n = readSync(fd, into, 0, into.length, null);
        if (n === 0) break;
        const chunk = into.subarray(0, n);
        hash?.update(chunk);
        combined?.update(chunk);
        const wait = check?.write(chunk);
        if (wait) await wait;
        size += n;
        pending += n;
        if (task.progress && pending >= PROGRESS_EVERY) {
          post({ id: task.id, kind: 'progress', bytes: pending });
          pending = 0;
        }
      }
    } catch (e) {
      check?.abort();
      const err = e as NodeJS.ErrnoException;
      return { id: task.id, kind: 'error', code: err.code, message: err.message, file };
    } finally {
      closeSync(fd);
    }
    sizes.push(size);
    try {
      await check?.done();
      if (check && task.watch?.length) watched = check.watched;
      if (check && task.packages !== undefined) packages = readPackages(check.captured, task.packages);
    } catch (e) {
      if (!(e instanceof ArchiveProblem)) throw e;
      return { id: task.id, kind: 'image-error', file, problem: e.message, fix: e.fix };
    }
  }
  return {
    id: task.id,
    kind: 'hashed',
    sha256: hash?.digest('hex') ?? '',
    sizes,
    ...(combined ? { combined: combined.digest('hex'), prefixedSize } : {}),
    ...(watched ? { watched } : {}),
    ...(packages ? { packages } : {}),
  };
}

/** Reads `file` into `hash`: its size, or the error reply (without its id). */
function readInto(hash: ReturnType<typeof createHash>, file: string): number | Omit<Extract<Reply, { kind: 'error' }>, 'id'> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { kind: 'error', code: err.code, message: err.message, file };
  }
  try {
    let size = 0;
    for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; size += n) hash.update(buffer.subarray(0, n));
    return size;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { kind: 'error', code: err.code, message: err.message, file };
  } finally {
    closeSync(fd);
  }
}

async function classifyFile(task: Extract<Task, { kind: 'classify' }>, keep?: (whole: Buffer) => void): Promise<Reply> {
  try {
    return { id: task.id, kind: 'classified', value: await classify(task.file, undefined, keep) };
  } catch (e) {
    if (e instanceof ImageError) return { id: task.id, kind: 'image-error', file: e.file, problem: e.problem, fix: e.fix };
    return { id: task.id, kind: 'error', message: (e as Error).message, file: task.file.path };
  }
}

/** Metadata tarballs and rootfs files of one folder hashed as pairs when a folder has no more than this. */
const PAIRS_PER_FOLDER = { metas: 2, roots: 4 };

/**
 * sha256(meta ‖ rootfs) for the metadata tarballs and rootfs files of one folder that this batch
 * read whole: the fingerprint of the image they make if pairing pairs them (it pairs by folder),
 * so hashing does not open both files again. A few per folder at most; the rest are hashed later.
 */
function neighbourPairs(replies: Reply[], held: Map<string, Buffer>): Record<string, string> {
  const folders = new Map<string, { metas: string[]; roots: string[] }>();
  for (const r of replies) {
    if (r.kind !== 'classified' || !held.has(r.value.file.path)) continue;
    const { role, file } = r.value;
    if (role !== 'metadata' && role !== 'rootfs') continue;
    const folder = path.dirname(file.path);
    let f = folders.get(folder);
    if (!f) folders.set(folder, (f = { metas: [], roots: [] }));
    (role === 'metadata' ? f.metas : f.roots).push(file.path);
  }
  const combined: Record<string, string> = {};
  for (const { metas, roots } of folders.values()) {
    if (metas.length > PAIRS_PER_FOLDER.metas || roots.length > PAIRS_PER_FOLDER.roots) continue;
    for (const meta of metas) {
      for (const root of roots) combined[`${meta}\u0000${root}`] = createHash('sha256').update(held.get(meta)!).update(held.get(root)!).digest('hex');
    }
  }
  return combined;
}

async function run(task: Task): Promise<Reply> {
  switch (task.kind) {
    case 'hash':
      return hashFiles(task);
    case 'classify':
      return classifyFile(task);
    case 'batch': {
      const replies: Reply[] = [];
      const held = new Map<string, Buffer>();
      for (const t of task.tasks) replies.push(t.kind === 'classify' ? await classifyFile(t, (whole) => held.set(t.file.path, whole)) : await run(t));
      return { id: task.id, kind: 'batch', replies, combined: neighbourPairs(replies, held) };
    }
  }
}

parentPort!.on('message', (task: Task) => {
  void run(task).then(post);
});
