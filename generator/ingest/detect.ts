// Detects what a file is from its first bytes (never from its name): a compression
// wrapper, a plain tar, a squashfs or a qcow2 disk.

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'lzma' | 'zstd' | 'lz4';

/**
 * Every compression we recognise: its magic bytes and a tarball's extension. In sniffing order
 * (lzma's weak magic last). Adding a Compression is a compile error until it has its row here
 * and its decoder in decompress.ts.
 */
export const COMPRESSIONS: Record<Exclude<Compression, 'none'>, { magic: readonly number[]; tar: string }> = {
  gzip: { magic: [0x1f, 0x8b], tar: 'tar.gz' },
  xz: { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], tar: 'tar.xz' },
  zstd: { magic: [0x28, 0xb5, 0x2f, 0xfd], tar: 'tar.zst' },
  bzip2: { magic: [0x42, 0x5a, 0x68], tar: 'tar.bz2' }, // "BZh"
  lz4: { magic: [0x04, 0x22, 0x4d, 0x18], tar: 'tar.lz4' },
  lzma: { magic: [0x5d, 0x00, 0x00], tar: 'tar.lzma' },
};

export type Sniffed =
  | { kind: 'squashfs' }
  | { kind: 'qcow2' }
  | { kind: 'tar'; compression: 'none' }
  /** A compressed stream; whether it holds a tar is only known after decompressing. */
  | { kind: 'compressed'; compression: Exclude<Compression, 'none'> }
  | { kind: 'unknown' };

/** How many leading bytes `sniff` needs (the tar magic sits at offset 257). */
export const SNIFF_BYTES = 512;

function startsWith(head: Uint8Array, magic: readonly number[], offset = 0): boolean {
  if (head.length < offset + magic.length) return false;
  return magic.every((b, i) => head[offset + i] === b);
}

export function sniff(head: Uint8Array): Sniffed {
  if (startsWith(head, [0x68, 0x73, 0x71, 0x73])) return { kind: 'squashfs' }; // "hsqs"
  if (startsWith(head, [0x51, 0x46, 0x49, 0xfb])) return { kind: 'qcow2' }; // "QFI\xfb"
  for (const [compression, { magic }] of Object.entries(COMPRESSIONS) as [Exclude<Compression, 'none'>, { magic: readonly number[] }][])
    if (startsWith(head, magic)) return { kind: 'compressed', compression };
  if (startsWith(head, [0x75, 0x73, 0x74, 0x61, 0x72], 257)) return { kind: 'tar', compression: 'none' }; // "ustar"
  return { kind: 'unknown' };
}

/** The file extension conventionally used for a tarball with this compression. */
export function tarExtension(compression: Compression): string {
  return compression === 'none' ? 'tar' : COMPRESSIONS[compression].tar;
}
