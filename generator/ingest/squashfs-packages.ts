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

/** Runs `command` with `args`; its output up to `limit` bytes and its exit code, or undefined when it failed to run or ran over. */
function run(command: string, args: string[], limit: number): Promise<{ out: Buffer; code: number | null } | undefined> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
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
    child.on('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(over ? undefined : { out: Buffer.concat(parts), code });
    });
  });
}

/**
 * Looks the database paths up in one process (a shell running rdsquashfs -s on each in turn, until
 * one is there): the first found, with what rdsquashfs says of it; 127 when rdsquashfs is missing.
 */
const LOOKUP =
  'command -v rdsquashfs >/dev/null || exit 127; f=$1; shift; for p; do if out=$(rdsquashfs -s "/$p" "$f" 2>/dev/null); then printf \'%s\\n%s\\n\' "$p" "$out"; exit 0; fi; done; exit 3';

/** What the package database of the squashfs at `file` lists. */
export async function squashfsPackages(file: string): Promise<PackageScan> {
  const found = await run('sh', ['-c', LOOKUP, 'sh', file, ...packageDbLookup()], 64 * 1024);
  if (found?.code === 127) return { none: 'rdsquashfs (squashfs-tools-ng) is not installed: a squashfs image gets no manifest' };
  if (!found || found.code !== 0) return readPackages({}, '');
  const text = found.out.toString('utf8');
  const rel = text.slice(0, text.indexOf('\n'));
  const type = /^Inode type: (.*)$/m.exec(text)?.[1]?.trim();
  const size = Number(/^File size: (\d+)$/m.exec(text)?.[1] ?? NaN);
  let captured: Captured;
  if (type !== 'file') captured = { skipped: `is a ${type ?? 'special'} entry, which is not followed` };
  else if (!(size <= PACKAGE_DB_LIMIT)) captured = { skipped: `is ${size} bytes, over the limit of ${PACKAGE_DB_LIMIT / 1024 / 1024} MiB` };
  else {
    const cat = await run('rdsquashfs', ['-c', `/${rel}`, file], size);
    captured = cat && cat.code === 0 && cat.out.length === size ? cat.out : { skipped: 'cannot be read from the squashfs' };
  }
  return readPackages({ [rel]: captured }, '');
}
