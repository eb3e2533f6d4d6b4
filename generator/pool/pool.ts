// A pool of worker threads (one per core, at most two by default) for the CPU-bound stages:
// reading metadata out of compressed tarballs, and hashing — where the two hashes of a rootfs
// (its own sha256 and the metadata‖rootfs fingerprint) run on two cores at once.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ImageError } from '../util/errors.js';
import type { Classified } from '../ingest/classify.js';
import type { Compression } from '../ingest/detect.js';
import type { FoundFile } from '../ingest/find.js';
import type { Reply, Task } from './worker.js';

export interface HashResult {
  sha256: string;
  sizes: number[];
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
  resolve(value: unknown): void;
  reject(e: Error): void;
  onBytes?: (n: number) => void;
}

const CLASSIFY_PER_WORKER = 8;

type TaskInput = Task extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

export class WorkerPool {
  private workers: Worker[] = [];
  /** Tasks in flight per worker: metadata reads wait on I/O, so several share a worker; a hash owns it. */
  private load = new Map<Worker, number>();
  private queue: Pending[] = [];
  private running = new Map<number, Pending>();
  private hashing = new Set<Worker>();
  private nextId = 1;

  /** Workers start on the first task: a build with everything cached starts none. */
  constructor(private readonly size = Math.min(2, availableParallelism())) {}

  private start(): void {
    for (let i = 0; i < Math.max(1, this.size); i++) {
      const worker = new Worker(new URL('./worker.js', import.meta.url));
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

  /**
   * sha256 of the concatenation of `files`; with `check`, the first file is a tarball of that
   * compression proven whole in the same read (rejects with an ImageError naming its path).
   */
  hash(files: string[], onBytes?: (n: number) => void, check?: Compression): Promise<HashResult> {
    return this.submit({ kind: 'hash', files, progress: onBytes !== undefined, ...(check ? { check } : {}) }, onBytes) as Promise<HashResult>;
  }

  /** What the file is, with its metadata (see ingest/classify). Rejects with ImageError. */
  classify(file: FoundFile): Promise<Classified> {
    return this.submit({ kind: 'classify', file }) as Promise<Classified>;
  }

  private submit(input: TaskInput, onBytes?: (n: number) => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ task: { ...input, id: this.nextId++ } as Task, resolve, reject, onBytes });
      this.dispatch();
    });
  }

  private dispatch(): void {
    if (this.workers.length === 0) this.start();
    while (this.queue.length) {
      const next = this.queue[0]!;
      const limit = next.task.kind === 'hash' ? 1 : CLASSIFY_PER_WORKER;
      const worker = this.workers.find((w) => this.load.get(w)! < limit && !this.hashing.has(w));
      if (!worker) return;
      this.queue.shift();
      this.running.set(next.task.id, next);
      this.load.set(worker, this.load.get(worker)! + 1);
      if (next.task.kind === 'hash') this.hashing.add(worker);
      worker.ref();
      worker.postMessage(next.task);
    }
  }

  private onReply(worker: Worker, reply: Reply): void {
    const pending = this.running.get(reply.id);
    if (!pending) return;
    if (reply.kind === 'progress') {
      pending.onBytes?.(reply.bytes);
      return;
    }
    this.running.delete(reply.id);
    const load = this.load.get(worker)! - 1;
    this.load.set(worker, load);
    if (reply.kind === 'hashed' || pending.task.kind === 'hash') this.hashing.delete(worker);
    if (load === 0) worker.unref();
    if (reply.kind === 'hashed') pending.resolve({ sha256: reply.sha256, sizes: reply.sizes });
    else if (reply.kind === 'classified') pending.resolve(reply.value);
    else if (reply.kind === 'image-error') pending.reject(new ImageError(reply.file, reply.problem, reply.fix));
    else pending.reject(new ReadFailed(reply.file, reply.code, reply.message));
    this.dispatch();
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
