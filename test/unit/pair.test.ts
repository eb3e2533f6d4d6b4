import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { pairImages, stemOf } from '../../generator/ingest/pair.js';
import type { Classified } from '../../generator/ingest/classify.js';
import { parseMetadata } from '../../generator/ingest/metadata.js';

const file = (rel: string) => ({ path: `/in/${rel}`, rel, size: 1, dev: 1, ino: 1, mtimeMs: 0, ctimeMs: 0 });
const metadata = parseMetadata(Buffer.from('architecture: x86_64\ncreation_date: 1\nproperties:\n  os: a\n  release: b\n'));
function meta(rel: string, content = rel): Classified {
  return { role: 'metadata', file: file(rel), compression: 'xz', metadata, sha256: createHash('sha256').update(content).digest('hex') };
}
const root = (rel: string, format: 'squashfs' | 'qcow2' | 'tarball' = 'squashfs'): Classified => ({
  role: 'rootfs',
  file: file(rel),
  format,
  compression: 'none',
});
const pairs = (files: Classified[]) => {
  const r = pairImages(files);
  return {
    pairs: r.images.map((i) => (i.kind === 'split' ? `${i.meta.file.rel} + ${i.rootfs.file.rel} (${i.type})` : `${i.file.file.rel}`)).sort(),
    problems: r.problems.map((p) => `${p.file}: ${p.problem}`),
  };
};

describe('pairing split images', () => {
  it('strips image extensions to get a stem', () => {
    assert.equal(stemOf('a/meta-foo.tar.xz'), 'meta-foo');
    assert.equal(stemOf('rootfs.squashfs'), 'rootfs');
    assert.equal(stemOf('x.qcow2'), 'x');
    assert.equal(stemOf('name with spaces.tar.gz'), 'name with spaces');
  });

  it('pairs the distrobuilder layout, one metadata tarball with every rootfs in its folder', () => {
    const r = pairs([
      meta('d/lxd.tar.xz'),
      root('d/rootfs.squashfs'),
      root('d/rootfs.tar.xz', 'tarball'),
      meta('vm/lxd.tar.xz'),
      root('vm/disk.qcow2', 'qcow2'),
    ]);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.pairs, [
      'd/lxd.tar.xz + d/rootfs.squashfs (container)',
      'd/lxd.tar.xz + d/rootfs.tar.xz (container)',
      'vm/lxd.tar.xz + vm/disk.qcow2 (virtual-machine)',
    ]);
  });

  it("takes distrobuilder's build-lxc output (meta.tar.xz + rootfs.tar.xz) as LXC's files of the folder's image", () => {
    const images = pairImages([
      meta('d/lxd.tar.xz'),
      root('d/rootfs.squashfs'),
      root('d/meta.tar.xz', 'tarball'),
      root('d/rootfs.tar.xz', 'tarball'),
      meta('t/lxd.tar.xz'),
      root('t/meta.tar.xz', 'tarball'),
      root('t/rootfs.tar.xz', 'tarball'),
    ]);
    assert.deepEqual(images.problems, []);
    assert.deepEqual(
      images.images.map((i) => (i.kind === 'split' ? [i.rootfs.file.rel, i.lxc?.meta.file.rel, i.lxc?.rootfs.file.rel] : [])),
      [
        // next to a squashfs: LXC's only
        ['d/rootfs.squashfs', 'd/meta.tar.xz', 'd/rootfs.tar.xz'],
        // alone: the image's root tarball and LXC's
        ['t/rootfs.tar.xz', 't/meta.tar.xz', 't/rootfs.tar.xz'],
      ],
    );
  });

  it('pairs the lxc image export layout by name stem, several images in one folder', () => {
    const r = pairs([meta('e/meta-a.tar.xz'), root('e/a.tar.xz', 'tarball'), meta('e/meta-b.tar.xz'), root('e/b.squashfs')]);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.pairs, ['e/meta-a.tar.xz + e/a.tar.xz (container)', 'e/meta-b.tar.xz + e/b.squashfs (container)']);
  });

  it('treats identical lxd.tar.xz and incus.tar.xz as one metadata tarball', () => {
    const r = pairs([meta('d/lxd.tar.xz', 'same'), meta('d/incus.tar.xz', 'same'), root('d/rootfs.squashfs')]);
    assert.deepEqual(r.problems, []);
    assert.equal(r.pairs.length, 1);
  });

  it('refuses ambiguous pairs, naming every file', () => {
    const r = pairs([meta('d/lxd.tar.xz', 'one'), meta('d/incus.tar.xz', 'two'), root('d/rootfs.squashfs')]);
    assert.equal(r.pairs.length, 0);
    assert.match(r.problems[0]!, /d\/rootfs.squashfs: could pair with several different metadata tarballs: d\/lxd.tar.xz, d\/incus.tar.xz/);
  });

  it('refuses a rootfs without metadata and metadata without a rootfs', () => {
    const r = pairs([root('a/rootfs.squashfs'), meta('b/lxd.tar.xz')]);
    assert.deepEqual(r.pairs, []);
    assert.match(r.problems.join('\n'), /a\/rootfs.squashfs: is a squashfs rootfs with no metadata tarball next to it/);
    assert.match(r.problems.join('\n'), /b\/lxd.tar.xz: is a metadata tarball with no rootfs file next to it/);
  });

  it('never pairs across folders', () => {
    const r = pairs([meta('a/lxd.tar.xz'), root('a/b/rootfs.squashfs')]);
    assert.equal(r.pairs.length, 0);
    assert.equal(r.problems.length, 2);
  });
});
