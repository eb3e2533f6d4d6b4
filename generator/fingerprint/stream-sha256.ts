// sha256 and size of a byte stream on the main thread: for files the build makes or reads back
// (deltas, objects in a bucket), not the input images, which the worker pool hashes.

import { createHash } from 'node:crypto';

export async function sha256Of(body: AsyncIterable<Buffer | Uint8Array>): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}
