// What a new user meets in the first hour (issue 31), through the CLI: mistakes in the images
// folder are refused with both files named and the fix; serve says what to do about a missing
// folder and shows each request; --previous URL downloads only what the output lacks and says so;
// counts read right, prune speaks of pruning, --keep-going reports each problem once, list prints
// no header over an error. (metadata.yaml mistakes — a YAML error with its line and column, a
// misspelt key with "did you mean" and every missing field at once — are cases of
// test/corpus/cases.ts; the read-only install is in package.test.ts, doctor's base URL check in
// e2e/doctor.test.ts.)

import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { metadataTarball, put, rootTarball, unifiedTarball } from '../support/images.js';
import { BIN, runCli } from '../support/cli.js';
import { spawn } from 'node:child_process';
import { build } from '../../generator/index.js';
import { tempDir } from '../support/tmp.js';

/** `staticstreams serve FOLDER` on a free port, as a person runs it: its URL and what it printed so far. */
async function serveCli(t: TestContext, cwd: string, folder: string, ...flags: string[]) {
  const child = spawn(process.execPath, [BIN, 'serve', folder, '--port', '0', ...flags], { cwd });
  t.after(() => child.kill());
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve) => {
    const look = () => {
      const m = new RegExp(`serving ${folder} at (\\S+)`).exec(out);
      if (m) resolve(m[1]!);
      else setTimeout(look, 20);
    };
    look();
  });
  return { url, child, log: () => out };
}

describe('two unified images of one product, version and type', () => {
  it('are refused as two split images are, naming both files and the fix; a container and a VM may share a version', async (t) => {
    const dir = await tempDir(t);
    const meta = { os: 'twice', release: '1', serial: '20261101_00:00' };
    await put(path.join(dir, 'images/a.tar.gz'), await unifiedTarball(meta, 'first'));
    await put(path.join(dir, 'images/b.tar.gz'), await unifiedTarball(meta, 'second'));
    let r = await runCli(['build', '--no-site', '-q', '--out', 'out'], { cwd: dir });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /product twice:1:amd64:default version 20261101_00:00 would hold two unified container images/);
    assert.match(r.stderr, /files: a\.tar\.gz, b\.tar\.gz/);
    assert.match(r.stderr, /fix: give the images different serials \(properties\.serial\) or different variants \(properties\.variant\)/);
    assert.ok(!existsSync(path.join(dir, 'out')), 'nothing published');
    // A container and a virtual machine of the same version are two types: both published.
    await put(path.join(dir, 'images/b.tar.gz'), await unifiedTarball(meta, 'vm', { vm: true }));
    r = await runCli(['build', '--no-site', '-q', '--out', 'out'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    // A split container image of the same version as the unified one: the same ambiguity.
    await put(path.join(dir, 'images/split/lxd.tar.xz'), await metadataTarball(meta));
    await put(path.join(dir, 'images/split/rootfs.tar.xz'), await rootTarball('split'));
    r = await runCli(['build', '--no-site', '-q', '--out', 'out'], { cwd: dir });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /version 20261101_00:00 would hold a split and a unified container image/);
    assert.match(r.stderr, /files: split\/lxd\.tar\.xz \+ split\/rootfs\.tar\.xz, a\.tar\.gz/);
  });
});

describe('staticstreams serve, as a person previewing a tree uses it', () => {
  it('a missing folder is a usage error with the fix, not a raw ENOENT', async (t) => {
    const dir = await tempDir(t);
    const r = await runCli(['serve', 'dist'], { cwd: dir });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^error: cannot serve dist: no such folder\n {2}fix: build it first \(staticstreams build --out dist\)/);
    assert.doesNotMatch(r.stderr, /ENOENT|realpath/);
  });

  it('prints one line per request (method, path, status); --quiet prints none', async (t) => {
    const dir = await tempDir(t);
    await build({ images: path.resolve('images'), out: path.join(dir, 'dist'), site: false });
    for (const quiet of [false, true]) {
      const served = await serveCli(t, dir, 'dist', ...(quiet ? ['--quiet'] : []));
      const { url } = served;
      assert.equal((await fetch(`${url}/catalog.json`)).status, 200);
      assert.equal((await fetch(`${url}/no-such-file`)).status, 404);
      await new Promise((r) => setTimeout(r, 200));
      served.child.kill();
      const out = served.log();
      if (quiet) assert.doesNotMatch(out, /GET \//, '--quiet: no request lines');
      else {
        assert.match(out, /^GET \/catalog\.json 200$/m);
        assert.match(out, /^GET \/no-such-file 404$/m);
      }
    }
  });
});

