// The replaced tree kept as `.dist.spare` and reused by the next build: whatever it holds —
// files a user added to the output, versions since dropped, a planned file replaced by a copy,
// a symlink or a folder — the build writes exactly the tree it writes from an empty folder, and
// every image file is the input itself (a hard link), not what the spare held at that path.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, copyFile, lstat, mkdir, readdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { build } from '../../generator/index.js';
import { hashTree } from '../support/tree-hash.js';
import { tempDir } from '../support/tmp.js';

const NOW = new Date('2026-11-20T12:00:00Z');

/** The files under `dir` (relative), each with its inode; anything else but folders fails. */
async function inodes(dir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const f of (await readdir(dir, { recursive: true })) as string[]) {
    const st = await lstat(path.join(dir, f));
    if (st.isFile()) found.set(f, st.ino);
    else assert.ok(st.isDirectory(), `${f} is a file or a folder`);
  }
  return found;
}

/**
 * Builds the samples three times into one output — all images; without the unified ones; with
 * them again and without the exported one — tampering with the first tree (which the third
 * build gets as its spare) in between. `keepSpare: false` deletes the spare before the third.
 */
async function scenario(t: Parameters<typeof tempDir>[0], keepSpare: boolean) {
  const dir = await tempDir(t);
  const images = path.join(dir, 'images');
  await cp(path.resolve('images'), images, { recursive: true });
  const out = path.join(dir, 'dist');
  const spare = path.join(dir, '.dist.spare');
  const opts = { images, out, site: false, now: NOW };

  await build(opts);
  assert.equal(existsSync(spare), false, 'a first build replaces nothing, so it keeps no spare');
  // What the third build finds in its spare: a user's file and folder, a planned image file as
  // a copy (another inode), one as a symlink to its input, one as a folder.
  const [copied, linked, dirred] = [...(await inodes(path.join(out, 'images'))).keys()].filter((f) => f.includes('/default/')).sort();
  assert.ok(copied && linked && dirred, 'the samples have three split image files the third build publishes');
  await writeFile(path.join(out, 'robots.txt'), 'user file\n');
  await mkdir(path.join(out, 'images', 'user', 'deep'), { recursive: true });
  await mkdir(path.join(out, 'images', 'user', 'empty', 'folder'), { recursive: true });
  await writeFile(path.join(out, 'images', 'user', 'deep', 'note'), 'x');
  const copyOf = path.join(out, 'images', copied);
  await copyFile(copyOf, `${copyOf}.tmp`);
  await rename(`${copyOf}.tmp`, copyOf);
  const symlinked = path.join(out, 'images', linked);
  const target = path.join(out, 'images', `${linked}.target`);
  await rename(symlinked, target);
  await symlink(target, symlinked);
  await unlink(path.join(out, 'images', dirred));
  await mkdir(path.join(out, 'images', dirred, 'inside'), { recursive: true });

  await rename(path.join(images, 'unified'), path.join(dir, 'unified'));
  await build(opts);
  assert.equal(existsSync(spare), true, 'the replaced tree is kept');
  assert.equal(existsSync(path.join(spare, 'robots.txt')), true, 'the spare is the tampered first tree');

  if (!keepSpare) await rm(spare, { recursive: true });
  await rename(path.join(dir, 'unified'), path.join(images, 'unified'));
  await rm(path.join(images, 'exported'), { recursive: true });
  const result = await build(opts);
  return { out, spare, images, result };
}

describe('the spare tree', () => {
  it('a build on top of the replaced tree writes what it writes into an empty folder, every image a link of its input', async (t) => {
    const reused = await scenario(t, true);
    const fresh = await scenario(t, false);
    assert.equal(await hashTree(reused.out), await hashTree(fresh.out), 'the same names, folders and bytes');
    assert.equal(existsSync(path.join(reused.out, 'robots.txt')), false);
    assert.equal(existsSync(path.join(reused.out, 'images', 'user')), false, 'a folder of removed files goes too');
    assert.deepEqual(reused.result.placed, fresh.result.placed, 'every file counted as linked either way');
    // Every image file of the tree is a regular file sharing its inode with an input file, or
    // with a file of the previous tree kept for its grace period (also a link of an input).
    const inputs = new Set((await inodes(reused.images)).values());
    const graced = reused.result.lifecycle.grace.map((g) => g.path.replace(/^images\//, ''));
    for (const [f, ino] of await inodes(path.join(reused.out, 'images')))
      if (!graced.includes(f)) assert.ok(inputs.has(ino), `${f} is a hard link of its input`);
    assert.ok(existsSync(reused.spare), 'the second tree became the spare');
    // The cache re-read only the files whose links changed, and its keys are right for all: the
    // next build hashes nothing, and writes nothing.
    const again = await build({ images: reused.images, out: reused.out, site: false, now: NOW });
    assert.deepEqual(again.cache.misses, 0);
    assert.deepEqual(again.placed, { linked: 0, copied: 0, bytesCopied: 0, downloaded: 0, bytesDownloaded: 0 }, 'nothing changed, nothing written');
  });
});
