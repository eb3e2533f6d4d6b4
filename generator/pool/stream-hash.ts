// Hashes downloads off the thread that reads the sockets: each download's bytes go, in batches
// of about 1 MiB (transferred, not copied), to a worker thread that keeps the file's sha256 and
// the combined hashes that start with a metadata tarball's bytes. The thread that decrypts TLS and
// writes the file then does nothing else; the hashing runs on the other core. At most
// IN_FLIGHT_LIMIT bytes wait for the worker: past that the download stops reading its socket
// until the worker catches up, so memory stays bounded however slow the hashing.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** Hashes a download's bytes as they arrive: its sha256, and each prefix's combined hash. */
export interface DownloadHasher {
  /** Takes the next bytes (the caller may reuse `chunk`); false: wait for `ready` before giving more. */
  update(chunk: Buffer): boolean;
  /** Calls `go` once more bytes may be given. */
  ready(go: () => void): void;
  /** The digests, once every byte was given. */
  digest(): Promise<{ sha256: string; combined: string[] }>;
  /** Forgets the download (it failed). */
  abandon(): void;
}

/**
 * Opens a hasher: `prefixes`, the bytes each combined hash starts with (metadata tarballs);
 * `resume`, the first bytes of the file already on disk (a resumed download).
 */
export type HasherFactory = (prefixes: Buffer[], resume?: { file: string; bytes: number }) => Promise<DownloadHasher>;

/** Hashes on the calling thread (a download of a few files, or no worker at hand). */
export const hashHere: HasherFactory = async (prefixes, resume) => {
  const hash = createHash('sha256');
  const combined = prefixes.map((p) => createHash('sha256').update(p));
  if (resume && resume.bytes > 0)
    for await (const chunk of createReadStream(resume.file, { end: resume.bytes - 1, highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
      for (const h of combined) h.update(chunk as Buffer);
    }
  return {
    update(chunk) {
      hash.update(chunk);
      for (const h of combined) h.update(chunk);
      return true;
    },
    ready: (go) => go(),
    digest: () => Promise.resolve({ sha256: hash.digest('hex'), combined: combined.map((h) => h.digest('hex')) }),
    abandon() {},
  };
};

/** Bytes posted to the worker and not yet hashed, over all downloads, before downloads wait. */
const IN_FLIGHT_LIMIT = 32 * 1024 * 1024;
/** Bytes gathered before a batch goes to the worker. */
const BATCH = 1024 * 1024;

type Reply =
  | { kind: 'hashed'; id: number; bytes: number }
  | { kind: 'digest'; id: number; sha256: string; combined: string[] }
  | { kind: 'error'; id: number; message: string };

export class StreamHasher {
  private worker: Worker;
  private next = 0;
  private inFlight = 0;
  private waiting: (() => void)[] = [];
  private digests = new Map<number, { resolve(d: { sha256: string; combined: string[] }): void; reject(e: Error): void }>();

  constructor() {
    this.worker = new Worker(new URL('./stream-hash-worker.js', import.meta.url));
    this.worker.unref();
    this.worker.on('message', (r: Reply) => this.reply(r));
    // A worker that dies fails every download it was hashing, and lets paused ones go on to fail too.
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', () => this.fail(new Error('the hashing thread stopped')));
  }

  private failed: Error | undefined;

  private fail(e: Error): void {
    this.failed ??= e;
    for (const d of this.digests.values()) d.reject(this.failed);
    this.digests.clear();
    for (const go of this.waiting.splice(0)) go();
  }

  private reply(r: Reply): void {
    if (r.kind === 'hashed') {
      this.inFlight -= r.bytes;
      if (this.inFlight < IN_FLIGHT_LIMIT) for (const go of this.waiting.splice(0)) go();
      return;
    }
    const d = this.digests.get(r.id);
    this.digests.delete(r.id);
    if (r.kind === 'digest') d?.resolve({ sha256: r.sha256, combined: r.combined });
    else d?.reject(new Error(r.message));
  }

  /** The factory `download` takes. */
  readonly factory: HasherFactory = (prefixes, resume) => Promise.resolve(this.open(prefixes, resume));

  private open(prefixes: Buffer[], resume?: { file: string; bytes: number }): DownloadHasher {
    const id = this.next++;
    this.worker.ref();
    this.worker.postMessage({ kind: 'start', id, prefixes, ...(resume && resume.bytes > 0 ? { resume } : {}) });
    let batch: Buffer[] = [];
    let batched = 0;
    const flush = () => {
      if (!batched) return;
      const joined = batch.length === 1 && batch[0]!.byteOffset === 0 && batch[0]!.buffer.byteLength === batched ? batch[0]! : Buffer.concat(batch, batched);
      this.inFlight += batched;
      this.worker.postMessage({ kind: 'chunk', id, data: joined }, [joined.buffer as ArrayBuffer]);
      batch = [];
      batched = 0;
    };
    return {
      update: (chunk) => {
        // the socket's chunk is copied into the batch (its buffer may be pooled, never transferred)
        batch.push(Buffer.from(chunk));
        batched += chunk.length;
        if (batched >= BATCH) flush();
        return this.inFlight < IN_FLIGHT_LIMIT || this.failed !== undefined;
      },
      ready: (go) => {
        if (this.inFlight < IN_FLIGHT_LIMIT || this.failed) go();
        else this.waiting.push(go);
      },
      digest: () => {
        flush();
        if (this.failed) return Promise.reject(this.failed);
        return new Promise((resolve, reject) => {
          this.digests.set(id, { resolve, reject });
          this.worker.postMessage({ kind: 'end', id });
        }).finally(() => {
          if (!this.digests.size) this.worker.unref();
        }) as Promise<{ sha256: string; combined: string[] }>;
      },
      abandon: () => this.worker.postMessage({ kind: 'drop', id }),
    };
  }

  async close(): Promise<void> {
    this.failed ??= new Error('closed');
    this.worker.removeAllListeners('exit');
    this.worker.ref();
    await this.worker.terminate();
  }
}
