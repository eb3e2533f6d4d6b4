// A pool of hashing worker threads (one per core, at most two by default): the two hashes of a
// rootfs — its own sha256 and the metadata‖rootfs fingerprint — run on two cores at once.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { HashReply, HashTask } from './hash-worker.js';

export interface HashResult {
  sha256: string;
  sizes: number[];
}

export class HashFailed extends Error {
  constructor(readonly file: string, readonly code: string | undefined, message: string) {
    super(message);
  }
}

interface Pending {
  task: HashTask;
  resolve(r: HashResult): void;
  reject(e: Error): void;
  onBytes?: (n: number) => void;
}

export class HashPool {
  private workers: Worker[] = [];
  private idle: Worker[] = [];
  private queue: Pending[] = [];
  private running = new Map<number, Pending>();
  private nextId = 1;

  constructor(size = Math.min(2, availableParallelism())) {
    for (let i = 0; i < Math.max(1, size); i++) {
      const worker = new Worker(new URL('./hash-worker.js', import.meta.url));
      worker.on('message', (reply: HashReply) => this.onReply(worker, reply));
      worker.on('error', (e) => {
        for (const p of this.running.values()) p.reject(e);
        this.running.clear();
      });
      worker.unref();
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  /** sha256 of the concatenation of `files`. */
  hash(files: string[], onBytes?: (n: number) => void): Promise<HashResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ task: { id: this.nextId++, files, progress: onBytes !== undefined }, resolve, reject, onBytes });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length && this.queue.length) {
      const worker = this.idle.pop()!;
      const pending = this.queue.shift()!;
      this.running.set(pending.task.id, pending);
      (worker as Worker & { taskId?: number }).taskId = pending.task.id;
      worker.ref();
      worker.postMessage(pending.task);
    }
  }

  private onReply(worker: Worker, reply: HashReply): void {
    const pending = this.running.get(reply.id);
    if (!pending) return;
    if (reply.kind === 'progress') {
      pending.onBytes?.(reply.bytes);
      return;
    }
    this.running.delete(reply.id);
    worker.unref();
    this.idle.push(worker);
    if (reply.kind === 'done') pending.resolve({ sha256: reply.sha256, sizes: reply.sizes });
    else pending.reject(new HashFailed(reply.file, reply.code, reply.message));
    this.dispatch();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
