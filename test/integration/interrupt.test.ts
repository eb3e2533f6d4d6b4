// A build killed at any point (SIGKILL, SIGINT, SIGTERM), two builds at once, and a full disk:
// the previous output stays byte-identical and usable, and the next build cleans up.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/tmp.js';
import { hashTree } from '../support/tree-hash.js';
import { metadataTarball, put } from '../support/images.js';
import { writeFakeSquashfs } from '../support/fake-rootfs.js';
import { IN_CI } from '../support/require.js';
import { verifyTree } from '../../generator/index.js';

const BIN = path.resolve('bin/staticstreams.js');
const BIG = 600 * 1024 * 1024;

async function setup(t: Parameters<typeof tempDir>[0], outParent?: string) {
  const dir = await tempDir(t);
  const images = path.join(dir, 'images');
  await mkdir(path.join(images, 'good'), { recursive: true });
  await copyFile(path.resolve('images/unified/busybox-unified.tar.gz'), path.join(images, 'good/busybox.tar.gz'));
  const out = path.join(outParent ?? dir, 'dist');
  const first = spawnSync(process.execPath, [BIN, 'build', '-q', '--no-site', '--images', images, '--out', out], { encoding: 'utf8' });
  assert.equal(first.status, 0, first.stderr);
  return { dir, images, out };
}

async function addBigImage(images: string, size = BIG): Promise<void> {
  await put(path.join(images, 'big/lxd.tar.xz'), await metadataTarball({ os: 'big', release: '1' }));
  await writeFakeSquashfs(path.join(images, 'big/rootfs.squashfs'), size);
}

// The cache and the spare (the replaced tree, reused by the next build) stay on purpose.
const leftovers = async (parent: string) => (await readdir(parent)).filter((n) => n.startsWith('.dist') && n !== '.dist.cache.json' && n !== '.dist.spare');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startBuild(images: string, out: string) {
  return spawn(process.execPath, [BIN, 'build', '-q', '--no-site', '--images', images, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
}

describe('interrupted and concurrent builds', () => {
  for (const [signal, delays] of [
    ['SIGKILL', [20, 150, 400, 900]],
    ['SIGINT', [150, 500]],
    ['SIGTERM', [300]],
  ] as const) {
    it(`a build killed with ${signal} leaves the previous output as it was`, async (t) => {
      const { images, out, dir } = await setup(t);
      const before = await hashTree(out);
      await addBigImage(images);
      for (const delay of delays) {
        const child = startBuild(images, out);
        await sleep(delay);
        child.kill(signal);
        const [code, sig] = (await new Promise((r) => child.once('exit', (c, s) => r([c, s])))) as [number | null, string | null];
        if (signal !== 'SIGKILL' && sig === null && code !== 0) {
          assert.equal(code, signal === 'SIGINT' ? 130 : 143, 'exit code after a signal');
          assert.deepEqual(await leftovers(dir), [], 'cleaned up on the way out');
        }
        if (code === 0) break; // finished before the signal: nothing left to test at this delay
        assert.equal(await hashTree(out), before, `output unchanged after ${signal} at ${delay} ms`);
        assert.equal((await verifyTree(out)).problems.filter((p) => p.severity === 'error').length, 0);
      }
      // The next build cleans up whatever a killed one left and publishes.
      const next = spawnSync(process.execPath, [BIN, 'build', '-q', '--no-site', '--images', images, '--out', out], { encoding: 'utf8' });
      assert.equal(next.status, 0, next.stderr);
      assert.deepEqual(await leftovers(dir), []);
      assert.ok(existsSync(path.join(out, 'images/big')));
    });
  }

  it('a second build into the same output is refused while the first runs', async (t) => {
    const { images, out, dir } = await setup(t);
    await addBigImage(images, 1500 * 1024 * 1024);
    const first = startBuild(images, out);
    const lock = path.join(dir, '.dist.lock');
    for (let i = 0; i < 100 && !existsSync(lock); i++) await sleep(20);
    const second = spawnSync(process.execPath, [BIN, 'build', '--no-site', '--images', images, '--out', out], { encoding: 'utf8' });
    const code = await new Promise((r) => first.once('exit', r));
    assert.equal(code, 0, 'the first build finishes');
    assert.equal(second.status, 1);
    assert.match(second.stderr, /another staticstreams build \(pid \d+\) is writing .*dist right now/);
    assert.match(second.stderr, /fix: wait for it to finish/);
    assert.ok(existsSync(path.join(out, 'images/big')));
    assert.equal(existsSync(lock), false, 'the lock is released');
  });

  const canMount = process.getuid?.() === 0;
  it('a full disk fails the build cleanly', { skip: !canMount && !IN_CI ? 'needs root to mount a small tmpfs' : false }, async (t) => {
    const dir = await tempDir(t);
    const small = path.join(dir, 'small');
    await mkdir(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', small]);
    try {
      const { images, out } = await setup(t, small);
      // A changed build whose files are copies (another filesystem) keeps no spare: it would hold
      // a second copy of every image file.
      await copyFile(path.resolve('images/unified/busybox-unified-arm64.tar.gz'), path.join(images, 'good/arm64.tar.gz'));
      const changed = spawnSync(process.execPath, [BIN, 'build', '-q', '--no-site', '--images', images, '--out', out], { encoding: 'utf8' });
      assert.equal(changed.status, 0, changed.stderr);
      assert.equal(existsSync(path.join(small, '.dist.spare')), false);
      const before = await hashTree(out);
      await addBigImage(images, 8 * 1024 * 1024); // on another filesystem: copied, not linked
      const r = spawnSync(process.execPath, [BIN, 'build', '--no-site', '--images', images, '--out', out], { encoding: 'utf8' });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /ENOSPC.*\(the disk is full\)/);
      assert.match(r.stderr, /nothing was published/);
      assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/);
      assert.equal(await hashTree(out), before);
      assert.deepEqual(await leftovers(small), []);
    } finally {
      execFileSync('umount', [small]);
      await rm(small, { recursive: true, force: true });
    }
  });
});
