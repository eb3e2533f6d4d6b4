// How much of an image file is held in memory at once: a small file is read whole, in one read
// (metadata tarballs, small root tarballs), and may expand only so far when it is unpacked there.
// No imports: the main thread's pool and the tree reader use these without loading decoders.

/** Files up to this size are read whole, in one read. */
export const WHOLE_FILE_LIMIT = 1024 * 1024;
/** Decompressed bytes a file read whole may expand to in memory; past it, it is read as a stream. */
export const IN_MEMORY_EXPANDED_LIMIT = 64 * 1024 * 1024;
