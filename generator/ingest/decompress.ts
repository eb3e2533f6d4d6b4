// Streaming decompressors for every compression LXD accepts, chosen from the sniffed magic bytes.
// Each returns a Duplex: compressed bytes in, decompressed bytes out.

import { Duplex, PassThrough, Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import xzDecompress from 'xz-decompress';
import { bzip2Stream } from './bunzip2.js';
import { fzstdStream } from './fzstd-stream.js';
import type { Compression } from './detect.js';
import { IN_MEMORY_EXPANDED_LIMIT, ZSTD_WINDOW_LIMIT } from './limits.js';

export class UnsupportedCompression extends Error {}

/**
 * Node's own zstd decoder (libzstd) verifies each frame's content checksum, as `zstd -d` does
 * when a client unpacks the image; fzstd skips it (a file cut short is caught either way). Node's
 * decoder is used only where it reads a file as `zstd -d` does, which a two-frame sample and the
 * same sample cut short tell at start-up: Node 22's (22.15 and later) stops after the first frame
 * and takes a file cut short for a whole one (measured on 22.23), Node 24's does neither.
 */
const nativeZstd = zlib as Partial<{
  createZstdDecompress(): Transform;
  zstdDecompressSync(bytes: Buffer, options?: { maxOutputLength: number }): Buffer;
}>;

/** "hello " and "world", two zstd frames with content checksums. */
const TWO_FRAMES = Buffer.from('28b52ffd045831000068656c6c6f20d23be1a928b52ffd0458290000776f726c64ef51ee66', 'hex');

function nativeZstdReadsLikeZstd(): boolean {
  if (typeof nativeZstd.createZstdDecompress !== 'function' || typeof nativeZstd.zstdDecompressSync !== 'function') return false;
  try {
    if (nativeZstd.zstdDecompressSync(TWO_FRAMES).toString() !== 'hello world') return false;
  } catch {
    return false;
  }
  try {
    nativeZstd.zstdDecompressSync(TWO_FRAMES.subarray(0, TWO_FRAMES.length - 6));
    return false; // a frame cut short went unnoticed
  } catch {
    return true;
  }
}

/** True when zstd content checksums are verified (Node's own decoder is there and reads as zstd -d does). */
export const zstdChecksumsVerified = nativeZstdReadsLikeZstd();

/** Node's zstd decoder, its window refusal worded as fzstd-stream.ts words it. */
function nativeZstdStream(): Transform {
  const stream = nativeZstd.createZstdDecompress!();
  stream.prependListener('error', (e: Error) => {
    if (/too much memory/i.test(e.message)) e.message = `a zstd frame asks for a window over the ${ZSTD_WINDOW_LIMIT} bytes zstd -d accepts (${e.message})`;
  });
  return stream;
}

/** A zlib one-shot decoder's output, refusing more than `limit` bytes (TooLargeInMemory). */
function decodeSync(decode: (bytes: Buffer, options: { maxOutputLength: number }) => Buffer, bytes: Buffer, limit: number): Buffer {
  try {
    return decode(bytes, { maxOutputLength: limit });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new TooLargeInMemory();
    throw e;
  }
}

/**
 * xz-decompress allows one decoder per thread (a module-wide mutex that a cancelled stream can
 * leave locked), so our xz streams take turns: each waits for the previous one to finish or be
 * destroyed, and a destroyed one cancels its decoder before handing over.
 */
let xzTurn: Promise<void> = Promise.resolve();

/** Runs `work` in the xz turn (see above): it must finish or cancel its decoder before it settles. */
function inXzTurn<T>(work: () => Promise<T>): Promise<T> {
  const turn = xzTurn;
  const mine = turn.then(work);
  xzTurn = mine.then(
    () => {},
    () => {},
  );
  return mine;
}

/** Decoded bytes between two turns of the event loop. */
const XZ_TURN_BYTES = 4 * 1024 * 1024;

function xzStream(): Duplex {
  const input = new PassThrough();
  const output = new PassThrough();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const turn = xzTurn;
  xzTurn = turn.then(() => mine);
  let closed = false;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let wake: (() => void) | undefined;
  const stop = () => {
    if (closed) return;
    closed = true;
    wake?.();
    void reader?.cancel().catch(() => {});
  };
  output.on('close', stop);
  void turn.then(async () => {
    try {
      if (closed) return;
      const web = new xzDecompress.XzReadableStream(Readable.toWeb(input) as ReadableStream<Uint8Array>);
      reader = web.getReader();
      let sinceTurn = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done || closed) break;
        // The web stream resolves in microtasks only: give the event loop a turn now and then, or
        // no I/O (and no refusal of a bomb) happens until the whole input is decoded.
        if ((sinceTurn += value.byteLength) >= XZ_TURN_BYTES) {
          sinceTurn = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (closed) break;
        }
        if (!output.write(value) && !closed && !output.destroyed) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            output.once('drain', resolve);
          });
          wake = undefined;
        }
      }
      if (!closed) output.end();
    } catch (e) {
      output.destroy(e as Error);
    } finally {
      input.destroy();
      release();
    }
  });
  const duplex = Duplex.from({ writable: input, readable: output });
  duplex.on('close', stop);
  return duplex;
}

