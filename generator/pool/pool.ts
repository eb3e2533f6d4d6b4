// A pool of worker threads (one per core, at most two by default) for the CPU-bound stages:
// reading metadata out of compressed tarballs, and hashing — where the two hashes of a rootfs
// (its own sha256 and the metadata‖rootfs fingerprint) run on two cores at once. Tasks on small
// files go out in batches: for thousands of tiny tarballs the messages, not the work, cost most.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ImageError } from '../util/errors.js';
import type { Classified } from '../ingest/classify.js';
import type { Compression } from '../ingest/detect.js';
import { WHOLE_FILE_LIMIT } from '../ingest/limits.js';
import type { FoundFile } from '../ingest/find.js';
import type { HashResult, Reply, Task } from './worker.js';

export type { HashResult } from './worker.js';

export interface HashOptions {
  /** Hears of the bytes as they are read. */
  onBytes?: (n: number) => void;
  /** The first file is a tarball of this compression, proven whole in the same read (rejects with an ImageError naming its path). */
  check?: Compression;
  /** With `check`: paths whose entry types the tar walk records (HashResult.watched). */
  watch?: string[];
  /** What the files hold, when known (small hashes are batched; large ones ordered by cost). */
  bytes?: number;
  /** A file whose bytes come before `files` in a second hash (HashResult.combined): both hashes in one read of `files`. */
  prefixed?: string;
  /** Only check (`check`): no hash. */
  hashless?: boolean;
  /** With `check`: read the package database of the root filesystem at this prefix ('' or 'rootfs/'). */
  packages?: string;
}

