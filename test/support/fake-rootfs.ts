// A large "squashfs" for timing-sensitive tests: a valid superblock header over zero bytes.
// Enough for staticstreams' checks (not for a client to mount), written without holding it in memory.

import { open } from 'node:fs/promises';

export async function writeFakeSquashfs(file: string, size: number): Promise<void> {
  const handle = await open(file, 'w');
  try {
    const head = Buffer.alloc(96);
    head.write('hsqs', 0, 'latin1');
    head.writeUInt16LE(4, 28);
    head.writeBigUInt64LE(BigInt(size), 40);
    await handle.write(head, 0, head.length, 0);
    await handle.truncate(size);
  } finally {
    await handle.close();
  }
}
