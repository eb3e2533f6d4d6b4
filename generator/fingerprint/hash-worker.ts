// Worker thread: hashes the concatenation of a list of files with node:crypto, reading them with
// a reused buffer (from the page cache when another worker just read the same file).

import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

export interface HashTask {
  id: number;
  files: string[];
  /** Post progress messages for this task's bytes. */
  progress: boolean;
}

export type HashReply =
  | { id: number; kind: 'done'; sha256: string; sizes: number[] }
  | { id: number; kind: 'progress'; bytes: number }
  | { id: number; kind: 'error'; code?: string; message: string; file: string };

const CHUNK = 4 * 1024 * 1024;
const PROGRESS_EVERY = 64 * 1024 * 1024;
const buffer = Buffer.allocUnsafe(CHUNK);

parentPort!.on('message', (task: HashTask) => {
  const hash = createHash('sha256');
  const sizes: number[] = [];
  for (const file of task.files) {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      parentPort!.postMessage({ id: task.id, kind: 'error', code: err.code, message: err.message, file } satisfies HashReply);
      return;
    }
    let size = 0;
    let pending = 0;
    try {
      for (;;) {
        const n = readSync(fd, buffer, 0, CHUNK, null);
        if (n === 0) break;
        hash.update(buffer.subarray(0, n));
        size += n;
        pending += n;
        if (task.progress && pending >= PROGRESS_EVERY) {
          parentPort!.postMessage({ id: task.id, kind: 'progress', bytes: pending } satisfies HashReply);
          pending = 0;
        }
      }
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      parentPort!.postMessage({ id: task.id, kind: 'error', code: err.code, message: err.message, file } satisfies HashReply);
      return;
    } finally {
      closeSync(fd);
    }
    if (task.progress && pending > 0) parentPort!.postMessage({ id: task.id, kind: 'progress', bytes: pending } satisfies HashReply);
    sizes.push(size);
  }
  parentPort!.postMessage({ id: task.id, kind: 'done', sha256: hash.digest('hex'), sizes } satisfies HashReply);
});
