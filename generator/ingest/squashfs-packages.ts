// The package database of a squashfs root filesystem, read with squashfs-tools-ng's rdsquashfs
// (no root, no mount): each database path is looked up (`-s`: a regular file within the limit,
// never a link, which could lead anywhere), then only that file is read (`-c`) — a few small
// reads of the image's tables and of the file, not of the whole filesystem. Bounded in bytes
// and time; without rdsquashfs the image has no manifest and the build says why.

import { spawn } from 'node:child_process';
import { PACKAGE_DB_LIMIT, packageDbLookup, readPackages, type Captured } from './packages.js';
import type { PackageScan } from '../formats/manifest.js';

/** How long one rdsquashfs call may take. */
const DEADLINE_MS = 60_000;

/** Runs rdsquashfs; its output up to `limit` bytes, or undefined when it failed, ran over or is missing. */
function rdsquashfs(args: string[], limit: number): Promise<{ out: Buffer; code: number | null } | { missing: true } | undefined> {
  return new Promise((resolve) => {
    const child = spawn('rdsquashfs', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const parts: Buffer[] = [];
    let size = 0;
    let over = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        over = true;
        child.kill('SIGKILL');
      } else parts.push(c);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(e.code === 'ENOENT' ? { missing: true } : undefined);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(over ? undefined : { out: Buffer.concat(parts), code });
    });
  });
}

/** What the package database of the squashfs at `file` lists. */
export async function squashfsPackages(file: string): Promise<PackageScan> {
  const captured: Record<string, Captured> = {};
  for (const rel of packageDbLookup()) {
    const stat = await rdsquashfs(['-s', `/${rel}`, file], 64 * 1024);
    if (stat && 'missing' in stat) return { none: 'rdsquashfs (squashfs-tools-ng) is not installed: a squashfs image gets no manifest' };
    if (!stat || stat.code !== 0) continue; // not there
    const text = stat.out.toString('utf8');
    const type = /^Inode type: (.*)$/m.exec(text)?.[1]?.trim();
    const size = Number(/^File size: (\d+)$/m.exec(text)?.[1] ?? NaN);
    if (type !== 'file') captured[rel] = { skipped: `is a ${type ?? 'special'} entry, which is not followed` };
    else if (!(size <= PACKAGE_DB_LIMIT)) captured[rel] = { skipped: `is ${size} bytes, over the limit of ${PACKAGE_DB_LIMIT / 1024 / 1024} MiB` };
    else {
      const cat = await rdsquashfs(['-c', `/${rel}`, file], size);
      captured[rel] = cat && 'out' in cat && cat.code === 0 && cat.out.length === size ? cat.out : { skipped: 'cannot be read from the squashfs' };
    }
    break; // the first database found is the one read
  }
  return readPackages(captured, '');
}