/** A file could not be read by a worker. */
export class ReadFailed extends Error {
  constructor(
    readonly file: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

interface Pending {
  task: Task;
  /** Bytes the task reads, when known: small tasks are batched. */
  bytes?: number;
  /** What the task costs, for ordering large hashes: its bytes, weighted by the wholeness check it makes. */
  cost?: number;
  resolve(value: unknown): void;
  reject(e: Error): void;
  onBytes?: (n: number) => void;
  /** Bytes already passed to onBytes. */
  reported: number;
}

const CLASSIFY_PER_WORKER = 8;
/**
 * How much longer than hashing alone a hash with a wholeness check of the tarball takes, by its
 * compression (measured here: walking an uncompressed tar slows the hash to ~0.87 of its speed;
 * unpacking costs more). Only the order of the large hashes depends on it.
 */
const CHECK_COST: Partial<Record<Compression, number>> = { none: 1.15, gzip: 3, bzip2: 8, xz: 6, lzma: 6, zstd: 2, lz4: 1.5 };

/** A hash task's cost per byte read (see CHECK_COST); a second hash in the same read costs another. */
function hashCost(task: { check?: Compression; prefixed?: string; hashless?: boolean }): number {
  const hashes = task.hashless ? 0 : task.prefixed ? 2 : 1;
  return task.check ? (CHECK_COST[task.check] ?? 1) - 1 + hashes : hashes;
}

/** Tasks reading at most WHOLE_FILE_LIMIT bytes (files read whole) are batched, up to BATCH_TASKS or BATCH_BYTES a message. */
const BATCH_TASKS = 64;
const BATCH_BYTES = 16 * 1024 * 1024;

type TaskInput = Task extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

export class WorkerPool {
  private workers: Worker[] = [];
  /** Tasks in flight per worker: metadata reads wait on I/O, so several share a worker; a hash owns it. */
  private load = new Map<Worker, number>();
  /** Reads of metadata and small hashes, in the order given (they go first: pairing waits on them). */
  private queue: Pending[] = [];
  /** Hashes of large files, largest first. */
  private large: Pending[] = [];
  private running = new Map<number, Pending>();
  /** Workers running a task that owns them (a hash or a batch). */
  private owned = new Set<Worker>();
  private nextId = 1;

  /** Workers start on the first task: a build with everything cached starts none. */
  constructor(private readonly size = Math.min(2, availableParallelism())) {}

  /** Starts the workers ahead of the first task (they take ~0.1 s to load), when work is sure to come. */
  warm(): void {
    if (this.workers.length === 0) this.start();
  }

  private start(): void {
    for (let i = 0; i < Math.max(1, this.size); i++) {
      // A small young generation: thousands of tiny files make short-lived garbage, not live data.
      const worker = new Worker(new URL('./worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      worker.on('message', (reply: Reply) => this.onReply(worker, reply));
      worker.on('error', (e) => {
        for (const p of this.running.values()) p.reject(e);
        this.running.clear();
      });
      // A worker that ended (after an error) is no longer waited for by close().
      worker.on('exit', () => {
        this.workers = this.workers.filter((w) => w !== worker);
      });
      worker.unref();
      this.workers.push(worker);
      this.load.set(worker, 0);
    }
  }

  /** sha256 of the concatenation of `files` (see HashOptions). */
  hash(files: string[], options: HashOptions = {}): Promise<HashResult> {
    const { onBytes, check, bytes, watch, prefixed, hashless, packages } = options;
    return this.submit(
      {
        kind: 'hash',
        files,
        progress: onBytes !== undefined,
        ...(check ? { check } : {}),
        ...(watch?.length ? { watch } : {}),
        ...(prefixed ? { prefixed } : {}),
        ...(hashless ? { hashless } : {}),
        ...(packages !== undefined ? { packages } : {}),
      },
      onBytes,
      bytes,
    ) as Promise<HashResult>;
  }

  /** sha256(meta ‖ rootfs) of neighbours a batch read whole, if it did (taken once). */
  knownPair(meta: string, rootfs: string): string | undefined {
    const key = `${meta}\u0000${rootfs}`;
    const sha256 = this.pairs.get(key);
    this.pairs.delete(key);
    return sha256;
  }

  private pairs = new Map<string, string>();

  /** What the file is, with its metadata (see ingest/classify). Rejects with ImageError. */
  classify(file: FoundFile): Promise<Classified> {
    return this.submit({ kind: 'classify', file }, undefined, file.size) as Promise<Classified>;
  }

  private submit(input: TaskInput, onBytes?: (n: number) => void, bytes?: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const cost = input.kind === 'hash' && bytes !== undefined ? bytes * hashCost(input) : undefined;
      const pending: Pending = { task: { ...input, id: this.nextId++ } as Task, bytes, cost, resolve, reject, onBytes, reported: 0 };
      if (cost !== undefined && bytes! > WHOLE_FILE_LIMIT) {
        // Costliest first (equal costs in the order given): the two cores finish closer together.
        const at = this.large.findIndex((p) => p.cost! < cost);
        this.large.splice(at === -1 ? this.large.length : at, 0, pending);
      } else this.queue.push(pending);
      // Tasks submitted together go out together: dispatching waits for the current turn to end.
      if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          this.dispatch();
        });
      }
    });
  }

  private scheduled = false;

  private isSmall(p: Pending): boolean {
    return p.bytes !== undefined && p.bytes <= WHOLE_FILE_LIMIT;
  }

  /** The next message: the queue's first task, or a batch of the small tasks at its front, or the largest hash. */
  private take(): Task {
    const first = this.queue.length ? this.queue.shift()! : this.large.shift()!;
    this.running.set(first.task.id, first);
    if (!this.isSmall(first) || !this.queue.length || !this.isSmall(this.queue[0]!)) return first.task;
    const tasks = [first.task];
    let bytes = first.bytes!;
    while (tasks.length < BATCH_TASKS && this.queue.length && this.isSmall(this.queue[0]!) && bytes + this.queue[0]!.bytes! <= BATCH_BYTES) {
      const next = this.queue.shift()!;
      this.running.set(next.task.id, next);
      tasks.push(next.task);
      bytes += next.bytes!;
    }
    return { kind: 'batch', id: this.nextId++, tasks };
  }

  private dispatch(): void {
    if (this.workers.length === 0) this.start();
    while (this.queue.length || this.large.length) {
      const next = this.queue[0] ?? this.large[0]!;
      // A hash or a batch owns its worker; metadata reads of large files wait on I/O and share one.
      const exclusive = next.task.kind === 'hash' || (this.isSmall(next) && this.queue.length > 1);
      const limit = exclusive ? 1 : CLASSIFY_PER_WORKER;
      const worker = this.workers.find((w) => this.load.get(w)! < limit && !this.owned.has(w));
      if (!worker) return;
      const task = this.take();
      this.load.set(worker, this.load.get(worker)! + 1);
      if (task.kind !== 'classify') this.owned.add(worker);
      worker.ref();
      worker.postMessage(task);
    }
  }

  private onReply(worker: Worker, reply: Reply): void {
    if (reply.kind === 'progress') {
      const pending = this.running.get(reply.id);
      pending?.onBytes?.(reply.bytes);
      if (pending) pending.reported += reply.bytes;
      return;
    }
    const load = this.load.get(worker)! - 1;
    this.load.set(worker, load);
    this.owned.delete(worker);
    if (load === 0) worker.unref();
    if (reply.kind === 'batch') for (const [pair, sha256] of Object.entries(reply.combined)) this.pairs.set(pair, sha256);
    for (const r of reply.kind === 'batch' ? reply.replies : [reply]) this.settle(r);
    this.dispatch();
  }

  private settle(reply: Reply): void {
    const pending = this.running.get(reply.id);
    if (!pending) return;
    this.running.delete(reply.id);
    if (reply.kind === 'hashed') {
      const read = reply.sizes.reduce((a, b) => a + b, 0);
      if (read > pending.reported) pending.onBytes?.(read - pending.reported);
      pending.resolve({
        sha256: reply.sha256,
        sizes: reply.sizes,
        ...(reply.combined ? { combined: reply.combined, prefixedSize: reply.prefixedSize } : {}),
        ...(reply.watched ? { watched: reply.watched } : {}),
        ...(reply.packages ? { packages: reply.packages } : {}),
      });
    } else if (reply.kind === 'classified') pending.resolve(reply.value);
    else if (reply.kind === 'image-error') pending.reject(new ImageError(reply.file, reply.problem, reply.fix));
    else if (reply.kind === 'error') pending.reject(new ReadFailed(reply.file, reply.code, reply.message));
  }

  async close(): Promise<void> {
    // An idle worker is unref'd; it must hold the event loop open until its exit is reported,
    // or the loop can empty first and leave this await unsettled (Node exits with code 13).
    await Promise.all(
      this.workers.map((w) => {
        w.ref();
        return w.terminate();
      }),
    );
  }
}
