// Where a tar stream ends as GNU tar reads it (LXD and Incus unpack with it): at the
// end-of-archive marker, two zero blocks where a header is due. Whatever follows the marker is
// not part of the archive — tar extracts without a word — so the tar walk must not read it
// (tar-stream would take it for a header and fail). Only the header's size field is read, to
// know where the next header is; tar-stream reads everything else.

import { Transform } from 'node:stream';

const BLOCK = 512;

/** Follows tar blocks; `feed` says where in a chunk the end-of-archive marker ends. */
export class TarBlocks {
  private skip = 0;
  private header = Buffer.alloc(BLOCK);
  private filled = 0;
  private zeroBlocks = 0;
  ended = false;

  /** Bytes of `chunk` that belong to the archive (all of it until the marker ends). */
  feed(chunk: Uint8Array): number {
    if (this.ended) return 0;
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        i += n;
        this.skip -= n;
        continue;
      }
      const n = Math.min(BLOCK - this.filled, chunk.length - i);
      this.header.set(chunk.subarray(i, i + n), this.filled);
      this.filled += n;
      i += n;
      if (this.filled < BLOCK) break;
      this.filled = 0;
      if (this.header.every((b) => b === 0)) {
        if (++this.zeroBlocks === 2) {
          this.ended = true;
          return i;
        }
        continue;
      }
      this.zeroBlocks = 0;
      this.skip = Math.ceil(entrySize(this.header) / BLOCK) * BLOCK;
    }
    return chunk.length;
  }
}

/** The size field of a tar header: octal digits, or base-256 when its first byte has the top bit. */
export function entrySize(header: Buffer): number {
  const field = header.subarray(124, 136);
  if (field[0]! & 0x80) {
    let size = field[0]! & 0x7f;
    for (const b of field.subarray(1)) size = size * 256 + b;
    return size;
  }
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .trim();
  const size = parseInt(text || '0', 8);
  return Number.isFinite(size) ? size : 0;
}

/** The archive part of a whole tar held in memory. */
export function archivePart(tar: Buffer): Buffer {
  return tar.subarray(0, new TarBlocks().feed(tar));
}

/** Passes tar bytes up to the end of the end-of-archive marker, and drops what follows. */
export function untilTarEnd(): Transform {
  const blocks = new TarBlocks();
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const n = blocks.feed(chunk);
      done(null, n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}
