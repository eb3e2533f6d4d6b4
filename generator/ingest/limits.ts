// How much of an image file is held in memory at once: a small file is read whole, in one read
// (metadata tarballs, small root tarballs), and may expand only so far when it is unpacked there.
// No imports: the main thread's pool and the tree reader use these without loading decoders.

/** Files up to this size are read whole, in one read. */
export const WHOLE_FILE_LIMIT = 1024 * 1024;
/** Decompressed bytes a file read whole may expand to in memory; past it, it is read as a stream. */
export const IN_MEMORY_EXPANDED_LIMIT = 64 * 1024 * 1024;
/** LXD refuses a metadata.yaml over 1 MiB. */
export const METADATA_YAML_LIMIT = 1024 * 1024;

/**
 * The one bomb policy for every archive, wherever it is read (classify, hash, verify, mirror):
 * past BOMB_MIN_BYTES decompressed, an expansion over BOMB_RATIO times the compressed bytes
 * read so far is refused as a decompression bomb.
 */
export const BOMB_MIN_BYTES = 64 * 1024 * 1024;
export const BOMB_RATIO = 200;

/** The bomb policy's verdict: a message when `decompressed` bytes from `compressed` is a bomb. */
export function bombProblem(decompressed: number, compressed: number): string | undefined {
  if (decompressed <= BOMB_MIN_BYTES || decompressed <= compressed * BOMB_RATIO) return undefined;
  return `expands more than ${BOMB_RATIO}× (${decompressed} bytes from ${compressed}): refused as a decompression bomb`;
}

/** What to do about a refused bomb. */
export const BOMB_FIX = 'recompress the archive normally; real images expand far less';

/** The largest zstd window a client's `zstd -d` accepts without --memory (and so the most we allocate). */
export const ZSTD_WINDOW_LIMIT = 128 * 1024 * 1024;
