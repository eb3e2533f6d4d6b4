// Downloads hashed on a worker thread give the same digests as on the calling thread: the file's
// sha256 and each combined hash (a prefix's bytes, then the file's), from chunks of any size,
// continued from a partial file, with many downloads at once; memory waits when the worker lags.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hashHere, StreamHasher, type HasherFactory } from '../../generator/pool/stream-hash.js';
import { tempDir } from '../support/tmp.js';

const sha = (...parts: Buffer[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

/** Feeds `data` in chunks of random sizes (the same buffer reused, as a socket's may be), waiting when asked. */
async function feed(factory: HasherFactory, data: Buffer, prefixes: Buffer[], resume?: { file: string; bytes: number }) {
  const h = await factory(prefixes, resume);
  const scratch = Buffer.alloc(300_000);
  for (let at = resume?.bytes ?? 0; at < data.length;) {
    const n = Math.min(data.length - at, 1 + Math.floor(Math.random() * scratch.length));
    data.copy(scratch, 0, at, at + n);
    at += n;
    if (!h.update(scratch.subarray(0, n))) await new Promise<void>((go) => h.ready(go));
    scratch.fill(0); // the hasher must not keep the caller's buffer
  }
  return h.digest();
}

describe('StreamHasher', () => {
  it('the same sha256 and combined hashes as hashing here, for many downloads at once, resumed ones too', async (t) => {
    const dir = await tempDir(t);
    const hasher = new StreamHasher();
    t.after(() => hasher.close());
    const files = Array.from({ length: 6 }, (_, i) => randomBytes(3_000_000 + i * 777_777));
    const meta = randomBytes(5000);
    const partial = path.join(dir, 'part');
    await writeFile(partial, files[0]!.subarray(0, 1_234_567));
    const results = await Promise.all(
      files.map((data, i) => feed(hasher.factory, data, i % 2 ? [meta, meta.subarray(0, 10)] : [], i === 0 ? { file: partial, bytes: 1_234_567 } : undefined)),
    );
    for (const [i, r] of results.entries()) {
      assert.equal(r.sha256, sha(files[i]!));
      assert.deepEqual(r.combined, i % 2 ? [sha(meta, files[i]!), sha(meta.subarray(0, 10), files[i]!)] : []);
    }
    const here = await feed(hashHere, files[1]!, [meta]);
    assert.deepEqual(here, { sha256: sha(files[1]!), combined: [sha(meta, files[1]!)] });
  });

  it('waits (update says false) rather than queueing without bound, and goes on once the worker caught up', async (t) => {
    const hasher = new StreamHasher();
    t.after(() => hasher.close());
    const h = await hasher.factory([]);
    const block = randomBytes(4 * 1024 * 1024);
    let refused = 0;
    const whole = createHash('sha256');
    for (let i = 0; i < 40; i++) {
      whole.update(block);
      if (!h.update(block)) {
        refused++;
        await new Promise<void>((go) => h.ready(go));
      }
    }
    assert.ok(refused > 0, 'past 32 MiB in flight the caller is asked to wait');
    assert.equal((await h.digest()).sha256, whole.digest('hex'));
  });

  it('a partial file shorter than it should be fails the download, not the process', async (t) => {
    const dir = await tempDir(t);
    const hasher = new StreamHasher();
    t.after(() => hasher.close());
    await writeFile(path.join(dir, 'short'), Buffer.alloc(10));
    const h = await hasher.factory([], { file: path.join(dir, 'short'), bytes: 100 });
    await assert.rejects(h.digest(), /ends after 10 of 100 bytes/);
  });
});
