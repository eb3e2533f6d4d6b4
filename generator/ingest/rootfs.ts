// Cheap sanity checks of squashfs and qcow2 headers, so that a truncated disk or filesystem is
// refused at build time instead of failing on the client after the download.

/** Bytes of header needed by the checks. */
export const ROOTFS_HEADER_BYTES = 512;

/**
 * Returns what is wrong with a squashfs whose first bytes are `head`, or undefined.
 * The superblock's bytes_used (offset 40, little-endian u64) is the filesystem's length.
 */
export function squashfsProblem(head: Uint8Array, fileSize: number): string | undefined {
  if (head.length < 96) return 'is too short to be a squashfs (no complete superblock)';
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const major = view.getUint16(28, true);
  if (major !== 4) return `is squashfs version ${major}; LXD needs version 4`;
  const bytesUsed = Number(view.getBigUint64(40, true));
  if (bytesUsed > fileSize) return `is truncated: its superblock says ${bytesUsed} bytes, the file has ${fileSize}`;
  return undefined;
}

/**
 * Returns what is wrong with a qcow2 disk whose first bytes are `head`, or undefined. Checks the
 * version and that the L1 and refcount tables the header points to lie inside the file.
 */
export function qcow2Problem(head: Uint8Array, fileSize: number): string | undefined {
  if (head.length < 72) return 'is too short to be a qcow2 disk (no complete header)';
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const version = view.getUint32(4, false);
  if (version !== 2 && version !== 3) return `is qcow2 version ${version}; expected 2 or 3`;
  const clusterBits = view.getUint32(20, false);
  if (clusterBits < 9 || clusterBits > 21) return 'has an invalid cluster size';
  const l1Size = view.getUint32(36, false);
  const l1Offset = Number(view.getBigUint64(40, false));
  const refcountOffset = Number(view.getBigUint64(48, false));
  if (l1Offset + l1Size * 8 > fileSize || refcountOffset + (1 << clusterBits) > fileSize) {
    return `is truncated: its tables end past the end of the file (${fileSize} bytes)`;
  }
  return undefined;
}
