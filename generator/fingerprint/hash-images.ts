// Hashes image files in one streaming read each: a rootfs feeds both its own sha256 and the
// combined metadata‖rootfs fingerprint; a unified tarball's sha256 is its fingerprint.

import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ImageError } from '../errors.js';
import type { PairedImage } from '../ingest/pair.js';
import type { HashedFile, HashedImage } from '../model.js';

const READ_CHUNK = 1024 * 1024;

/** Streams `path` through every hash in `hashes`; returns the byte count. */
async function streamInto(path: string, rel: string, hashes: Hash[], onBytes?: (n: number) => void): Promise<number> {
  let size = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK }) as AsyncIterable<Buffer>) {
      for (const h of hashes) h.update(chunk);
      size += chunk.length;
      onBytes?.(chunk.length);
    }
  } catch (e) {
    throw new ImageError(rel, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check the file and its permissions');
  }
  return size;
}

export async function hashImage(image: PairedImage, onBytes?: (n: number) => void): Promise<HashedImage> {
  if (image.kind === 'unified') {
    const { file } = image;
    const hash = createHash('sha256');
    const size = await streamInto(file.file.path, file.file.rel, [hash], onBytes);
    const sha256 = hash.digest('hex');
    return {
      kind: 'unified',
      type: image.type,
      metadata: file.metadata,
      fingerprint: sha256,
      files: [{ source: file.file, sha256, size, part: 'unified', compression: file.compression }],
    };
  }
  const { meta, rootfs } = image;
  const own = createHash('sha256');
  const combined = meta.hash.copy();
  const size = await streamInto(rootfs.file.path, rootfs.file.rel, [own, combined], onBytes);
  const metaFile: HashedFile = { source: meta.file, sha256: meta.sha256, size: meta.file.size, part: 'metadata', compression: meta.compression };
  const rootFile: HashedFile = {
    source: rootfs.file,
    sha256: own.digest('hex'),
    size,
    part: rootfs.format === 'squashfs' ? 'squashfs' : rootfs.format === 'qcow2' ? 'qcow2' : 'root-tarball',
    compression: rootfs.compression,
  };
  return { kind: 'split', type: image.type, metadata: meta.metadata, fingerprint: combined.digest('hex'), files: [metaFile, rootFile] };
}
