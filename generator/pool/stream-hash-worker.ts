// The worker of pool/stream-hash: one sha256 per download (and one combined hash per metadata
// tarball that comes before it), fed in batches; each batch is acknowledged once hashed.

import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

type Message =
  | { kind: 'start'; id: number; prefixes: Uint8Array[]; resume?: { file: string; bytes: number } }
  | { kind: 'chunk'; id: number; data: Uint8Array }
  | { kind: 'end'; id: number }
  | { kind: 'drop'; id: number };

const sessions = new Map<number, { hash: Hash; combined: Hash[]; failed?: string }>();
const buffer = Buffer.allocUnsafe(1 << 20);

/** Continues the hashes with the first `bytes` of `file` (a download resumed from a partial file). */
function readPrefix(file: string, bytes: number, hashes: Hash[]): void {
  const fd = openSync(file, 'r');
  try {
    for (let at = 0; at < bytes;) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, bytes - at), at);
      if (n === 0) throw new Error(`${file} ends after ${at} of ${bytes} bytes`);
      for (const h of hashes) h.update(buffer.subarray(0, n));
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}

parentPort!.on('message', (m: Message) => {
  switch (m.kind) {
    case 'start': {
      const s = { hash: createHash('sha256'), combined: m.prefixes.map((p) => createHash('sha256').update(p)) };
      sessions.set(m.id, s);
      try {
        if (m.resume) readPrefix(m.resume.file, m.resume.bytes, [s.hash, ...s.combined]);
      } catch (e) {
        Object.assign(s, { failed: (e as Error).message });
      }
      return;
    }
    case 'chunk': {
      const s = sessions.get(m.id);
      if (s && !s.failed) {
        s.hash.update(m.data);
        for (const h of s.combined) h.update(m.data);
      }
      parentPort!.postMessage({ kind: 'hashed', id: m.id, bytes: m.data.byteLength });
      return;
    }
    case 'end': {
      const s = sessions.get(m.id);
      sessions.delete(m.id);
      if (!s || s.failed) parentPort!.postMessage({ kind: 'error', id: m.id, message: s?.failed ?? 'unknown download' });
      else parentPort!.postMessage({ kind: 'digest', id: m.id, sha256: s.hash.digest('hex'), combined: s.combined.map((h) => h.digest('hex')) });
      return;
    }
    case 'drop':
      sessions.delete(m.id);
  }
});
