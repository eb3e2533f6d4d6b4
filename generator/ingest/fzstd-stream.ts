// zstd as `zstd -d` reads it, on every Node, with bounded memory and every frame checked. The
// frame headers and block headers (RFC 8878 §3.1) are read here to split the stream into its
// frames (skippable ones left out, as pzstd writes them) and to refuse, before any decoder sees
// it, a frame asking for a window over what `zstd -d` accepts without --memory; a stream that
// ends inside a frame is refused here too. Each frame goes to a decoder of its own: Node's
// (zlib, 22.15 and later: native speed) where a self-test at start-up says it works — so that
// Node 22 stopping after a stream's first frame, or taking a cut frame for a whole one, cannot
// matter — else fzstd, pushed one block at a time (it decodes a push whole, and allocates what a
// header asks for). Content checksums are checked as `zstd -d` checks them: by libzstd in Node's
// decoder, here for fzstd (XXH64, whose low 32 bits end the frame).

import { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { Decompress } from 'fzstd';
import { createXXHash64, type IHasher } from 'hash-wasm';
import { ZSTD_WINDOW_LIMIT } from './limits.js';

const FRAME_MAGIC = 0xfd2fb528;
const BLOCK_MAX = 128 * 1024;

class ZstdError extends Error {}
const CHECKSUM_WRONG = 'the zstd content checksum does not match the data (corrupt)';

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

/**
 * Decodes the bytes of one frame: `feed` takes the frame's next bytes (whole blocks) and gives
 * what they decoded to; `end` the rest, once the frame's last block (and checksum) went in.
 */
interface FrameDecoder {
  /** Blocks given at a time: each decodes to at most 128 KiB, so this bounds what one feed makes. */
  readonly blocks: number;
  /** Whether the decoder checks each frame's content checksum itself (libzstd does, as `zstd -d`). */
  readonly verifies: boolean;
  feed(bytes: Buffer): Promise<Buffer[]>;
  end(): Promise<Buffer[]>;
  abort(): void;
}

/** Node's zstd in zlib (22.15 and later), typed here: the project's @types/node is the floor's older one. */
interface ZstdZlib {
  createZstdDecompress(o: { params: Record<number, number>; chunkSize?: number }): import('node:stream').Transform;
  zstdCompressSync(b: Buffer, o: { params: Record<number, number> }): Buffer;
  zstdDecompressSync(b: Buffer): Buffer;
  constants: { ZSTD_d_windowLogMax: number; ZSTD_c_checksumFlag: number };
}
const zstd = zlib as unknown as ZstdZlib;

/** fzstd, the fallback on every Node: pushed one block at a time (it decodes a push whole). */
function fzstdFrame(): FrameDecoder {
  let out: Buffer[] = [];
  const decoder = new Decompress((data) => data.byteLength && out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
  const take = () => {
    const got = out;
    out = [];
    return got;
  };
  return {
    blocks: 1,
    verifies: false,
    feed: async (bytes) => (decoder.push(bytes), take()),
    end: async () => (decoder.push(new Uint8Array(0), true), take()),
    abort() {},
  };
}

/**
 * Node's own decoder (zlib, Node 22.15 and later), given one whole frame at a time — so that
 * Node 22 stopping after a stream's first frame, and taking a cut frame for a whole one, cannot
 * matter: the frames are split here, a cut one refused here. Its window is held to what `zstd -d`
 * accepts without --memory.
 */
function nativeFrame(): FrameDecoder {
  // (output in 1 MiB pieces: each is one round trip to the thread that decodes)
  const d = zstd.createZstdDecompress({ chunkSize: 1 << 20, params: { [zstd.constants.ZSTD_d_windowLogMax]: Math.log2(ZSTD_WINDOW_LIMIT) } });
  let out: Buffer[] = [];
  let failed: Error | undefined;
  d.on('data', (c: Buffer) => out.push(c));
  d.on('error', (e: Error) => (failed = e));
  const ended = new Promise<void>((resolve) => d.once('end', resolve).once('error', () => resolve()));
  const take = () => {
    if (failed)
      throw new ZstdError(
        (failed as NodeJS.ErrnoException).code === 'ZSTD_error_checksum_wrong' ? CHECKSUM_WRONG : `the zstd data does not decode (${failed.message})`,
      );
    const got = out;
    out = [];
    return got;
  };
  // One write in flight while the bytes before it are parsed: the decoder works on the thread pool
  // while this thread reads what it made last (two batches' output at most).
  let pending: Promise<void> = Promise.resolve();
  return {
    blocks: 32,
    verifies: true,
    async feed(bytes) {
      const previous = pending;
      // The write's callback comes once the decoder has handed on what these bytes decode to
      // (or its error: a corrupt frame, a checksum the decoder refuses; the callback may then never come).
      if (!failed)
        pending = new Promise<void>((resolve) => {
          const done = () => (d.off('error', done), resolve());
          d.once('error', done);
          d.write(bytes, done);
        });
      await previous;
      return take();
    },
    async end() {
      await pending;
      d.end();
      await ended;
      return take();
    },
    abort: () => d.destroy(),
  };
}

async function* unzstd(source: AsyncIterable<Buffer>, frame: () => FrameDecoder): AsyncGenerator<Buffer> {
  const hasher: IHasher = await createXXHash64();
  let decoder: FrameDecoder | undefined;
  let buf: Buffer = Buffer.alloc(0);
  /** Where parsing is in `buf`; bytes before `sent` went to the decoder. */
  let at = 0;
  let sent = 0;
  let state: 'magic' | 'block' | 'checksum' = 'magic';
  /** Whether the frame ends in a checksum, and whether it is checked here (else by its decoder). */
  let checksum = false;
  let hashHere = false;
  let skip = 0;
  /** Whole blocks parsed since the last push. */
  let blocks = 0;
  /** Hands the frame's parsed bytes to its decoder (and, with `final`, ends it); what they decoded. */
  const push = async (final: boolean) => {
    const bytes = buf.subarray(sent, at);
    sent = at;
    const got = [...(bytes.length ? await decoder!.feed(bytes) : []), ...(final ? await decoder!.end() : [])];
    if (hashHere) for (const chunk of got) hasher.update(chunk);
    return got;
  };
  const parse = async function* (): AsyncGenerator<Buffer, void> {
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
        // Each frame gets a decoder (and a checksum) of its own, from its first byte.
        decoder = frame();
        checksum = header.checksum;
        hashHere = checksum && !decoder.verifies;
        if (hashHere) hasher.init();
        sent = at;
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
        if (state !== 'checksum' && (last || ++blocks >= decoder!.blocks)) {
          blocks = 0;
          yield* await push(last);
        }
      } else {
        if (buf.length < at + 4) return;
        const expected = buf.readUInt32LE(at);
        at += 4;
        state = 'magic';
        const last = await push(true);
        // The low 32 bits of the frame's XXH64 (hex: big-endian, so its last 8 digits).
        if (hashHere && parseInt(hasher.digest('hex').slice(-8), 16) !== expected) throw new ZstdError(CHECKSUM_WRONG);
        yield* last;
      }
    }
  };
  try {
    for await (const chunk of source) {
      // Drop what the decoder has had, keep the rest (the blocks of one batch, and a header).
      buf = sent < buf.length ? Buffer.concat([buf.subarray(sent), chunk]) : chunk;
      at -= sent;
      sent = 0;
      yield* parse();
      // The whole blocks of this chunk go in before the next chunk is read.
      if ((state as typeof state | 'block') === 'block' && blocks) {
        blocks = 0;
        yield* await push(false);
      }
    }
    if (state !== 'magic' || skip || at < buf.length) throw new ZstdError('the zstd data ends in the middle of a frame');
  } finally {
    if (state !== 'magic') decoder?.abort();
  }
}

/** Whether Node's own zstd decoder is there (22.15 and later) and decodes what it is given here. */
let native: boolean | undefined;
export function nativeZstd(): boolean {
  if (native !== undefined) return native;
  try {
    const text = Buffer.from('staticstreams zstd self-test\n'.repeat(64));
    const frame = zstd.zstdCompressSync(text, { params: { [zstd.constants.ZSTD_c_checksumFlag]: 1 } });
    native = zstd.zstdDecompressSync(frame).equals(text) && process.env.STATICSTREAMS_ZSTD !== 'fzstd';
  } catch {
    native = false;
  }
  return native === true;
}

/** A Duplex that decompresses zstd: every frame by Node's own decoder where it works, else by fzstd (`backend` chooses, for tests). */
export function zstdStream(backend: 'native' | 'fzstd' = nativeZstd() ? 'native' : 'fzstd'): Duplex {
  const frame = backend === 'native' ? nativeFrame : fzstdFrame;
  return Duplex.from((source: AsyncIterable<Buffer>) => unzstd(source, frame));
}