/** Thrown by decompressWhole when the bytes expand past its limit. */
export class TooLargeInMemory extends Error {}

/** Collects `chunks` into one buffer, refusing more than `limit` bytes. */
async function collect(chunks: AsyncIterable<Uint8Array>, limit: number, stop: () => void): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    length += chunk.byteLength;
    if (length > limit) {
      stop();
      throw new TooLargeInMemory();
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts, length);
}

/**
 * Decompresses a whole small file held in memory, without the stream plumbing a file read needs
 * (most of the cost for a tiny metadata tarball). Throws TooLargeInMemory past `limit` bytes
 * (read the file as a stream then), or the decoder's error for a cut-short or corrupt stream.
 */
export async function decompressWhole(bytes: Buffer, compression: Compression, limit = IN_MEMORY_EXPANDED_LIMIT): Promise<Buffer> {
  switch (compression) {
    case 'none':
      return bytes;
    case 'gzip':
      return decodeSync(zlib.gunzipSync, bytes, limit);
    case 'xz':
      return inXzTurn(async () => {
        // The decoder only reads from its source's reader: one web stream less per file.
        let given = false;
        const source = {
          getReader: () => ({
            read: async () => (given ? { done: true as const, value: undefined } : ((given = true), { done: false as const, value: bytes })),
            cancel: async () => {},
            releaseLock: () => {},
          }),
        } as unknown as ReadableStream<Uint8Array>;
        const web = new xzDecompress.XzReadableStream(source);
        const reader = web.getReader();
        const chunks = {
          async *[Symbol.asyncIterator]() {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) return;
              yield value;
            }
          },
        };
        try {
          return await collect(chunks, limit, () => {});
        } finally {
          await reader.cancel().catch(() => {});
        }
      });
    case 'zstd':
      if (zstdChecksumsVerified) return decodeSync(nativeZstd.zstdDecompressSync!, bytes, limit);
    // falls through: fzstd as a stream
    default: {
      const stream = decompressor(compression);
      stream.end(bytes);
      return collect(stream, limit, () => stream.destroy());
    }
  }
}

/** A stream that decompresses `compression`; `none` passes bytes through. */
export function decompressor(compression: Compression): Duplex {
  switch (compression) {
    case 'none':
      return new PassThrough();
    case 'gzip':
      return zlib.createGunzip();
    case 'bzip2':
      return bzip2Stream();
    case 'xz':
      return xzStream();
    case 'zstd':
      return zstdChecksumsVerified ? nativeZstdStream() : fzstdStream();
    case 'lzma':
    case 'lz4':
      throw new UnsupportedCompression(`${compression} cannot be read as a stream here`);
  }
}
