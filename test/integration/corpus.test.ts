// Runs every corpus case through the real CLI: exit code 1, the file, the problem and a fix on
// stderr, no stack trace, the previous output byte-identical, no temporary folder left; then
// --keep-going publishes the good image and lists the bad one.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CASES, oddNames } from '../corpus/cases.js';
import { tempDir } from '../support/tmp.js';
import { hashTree } from '../support/tree-hash.js';
import { IN_CI, requirements } from '../support/require.js';

const BIN = path.resolve('bin/staticstreams.js');
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

function run(args: string[], cwd: string, unprivileged = false) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', ...(unprivileged ? { uid: NOBODY, gid: NOBODY } : {}) });
}

/** A work folder with images/ holding one good image, and a first good build in dist/. */
async function firstBuild(dir: string, unprivileged: boolean): Promise<void> {
  const images = path.join(dir, 'images');
  await mkdir(path.join(images, 'good'), { recursive: true });
  await copyFile(path.resolve('images/unified/busybox-unified.tar.gz'), path.join(images, 'good/busybox.tar.gz'));
  if (unprivileged) {
    for (const p of [dir, images, path.join(images, 'good')]) await chmod(p, 0o777);
    await chmod(path.join(images, 'good/busybox.tar.gz'), 0o644);
  }
  const first = run(['build', '-q', '--no-site'], dir, unprivileged);
  assert.equal(first.status, 0, first.stderr);
}

/**
 * The same, for one case: a copy of a first build made once per kind (privileged or not), so
 * that each case costs its own two builds only.
 */
const templates = new Map<boolean, Promise<string>>();
async function published(t: Parameters<typeof tempDir>[0], unprivileged: boolean) {
  let template = templates.get(unprivileged);
  if (!template) {
    template = mkdtemp(path.join(os.tmpdir(), 'ss-corpus-first-')).then(async (dir) => {
      await firstBuild(dir, unprivileged);
      return dir;
    });
    templates.set(unprivileged, template);
  }
  const dir = await tempDir(t);
  // (cp -a: owners, modes and the output's hard links kept, as a build of its own left them)
  execFileSync('cp', ['-a', `${await template}/.`, dir]);
  if (unprivileged) await chmod(dir, 0o777);
  return { dir, images: path.join(dir, 'images'), out: path.join(dir, 'dist') };
}

describe('the corpus of bad inputs', () => {
  after(async () => {
    for (const t of templates.values()) await rm(await t, { recursive: true, force: true });
  });
  for (const c of CASES) {
    const skip = c.unprivileged && !isRoot ? (IN_CI ? false : 'needs root to run the build as another user') : c.tools ? requirements(c.tools) : false;
    it(c.name, { skip }, async (t) => {
      if (c.unprivileged && !isRoot) throw new Error('CI must run as root for this case');
      const { dir, images, out } = await published(t, c.unprivileged === true);
      const before = await hashTree(out);
      await c.setup(images);
      if (c.unprivileged)
        for (const e of await readdir(images, { recursive: true })) if (!e.endsWith('secret.tar.xz')) await chmod(path.join(images, e), 0o777);

      const r = run(['build', '--no-site'], dir, c.unprivileged === true);
      assert.equal(r.status, 1, `exit code (stderr: ${r.stderr})`);
      assert.match(r.stderr, c.expect);
      assert.match(r.stderr, /\n {2}fix: \S/);
      assert.doesNotMatch(r.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
      assert.equal(await hashTree(out), before, 'the previous output is unchanged');
      assert.deepEqual(
        (await readdir(dir)).filter((n) => n.startsWith('.dist') && n !== '.dist.cache.json'),
        [],
        'no temporary folder or lock left',
      );

      const k = run(['build', '--no-site', '--keep-going', '--json'], dir, c.unprivileged === true);
      assert.equal(k.status, 0, k.stderr);
      const summary = JSON.parse(k.stdout);
      assert.ok(summary.skipped.length > 0, 'the bad input is listed');
      const catalog = JSON.parse(await readFile(path.join(out, 'catalog.json'), 'utf8'));
      assert.ok(
        catalog.products.some((p: { key: string }) => p.key === 'busybox:1.36:amd64:unified'),
        'the good image is published',
      );
    });
  }

  it('accepts file names with spaces, unicode and shell metacharacters', async (t) => {
    const { dir, images } = await published(t, false);
    await oddNames(images);
    const r = run(['build', '--no-site', '--json'], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).images, 3);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n === 'pwned'),
      [],
    );
    assert.equal(run(['verify'], dir).status, 0);
  });

  it('reports an output folder that cannot be written', { skip: !isRoot && !IN_CI ? 'needs root to run the build as another user' : false }, async (t) => {
    const { dir } = await published(t, true);
    await chmod(dir, 0o555);
    try {
      const r = run(['build', '--no-site', '--images', path.join(dir, 'images'), '--out', path.join(dir, 'dist2')], dir, true);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /permission denied/i);
      assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/);
    } finally {
      await chmod(dir, 0o777);
    }
  });
});
