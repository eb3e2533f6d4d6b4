// A bzip2 decoder whose memory stays bounded: unbzip2-stream's own block decoder (lib/bzip2.js),
// driven one block at a time with back-pressure. The package's stream wrapper decodes every block
// it has input for in one go and queues all of it, so a few hundred bytes expanding to gigabytes
// were held in memory, and kept decoding after the reader had refused them. Here one block (at
// most ~46 MiB, bzip2's limit) is decoded, handed on, and the next only once it was taken; a
// destroyed stream decodes nothing more.

import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';

interface Bzip2Lib {
  header(bits: BitReader): number;
  decompress(bits: BitReader, out: (byte: number) => void, buf: Int32Array, size: number, crc: number | null): number | null;
}
type BitReader = ((n: number | null) => number) & { bytesRead: number };

const require = createRequire(import.meta.url);
const bz2 = require('unbzip2-stream/lib/bzip2.js') as Bzip2Lib;
const bitIterator = require('unbzip2-stream/lib/bit_iterator.js') as (next: () => Uint8Array | undefined) => BitReader;

/** Decoded bytes are handed on in pieces of this size. */
const PIECE = 1 << 20;

async function* bunzip(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let has = 0;
  let bits: BitReader | undefined;
  let blockSize = 0;
  let crc: number | null = null;
  let buf: Int32Array | undefined;

  /** Decodes the next header or block; returns its bytes. */
  const step = (): Buffer[] => {
    const next = () => {
      const b = queue.shift();
      if (!b) throw new Error('the bzip2 data ends in the middle of a block');
      return b;
    };
    bits ??= bitIterator(next);
    if (!blockSize) {
      blockSize = bz2.header(bits);
      crc = 0;
      buf = new Int32Array(100_000 * blockSize);
      return [];
    }
    const pieces: Buffer[] = [];
    let piece = Buffer.allocUnsafe(PIECE);
    let n = 0;
    crc = bz2.decompress(
      bits,
      (byte) => {
        if (n === PIECE) {
          pieces.push(piece);
          piece = Buffer.allocUnsafe(PIECE);
          n = 0;
        }
        piece[n++] = byte;
      },
      buf!,
      buf!.length,
      crc,
    );
    if (crc === null) blockSize = 0; // end of this bzip2 stream; another may follow
    if (n) pieces.push(piece.subarray(0, n));
    return pieces;
  };

  // As unbzip2-stream does: decode once enough input is buffered for a whole block.
  const enough = () => has - (bits?.bytesRead ?? 0) + 1 >= (blockSize ? 25_000 + 100_000 * blockSize : 4);
  for await (const chunk of source) {
    if (!chunk.length) continue;
    queue.push(chunk);
    has += chunk.length;
    while (enough()) yield* step();
  }
  while (bits ? has > bits.bytesRead : has > 0) yield* step();
  if (crc !== null) throw new Error('the bzip2 data ends before its end-of-stream marker');
}

/** A Duplex that decompresses bzip2 (one or more concatenated streams) with bounded memory. */
export function bzip2Stream(): Duplex {
  return Duplex.from(bunzip);
}
