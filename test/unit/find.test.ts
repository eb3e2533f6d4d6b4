import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { compareRel, findFiles } from '../../generator/ingest/find.js';
import { tempDir } from '../support/tmp.js';

describe('findFiles', () => {
  it('lists files in depth-first name order, however many calls are in flight', async (t) => {
    const dir = await tempDir(t);
    const rels = ['a/b', 'a.txt', 'a/c/d', 'b', 'z/y/x', 'a/a'];
    for (let i = 0; i < 300; i++) rels.push(`many/${String(i).padStart(3, '0')}/f`);
    for (const rel of rels) {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), rel);
    }
    const { files, problems } = await findFiles(dir);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      files.map((f) => f.rel),
      [...rels].sort(compareRel),
    );
    assert.deepEqual(files.map((f) => f.rel).slice(0, 4), ['a/a', 'a/b', 'a/c/d', 'a.txt'], 'a folder’s contents come right after it');
  });

  it('reports a symlink back up the tree, and a folder reached twice, once each, always the same way', async (t) => {
    const dir = await tempDir(t);
    await mkdir(path.join(dir, 'loop'), { recursive: true });
    await symlink('..', path.join(dir, 'loop', 'up'));
    await mkdir(path.join(dir, 'real'), { recursive: true });
    await writeFile(path.join(dir, 'real', 'f'), 'x');
    await symlink('real', path.join(dir, 'second'));
    for (let i = 0; i < 5; i++) {
      const { files, problems } = await findFiles(dir);
      assert.deepEqual(
        problems.map((p) => p.format().split('\n')[0]),
        [
          'loop/up: is a symlink loop (it leads back to a folder above it)',
          'second: is the same folder as real (reached twice through symlinks): its images would be published twice',
        ],
      );
      assert.deepEqual(
        files.map((f) => f.rel),
        ['real/f'],
      );
    }
  });
});
