// The fingerprint cache is never trusted for a changed file: same size and a restored mtime are
// still caught (ctime); deleted images disappear; adding an image hashes only that image.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, open, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { build, parseConfig, type BuildFailed } from '../../generator/index.js';
import { hashTree } from '../support/tree-hash.js';
import { metadataTarball, put, rootTarball } from '../support/images.js';
import { tempDir } from '../support/tmp.js';
// Internal: the fingerprint cache is what these tests exercise (its file, its memo).
import { FingerprintCache } from '../../generator/fingerprint/cache.js';

async function samples(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const images = path.join(dir, 'images');
  await cp(path.resolve('images'), images, { recursive: true });
  return { dir, images, out: path.join(dir, 'dist') };
}

const fingerprints = async (out: string) => {
  const c = JSON.parse(await readFile(path.join(out, 'catalog.json'), 'utf8'));
  return c.products.flatMap((p: { versions: { images: { fingerprint: string }[] }[] }) => p.versions.flatMap((v) => v.images.map((i) => i.fingerprint))).sort();
};

describe('fingerprint cache', () => {
  it('a no-change rebuild writes nothing; anything missing from the output, or any change, writes it all again', async (t) => {
    const { images, out } = await samples(t);
    await build({ images, out });
    const before = await stat(out);
    const tree = await hashTree(out);
    const phases: string[] = [];
    const reporter = { phase: (p: string) => phases.push(p), progress() {}, warn() {} };
    const again = await build({ images, out, reporter });
    assert.ok(
      phases.some((p) => p.startsWith('nothing changed')),
      phases.join(' | '),
    );
    assert.deepEqual(again.placed, { linked: 0, copied: 0, bytesCopied: 0, downloaded: 0, bytesDownloaded: 0 });
    assert.equal(again.bytesHashed, 0, 'what the cache knew is not reported as hashed');
    assert.equal((await stat(out)).ino, before.ino, 'the output folder was not replaced');
    assert.equal(await hashTree(out), tree);
    // An image file gone from the output: the full build puts it back.
    const file = path.join(out, JSON.parse(await readFile(path.join(out, 'catalog.json'), 'utf8')).products[0].versions[0].images[0].files[0].path);
    await rm(file);
    const restored = await build({ images, out });
    assert.ok(restored.placed.linked > 0);
    assert.equal(await hashTree(out), tree, 'the same tree again');
    // The site's home page is checked too (its other pages are not listed anywhere to check).
    await rm(path.join(out, 'index.html'));
    assert.ok((await build({ images, out })).sitePages > 0, 'the site is rendered again');
    // Another setting: written again.
    const retitled = await build({ images, out, config: parseConfig({ site: { title: 'Other title' } }) });
    assert.ok(retitled.sitePages > 0 && retitled.placed.linked > 0);
    assert.notEqual((await stat(out)).ino, before.ino);
    // --no-cache never takes the shortcut.
    phases.length = 0;
    await build({ images, out, cache: false, reporter, config: parseConfig({ site: { title: 'Other title' } }) });
    assert.ok(!phases.some((p) => p.startsWith('nothing changed')));
  });

  it('a no-change rebuild reads no image file; --no-cache re-hashes all', async (t) => {
    const { images, out } = await samples(t);
    const first = await build({ images, out, site: false });
    assert.equal(first.cache.hits, 0);
    const again = await build({ images, out, site: false });
    assert.equal(again.cache.misses, 0);
    assert.ok(again.cache.hits > 0);
    assert.deepEqual(await fingerprints(out), first.catalog.products.flatMap((p) => p.versions.flatMap((v) => v.images.map((i) => i.fingerprint))).sort());
    const forced = await build({ images, out, site: false, cache: false });
    assert.equal(forced.cache.hits, 0);
  });

  it('files of the previous tree are hashed once, then trusted only while unchanged', async (t) => {
    const { images, out } = await samples(t);
    await build({ images, out, site: false });
    const first = await build({ previous: out, out, site: false }); // a prune: previous files proven
    assert.ok(first.cache.misses > 0, 'first time: every previous file hashed');
    const again = await build({ previous: out, out, site: false });
    assert.equal(again.cache.misses, 0, 'unchanged since: nothing re-hashed');
    // Corrupt one published file in place, same size, mtime restored: refused, nothing replaced.
    const catalog = JSON.parse(await readFile(path.join(out, 'catalog.json'), 'utf8'));
    const file = path.join(out, catalog.products[0].versions[0].images[0].files[0].path);
    const before = await stat(file);
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await writeFile(file, bytes);
    execFileSync('touch', ['-m', '-d', `@${before.mtimeMs / 1000}`, file]);
    await assert.rejects(
      build({ previous: out, out, site: false }),
      /its sha256 is [0-9a-f]{64}, the previous tree lists [0-9a-f]{64}: the file was changed or is corrupt/,
    );
  });

  it('detects a file rewritten in place with the same size and its mtime restored', async (t) => {
    const { images, out } = await samples(t);
    await build({ images, out, site: false });
    const file = path.join(images, 'busybox/arm64/rootfs.squashfs');
    const before = await stat(file);
    const reference = path.join(path.dirname(out), 'timestamps');
    await writeFile(reference, '');
    execFileSync('touch', ['-r', file, reference]); // keeps the exact (nanosecond) times
    const bytes = await readFile(file);
    const handle = await open(file, 'r+');
    // same length, other bytes: flip one byte past the superblock
    const at = Math.floor(bytes.length / 2);
    await handle.write(Buffer.from([bytes[at]! ^ 0xff]), 0, 1, at);
    await handle.close();
    execFileSync('touch', ['-r', reference, file]);
    const after = await stat(file);
    assert.equal(after.size, before.size);
    assert.equal(after.mtimeMs, before.mtimeMs);
    const rebuilt = await build({ images, out, site: false });
    assert.ok(rebuilt.cache.misses > 0);
    const meta = await readFile(path.join(images, 'busybox/arm64/lxd.tar.xz'));
    const expected = createHash('sha256')
      .update(meta)
      .update(await readFile(file))
      .digest('hex');
    assert.ok((await fingerprints(out)).includes(expected), 'the new bytes are fingerprinted');
  });

  it('drops deleted images, and re-hashes only an added one', async (t) => {
    const { images, out } = await samples(t);
    await build({ images, out, site: false });
    await rm(path.join(images, 'exported'), { recursive: true });
    const smaller = await build({ images, out, site: false });
    assert.equal(smaller.images, 5);
    assert.ok(!smaller.catalog.products.some((p) => p.variant === 'minimal'));
    await put(path.join(images, 'new/lxd.tar.xz'), await metadataTarball({ os: 'added', release: '1' }));
    await put(path.join(images, 'new/rootfs.tar.gz'), await rootTarball('added', 'gzip'));
    const added = await build({ images, out, site: false });
    assert.equal(added.images, 6);
    assert.equal(added.cache.misses, 2, 'one rootfs sha256 and one combined fingerprint');
  });

  it('notices a file replaced by a symlink to other bytes, or by a folder, even with its old times', async (t) => {
    const { dir, images, out } = await samples(t);
    await build({ images, out, site: false });
    const rootfs = path.join(images, 'busybox/arm64/rootfs.squashfs');
    const original = await readFile(rootfs);
    // A symlink to a copy with one byte changed: another inode, so another key.
    const other = path.join(dir, 'other.squashfs');
    const changed = Buffer.from(original);
    changed[Math.floor(changed.length / 2)] = changed[Math.floor(changed.length / 2)]! ^ 0xff;
    await writeFile(other, changed);
    execFileSync('touch', ['-r', rootfs, other]);
    await rm(rootfs);
    await symlink(other, rootfs);
    const viaLink = await build({ images, out, site: false });
    assert.ok(viaLink.cache.misses > 0, 're-hashed');
    const meta = await readFile(path.join(images, 'busybox/arm64/lxd.tar.xz'));
    assert.ok((await fingerprints(out)).includes(createHash('sha256').update(meta).update(changed).digest('hex')), 'the new bytes are published');
    // A folder where the file was: the image is gone (its metadata tarball alone is reported).
    await rm(rootfs);
    await mkdir(rootfs);
    await assert.rejects(build({ images, out, site: false }), (e: BuildFailed) => {
      assert.match(e.problems.map((p) => p.format()).join('\n'), /busybox\/arm64\/lxd\.tar\.xz: is a metadata tarball with no rootfs file next to it/);
      return true;
    });
  });

  it('remembers the self-checked parts per version of the schemas, and keeps them through a build that checks nothing', async (t) => {
    const dir = await tempDir(t);
    const file = path.join(dir, '.dist.cache.json');
    const first = await FingerprintCache.load(file, true);
    first.provenParts('schemas-1', 'streams').add('digest-a');
    await first.save();
    const second = await FingerprintCache.load(file, true);
    assert.equal(second.provenParts('schemas-2', 'streams').has('digest-a'), false, 'other schemas: checked again');
    const third = await FingerprintCache.load(file, true);
    assert.equal(third.provenParts('schemas-1', 'catalog').has('digest-a'), false, 'another document');
    assert.equal(third.provenParts('schemas-1', 'streams').has('digest-a'), true);
    const idle = await FingerprintCache.load(file, true);
    await idle.save(); // a no-change build checks nothing
    assert.equal((await FingerprintCache.load(file, true)).provenParts('schemas-1', 'streams').has('digest-a'), true);
    assert.equal((await FingerprintCache.load(file, false)).provenParts('schemas-1', 'streams').has('digest-a'), false, '--no-cache trusts nothing');
  });
});
