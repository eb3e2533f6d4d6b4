// zstd as `zstd -d` reads it, on every Node, with bounded memory: fzstd decodes, fed one block at
// a time. fzstd allocates the window a frame header asks for (up to 2 GiB) and decodes every
// block of a pushed chunk at once, so a 99 KB file reached 6.4 GB. Here the frame headers and
// block headers (RFC 8878 §3.1) are read to choose where to cut: a window over what `zstd -d`
// accepts without --memory is refused before fzstd sees it, and each push holds one block (at
// most 128 KiB decoded), handed on before the next is decoded. fzstd skips content checksums:
// each frame's decoded bytes are hashed here (XXH64, whose low 32 bits the frame ends with) and
// a mismatch refused, as `zstd -d` refuses it. (Node's own decoder is not used: Node 22's stops
// after the first frame and takes a cut frame for a whole one; Node 24's sync decoder spun
// forever, now and then, on a cut frame in a worker thread.)

import { Duplex } from 'node:stream';
import { Decompress } from 'fzstd';
import { createXXHash64, type IHasher } from 'hash-wasm';
import { ZSTD_WINDOW_LIMIT } from './limits.js';

const FRAME_MAGIC = 0xfd2fb528;
const BLOCK_MAX = 128 * 1024;

class ZstdError extends Error {}

/** The window a frame header (at `at`, after the magic) declares, and the header's length. */
function frameHeader(b: Buffer, at: number): { length: number; window: number; checksum: boolean } | undefined {
  if (b.length < at + 1) return undefined;
  const fhd = b[at]!;
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  const checksum = ((fhd >> 2) & 1) === 1;
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag]!;
  const length = 1 + (single ? 0 : 1) + dictBytes + fcsBytes;
  if (b.length < at + length) return undefined;
  let window: number;
  if (single) {
    const p = at + 1 + dictBytes;
    window =
      fcsBytes === 1
        ? b[p]!
        : fcsBytes === 2
          ? b.readUInt16LE(p) + 256
          : fcsBytes === 4
            ? b.readUInt32LE(p)
            : b.readUInt32LE(p) + b.readUInt32LE(p + 4) * 2 ** 32;
  } else {
    const wd = b[at + 1]!;
    const base = 2 ** (10 + (wd >> 3));
    window = base + (base / 8) * (wd & 7);
  }
  return { length, window, checksum };
}

async function* unzstd(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const hasher: IHasher = await createXXHash64();
  let out: Buffer[] = [];
  const fresh = () => new Decompress((data) => data.byteLength && out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
  let decoder = fresh();
  let buf = Buffer.alloc(0);
  /** Where parsing is in `buf`; bytes before `sent` went to the decoder. */
  let at = 0;
  let sent = 0;
  let state: 'magic' | 'block' | 'checksum' = 'magic';
  let checksum = false;
  let skip = 0;
  const push = (final: boolean) => {
    decoder.push(buf.subarray(sent, at), final);
    sent = at;
    const got = out;
    out = [];
    if (checksum) for (const chunk of got) hasher.update(chunk);
    return got;
  };
  const parse = function* (): Generator<Buffer, void> {
    for (;;) {
      if (skip) {
        const n = Math.min(skip, buf.length - at);
        at += n;
        sent = at;
        skip -= n;
        if (skip) return;
      }
      if (state === 'magic') {
        if (buf.length < at + 4) return;
        const magic = buf.readUInt32LE(at);
        if ((magic & 0xfffffff0) === 0x184d2a50) {
          if (buf.length < at + 8) return;
          skip = 8 + buf.readUInt32LE(at + 4); // a skippable frame: not for the decoder
          continue;
        }
        if (magic !== FRAME_MAGIC) throw new ZstdError('the data is not a zstd frame');
        const header = frameHeader(buf, at + 4);
        if (!header) return;
        if (header.window > ZSTD_WINDOW_LIMIT)
          throw new ZstdError(`a zstd frame asks for a ${header.window}-byte window, more than the ${ZSTD_WINDOW_LIMIT} bytes zstd -d accepts`);
        // Each frame gets a decoder (and a checksum) of its own (the one before was told its frame ended).
        decoder = fresh();
        checksum = header.checksum;
        if (checksum) hasher.init();
        at += 4 + header.length;
        state = 'block';
      } else if (state === 'block') {
        if (buf.length < at + 3) return;
        const h = buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16);
        const type = (h >> 1) & 3;
        const size = h >>> 3;
        if (type === 3) throw new ZstdError('a zstd block has the reserved type');
        if (size > BLOCK_MAX) throw new ZstdError(`a zstd block of ${size} bytes, more than ${BLOCK_MAX}`);
        const end = at + 3 + (type === 1 ? 1 : size);
        if (buf.length < end) return;
        at = end;
        const last = (h & 1) === 1;
        if (last) state = checksum ? 'checksum' : 'magic';
        if (state !== 'checksum') yield* push(last);
      } else {
        if (buf.length < at + 4) return;
        const expected = buf.readUInt32LE(at);
        at += 4;
        state = 'magic';
        const last = push(true);
        // The low 32 bits of the frame's XXH64 (hex: big-endian, so its last 8 digits).
        if (parseInt(hasher.digest('hex').slice(-8), 16) !== expected) throw new ZstdError('the zstd content checksum does not match the data (corrupt)');
        yield* last;
      }
    }
  };
  for await (const chunk of source) {
    // Drop what the decoder has had, keep the rest (at most one block and a header).
    buf = Buffer.concat([buf.subarray(sent), chunk]);
    at -= sent;
    sent = 0;
    yield* parse();
  }
  if (state !== 'magic' || skip || at < buf.length) throw new ZstdError('the zstd data ends in the middle of a frame');
}

/** A Duplex that decompresses zstd with fzstd, one block at a time. */
export function fzstdStream(): Duplex {
  return Duplex.from(unzstd);
}
