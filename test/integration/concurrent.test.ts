// Two builds at once from one folder, each with the catalogue site, into different outputs: both
// succeed, produce the same tree, and leave the current folder as it was (Astro's work files go
// next to each output, never into the current folder).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../support/tmp.js';
import { hashTree } from '../support/tree-hash.js';
import { runCli } from '../support/cli.js';

const run = (args: string[], cwd: string) => runCli(args, { cwd });

describe('two builds at once from one folder', () => {
  it('are independent and write nothing into the current folder', async (t) => {
    const dir = await tempDir(t);
    const repo = path.join(dir, 'repo');
    await cp(path.resolve('images'), path.join(repo, 'images'), { recursive: true });
    const before = await hashTree(repo);
    const [a, b] = await Promise.all([
      run(['build', '--out', path.join(dir, 'a'), '--base-url', 'https://images.example.org'], repo),
      run(['build', '--out', path.join(dir, 'b'), '--base-url', 'https://images.example.org'], repo),
    ]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    assert.equal(await hashTree(path.join(dir, 'a')), await hashTree(path.join(dir, 'b')), 'the same inputs give the same tree');
    assert.equal(await hashTree(repo), before, 'the current folder is unchanged');
  });
});
