// Streaming decompressors for every compression LXD accepts, chosen from the sniffed magic bytes.
// Each returns a Duplex: compressed bytes in, decompressed bytes out.

import { Duplex, PassThrough, Readable } from 'node:stream';
import zlib from 'node:zlib';
import xzDecompress from 'xz-decompress';
import { bzip2Stream } from './bunzip2.js';
import { zstdStream } from './fzstd-stream.js';
import type { Compression } from './detect.js';
import { IN_MEMORY_EXPANDED_LIMIT } from './limits.js';

export class UnsupportedCompression extends Error {}

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
    default: {
      const stream = decompressor(compression);
      stream.end(bytes);
      return collect(stream, limit, () => stream.destroy());
    }
  }
}

const unstreamable = (compression: Compression) => () => {
  throw new UnsupportedCompression(`${compression} cannot be read as a stream here`);
};

/** Each compression's stream decoder (a new Compression must get one: the compiler asks). */
const DECODERS: Record<Compression, () => Duplex> = {
  none: () => new PassThrough(),
  gzip: () => zlib.createGunzip(),
  bzip2: () => bzip2Stream(),
  xz: () => xzStream(),
  zstd: () => zstdStream(),
  lzma: unstreamable('lzma'),
  lz4: unstreamable('lz4'),
};

/** A stream that decompresses `compression`; `none` passes bytes through. */
export function decompressor(compression: Compression): Duplex {
  return DECODERS[compression]();
}