describe('--previous URL into a cached --out', () => {
  it('downloads a listed file only when neither the output nor its spare holds it with that sha256, and says what it downloaded', async (t) => {
    const dir = await tempDir(t);
    const version = (serial: string) => unifiedTarball({ os: 'again', release: '1', serial }, serial);
    await put(path.join(dir, 'live-images/v1.tar.gz'), await version('20261101_00:00'));
    await build({ images: path.join(dir, 'live-images'), out: path.join(dir, 'live'), site: false });
    const { url, child, log } = await serveCli(t, dir, 'live');
    const imageGets = () =>
      log()
        .split('\n')
        .filter((l) => /^GET \/images\//.test(l)).length;
    const run = (...extra: string[]) => runCli(['build', '--images', 'images', '--previous', url, '--out', 'dist', '--no-site', ...extra], { cwd: dir });

    // A CI runner holding only the new version: version 1 comes from the live server, once.
    await put(path.join(dir, 'images/v2.tar.gz'), await version('20261102_00:00'));
    let r = await run();
    assert.equal(r.status, 0, r.stderr);
    // The image file and the products file it was listed in (kept for its grace period).
    assert.match(r.stdout, new RegExp(`, 2 downloaded \\(\\d[^)]*\\) from ${url.replace(/[.:/]/g, '\\$&')}\\)`));
    assert.equal(imageGets(), 1);

    // The next run (a cached dist/, one more version): version 1 is linked from dist/, not fetched.
    await put(path.join(dir, 'images/v3.tar.gz'), await version('20261103_00:00'));
    r = await run('--json');
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { filesDownloaded: number; bytesDownloaded: number; added: string[] };
    assert.deepEqual([summary.filesDownloaded, summary.bytesDownloaded], [0, 0]);
    // Added on top of the live tree (which still holds version 1 only): both runner versions.
    assert.deepEqual(summary.added, ['again:1:amd64:default 20261102_00:00', 'again:1:amd64:default 20261103_00:00']);
    assert.equal(imageGets(), 1, 'no image file was fetched again');

    // Once more (another version): the spare (the tree that run replaced) or dist/ still serves it.
    await put(path.join(dir, 'images/v4.tar.gz'), await version('20261104_00:00'));
    r = await run('--json');
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { filesDownloaded: number }).filesDownloaded, 0);
    assert.equal(imageGets(), 1);
    child.kill();
  });
});

describe('what the CLI says', () => {
  it('--keep-going with nothing good: each problem once, and why nothing is published', async (t) => {
    const dir = await tempDir(t);
    await put(path.join(dir, 'images/a.tar.gz'), Buffer.from('not an image'));
    await put(path.join(dir, 'images/b.tar.xz'), Buffer.from('nor this'));
    const r = await runCli(['build', '--no-site', '--keep-going', '-q', '--out', 'out'], { cwd: dir });
    assert.equal(r.status, 1, r.stderr);
    for (const f of ['a.tar.gz', 'b.tar.xz']) assert.equal(r.stderr.split(`${f}: is not a tarball`).length - 1, 1, `${f} reported once`);
    assert.match(r.stderr, /error: every image in images has a problem \(listed above\): nothing is left to publish/);
    assert.doesNotMatch(r.stderr, /no images found|skipped \(--keep-going\)/);
  });

  it('counts in the right number; prune --dry-run speaks of pruning, and of the versions it keeps', async (t) => {
    const dir = await tempDir(t);
    await put(path.join(dir, 'images/one.tar.gz'), await unifiedTarball({ os: 'solo', release: '1', serial: '20261101_00:00' }, 'one'));
    let r = await runCli(['build', '--no-site', '--out', 'out'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /: 1 product, 1 version, 1 image \(\d[^,]* hashed, 1 file linked, 0 copied\)/);
    r = await runCli(['prune', 'out', '--retain', '1', '--dry-run', '--no-site'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^pruning out: 0 versions would be dropped \(retention\), 1 version would be kept$/m);
    assert.doesNotMatch(r.stdout, /added|unchanged/);
    r = await runCli(['verify', 'out'], { cwd: dir });
    assert.match(r.stdout, /^ok: 1 product, 1 image, 1 file checked; 0 errors, 0 warnings$/m);
  });

  it('list prints no table header over an error', async (t) => {
    const dir = await tempDir(t);
    await put(path.join(dir, 'broken/streams/v1/index.json'), Buffer.from('{ "not": "an index" '));
    const r = await runCli(['list', 'broken'], { cwd: dir });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^error: /m);
    assert.equal(r.stdout, '', 'no header, no rows');
  });
});
