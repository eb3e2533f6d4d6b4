// `--lxc` through the command line: LXC's files are byte-identical across builds into fresh
// folders, a rebuild makes none again and a republish keeps them, the files unpack with GNU tar
// to the image's root filesystem; an image whose root filesystem cannot be read fails the build
// and leaves the previous output as it was; and verify catches an index naming a missing or
// broken tarball, or leaving out a product with LXC files.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { markerRootfs, metadataTarball, put, squashfs } from '../support/images.js';
import { requirements } from '../support/require.js';
import { tempDir } from '../support/tmp.js';
import { runCli } from '../support/cli.js';
import { hashTree } from '../support/tree-hash.js';
import { startUpstream } from '../support/upstream-server.js';

const skip = requirements(['mksquashfs', 'sqfs2tar', 'xz']);
const SAMPLES = path.resolve('images');

const indexOf = (out: string) => readFileSync(path.join(out, 'meta/1.0/index-system'), 'utf8');

describe('build --lxc', { skip }, () => {
  it('makes the same bytes in fresh folders, nothing again on a rebuild, and files GNU tar unpacks to the image', async (t) => {
    const work = await tempDir(t);
    const run = async (out: string) => {
      const r = await runCli(['build', '--images', SAMPLES, '--out', out, '--no-site', '--lxc', '--json'], { cwd: work });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { lxc: { product: string }[]; filesLinked: number };
    };
    const first = await run(path.join(work, 'a'));
    assert.equal(first.lxc.length, 5, 'every container version of the samples');
    await run(path.join(work, 'b'));
    assert.equal(await hashTree(path.join(work, 'a')), await hashTree(path.join(work, 'b')), 'byte-identical trees');
    const again = await run(path.join(work, 'a'));
    assert.deepEqual(again.lxc, [], 'a rebuild makes no LXC file again');
    assert.equal(again.filesLinked, 0, 'and writes nothing');

    const line = indexOf(path.join(work, 'a'))
      .split('\n')
      .find((l) => l.startsWith('busybox;1.36;amd64;default;'))!;
    const folder = path.join(work, 'a', line.split(';')[5]!);
    const into = path.join(work, 'unpacked');
    execFileSync('mkdir', ['-p', into]);
    execFileSync('tar', ['--numeric-owner', '-xpJf', path.join(folder, 'rootfs.tar.xz'), '-C', into]);
    assert.equal(
      readFileSync(path.join(into, 'marker'), 'utf8'),
      execFileSync('unsquashfs', ['-cat', path.join(SAMPLES, 'busybox/amd64/rootfs.squashfs'), 'marker'], { encoding: 'utf8' }),
    );
    assert.match(
      execFileSync('tar', ['-xOJf', path.join(folder, 'meta.tar.xz'), 'config'], { encoding: 'utf8' }),
      /^lxc\.include = LXC_TEMPLATE_CONFIG\/common\.conf\nlxc\.arch = x86_64\n$/,
    );

    // Without --lxc the versions published again keep their LXC files.
    const r = await runCli(['build', '--images', SAMPLES, '--out', path.join(work, 'a'), '--previous', path.join(work, 'a'), '--no-site', '--json'], {
      cwd: work,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(indexOf(path.join(work, 'a')), indexOf(path.join(work, 'b')));
  });

  it("takes distrobuilder's build-lxc output next to an image as it is (and only with --lxc)", async (t) => {
    const work = await tempDir(t);
    const images = path.join(work, 'images');
    const lxcOutput = async (dir: string, marker: string) => {
      const src = path.join(work, `src-${marker}`);
      await put(path.join(src, 'meta/config'), `lxc.include = LXC_TEMPLATE_CONFIG/common.conf\n# ${marker}\n`);
      await put(path.join(src, 'root/marker'), `${marker}\n`);
      execFileSync('tar', ['-cJf', path.join(dir, 'meta.tar.xz'), '-C', path.join(src, 'meta'), 'config']);
      execFileSync('tar', ['-cJf', path.join(dir, 'rootfs.tar.xz'), '-C', path.join(src, 'root'), '.']);
    };
    // next to a squashfs image, and as the root tarball of a split image of its own
    await put(`${images}/sq/lxd.tar.xz`, await metadataTarball({ os: 'd', release: '1', variant: 'sq', serial: '20260101_00:00' }));
    await put(`${images}/sq/rootfs.squashfs`, await squashfs(markerRootfs('sq')));
    await lxcOutput(`${images}/sq`, 'given-sq');
    await put(`${images}/tb/lxd.tar.xz`, await metadataTarball({ os: 'd', release: '1', variant: 'tb', serial: '20260101_00:00' }));
    await lxcOutput(`${images}/tb`, 'given-tb');
    const sha = (f: string) => execFileSync('sha256sum', [f], { encoding: 'utf8' }).split(' ')[0]!;

    const out = path.join(work, 'dist');
    const plain = await runCli(['build', '--images', images, '--out', out, '--no-site'], { cwd: work });
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stderr, /warning: sq\/meta\.tar\.xz, sq\/rootfs\.tar\.xz: LXC's files \(distrobuilder build-lxc output\), published with --lxc/);
    assert.match(plain.stderr, /warning: tb\/meta\.tar\.xz: LXC's files/);

    const r = await runCli(['build', '--images', images, '--out', out, '--no-site', '--lxc', '--json'], { cwd: work });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { lxc: unknown[] }).lxc, [], 'nothing made');
    const lines = indexOf(out).trim().split('\n');
    assert.deepEqual(
      lines.map((l) => l.split(';').slice(0, 4).join(';')),
      ['d;1;amd64;sq', 'd;1;amd64;tb'],
    );
    for (const [line, variant] of [
      [lines[0]!, 'sq'],
      [lines[1]!, 'tb'],
    ] as const) {
      const folder = path.join(out, line.split(';')[5]!);
      for (const f of ['meta.tar.xz', 'rootfs.tar.xz'])
        assert.equal(sha(path.join(folder, f)), sha(`${images}/${variant}/${f}`), `${variant}/${f} published as it is`);
    }
    // Next to the squashfs, the given root tarball is a second image: metadata ‖ it is its fingerprint.
    const products = JSON.parse(readFileSync(path.join(out, 'streams/v1/images.json'), 'utf8')) as {
      products: Record<string, { versions: Record<string, { items: Record<string, Record<string, string>> }> }>;
    };
    const sq = Object.values(products.products['d:1:amd64:sq']!.versions)[0]!.items;
    const fingerprint = execFileSync('sh', ['-c', `cat '${images}/sq/lxd.tar.xz' '${images}/sq/rootfs.tar.xz' | sha256sum`], { encoding: 'utf8' }).split(
      ' ',
    )[0];
    assert.equal(sq['lxd.tar.xz']!.combined_rootxz_sha256, fingerprint);
    assert.equal(sq['root.tar.xz']!.ftype, 'root.tar.xz');
    const verified = await runCli(['verify', out], { cwd: work });
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
  });

  it("mirrors an upstream's LXC files and index, proven and unchanged", async (t) => {
    const work = await tempDir(t);
    const up = path.join(work, 'up');
    assert.equal((await runCli(['build', '--images', SAMPLES, '--out', up, '--no-site', '--lxc'], { cwd: work })).status, 0);
    const upstream = await startUpstream(up);
    t.after(() => upstream.stop());
    const out = path.join(work, 'mirror');
    const r = await runCli(['mirror', upstream.url, '--out', out, '--no-site', '--filter', 'variant=default'], { cwd: work });
    assert.equal(r.status, 0, r.stderr);
    const lines = indexOf(out).trim().split('\n');
    assert.deepEqual(
      lines,
      indexOf(up)
        .trim()
        .split('\n')
        .filter((l) => l.split(';')[3] === 'default'),
      "the upstream's lines of the selected products, pointing at the same paths",
    );
    for (const l of lines)
      for (const f of ['meta.tar.xz', 'rootfs.tar.xz'])
        assert.ok(readFileSync(path.join(out, l.split(';')[5]!, f)).equals(readFileSync(path.join(up, l.split(';')[5]!, f))));
    assert.equal((await runCli(['verify', out], { cwd: work })).status, 0);
  });

  it('fails on a squashfs sqfs2tar cannot read, leaving the previous output as it was', async (t) => {
    const work = await tempDir(t);
    const images = path.join(work, 'images');
    await put(`${images}/x/lxd.tar.xz`, await metadataTarball({ os: 'x', release: '1', serial: '20260101_00:00' }));
    const good = await squashfs(markerRootfs('x'));
    await put(`${images}/x/rootfs.squashfs`, good);
    const out = path.join(work, 'dist');
    assert.equal((await runCli(['build', '--images', images, '--out', out, '--no-site'], { cwd: work })).status, 0);
    const before = await hashTree(out);
    // A squashfs whose superblock and size are right but whose tables are garbage: hashed and
    // published fine, but no root filesystem can be read from it.
    const bad = Buffer.from(good);
    bad.fill(0x5a, 96, bad.length - 8);
    rmSync(`${images}/x/rootfs.squashfs`); // a new file: the published one is a hard link of the old
    writeFileSync(`${images}/x/rootfs.squashfs`, bad);
    const r = await runCli(['build', '--images', images, '--out', out, '--no-site', '--lxc', '--replace', '--previous', out], { cwd: work });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /x:1:amd64:default 20260101_00:00: .*sqfs2tar.*\n\s*fix: .*without --lxc/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(await hashTree(out), before);
  });

  it('is checked by verify: a missing or broken tarball named by the index, a product it leaves out', async (t) => {
    const work = await tempDir(t);
    const out = path.join(work, 'dist');
    assert.equal((await runCli(['build', '--images', SAMPLES, '--out', out, '--no-site', '--lxc'], { cwd: work })).status, 0);
    const ok = await runCli(['verify', out], { cwd: work });
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const index = indexOf(out);
    const folder = index.split('\n')[0]!.split(';')[5]!;
    // An index naming a folder the products do not list, whose tarballs are missing.
    const moved = index.replace(folder, '/images/nowhere/');
    for (const p of ['index-system', 'index-system.7']) writeFileSync(path.join(out, 'meta/1.0', p), moved);
    const missing = await runCli(['verify', out], { cwd: work });
    assert.equal(missing.status, 1);
    assert.match(missing.stdout + missing.stderr, /meta\/1\.0\/index-system\.7:1: images\/nowhere\/meta\.tar\.xz is missing/);
    assert.match(missing.stdout + missing.stderr, /does not list busybox:1\.36:amd64:default, which has LXC files/);
    // A hostile index: a folder outside the tree is refused, never read.
    for (const p of ['index-system', 'index-system.7']) writeFileSync(path.join(out, 'meta/1.0', p), index.replace(folder, '/../../etc/'));
    const outside = await runCli(['verify', out], { cwd: work });
    assert.equal(outside.status, 1);
    assert.match(outside.stdout + outside.stderr, /index-system\.7:1: path "\/\.\.\/\.\.\/etc\/" must be a folder of the tree/);
    assert.doesNotMatch(outside.stdout + outside.stderr, /etc\/meta\.tar\.xz/);
    // A tarball cut short (the products' sha256 then also fails: both are reported).
    for (const p of ['index-system', 'index-system.7']) writeFileSync(path.join(out, 'meta/1.0', p), index);
    const rootfs = path.join(out, folder, 'rootfs.tar.xz');
    const bytes = readFileSync(rootfs);
    rmSync(rootfs);
    writeFileSync(rootfs, bytes.subarray(0, bytes.length - 100));
    const cut = await runCli(['verify', out], { cwd: work });
    assert.equal(cut.status, 1);
    assert.match(cut.stdout + cut.stderr, /index-system\.7:1: .*rootfs\.tar\.xz .*lxc-create fails when it unpacks it/);
  });
});
