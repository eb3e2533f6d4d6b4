// ingest/wholeness.ts readChecked: a tarball is proven whole in memory when the whole body is
// small and as a stream when it is large; both ways must reach the same verdict.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readChecked } from '../../generator/ingest/wholeness.js';
import { compress, tarball, type Compression } from '../support/images.js';

/** The body in 64 KiB chunks, as a file or HTTP stream hands it over. */
async function* chunked(bytes: Buffer): AsyncIterable<Buffer> {
  for (let i = 0; i < bytes.length; i += 64 * 1024) yield bytes.subarray(i, i + 64 * 1024);
}

async function verdict(bytes: Buffer): Promise<{ problem: string | undefined; sha256: string }> {
  const hash = createHash('sha256');
  const problem = await readChecked(chunked(bytes), (c) => hash.update(c), true);
  return { problem: problem?.message, sha256: hash.digest('hex') };
}

describe('readChecked', () => {
  // Incompressible content: the large tarball stays over the 1 MiB held in memory once compressed.
  const sizes = { small: 4 * 1024, large: 3 * 1024 * 1024 };
  for (const compression of ['gzip', 'xz', 'none'] as Compression[]) {
    for (const [label, size] of Object.entries(sizes)) {
      it(`proves a ${label} ${compression} tarball whole, and finds it cut short or missing its end marker`, async () => {
        const plain = await tarball([{ name: 'bin/' }, { name: 'bin/sh', content: randomBytes(size) }]);
        const whole = compress(plain, compression);
        assert.ok(label === 'small' ? whole.length < 1024 * 1024 : whole.length > 1024 * 1024, `${label} as intended: ${whole.length} bytes`);
        const ok = await verdict(whole);
        assert.equal(ok.problem, undefined);
        assert.equal(ok.sha256, createHash('sha256').update(whole).digest('hex'), 'every byte hashed once');

        const cut = await verdict(whole.subarray(0, whole.length - 700));
        assert.match(cut.problem ?? '', compression === 'none' ? /end-of-archive marker|cut short/ : /cut short or corrupt after \d+ bytes/);
        // Cut right after the last entry: a whole compressed stream of a tar without its end marker.
        const noEnd = compress(plain.subarray(0, 512 + 512 + Math.ceil(size / 512) * 512), compression);
        assert.match((await verdict(noEnd)).problem ?? '', /no tar end-of-archive marker/);
      });
    }
  }

  it('leaves files that are not tarballs alone', async () => {
    assert.equal((await verdict(randomBytes(5000))).problem, undefined);
    assert.equal((await verdict(Buffer.concat([Buffer.from('hsqs'), randomBytes(2 * 1024 * 1024)]))).problem, undefined);
  });
});
