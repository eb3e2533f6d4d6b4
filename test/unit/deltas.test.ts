import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dropOrphanDeltas, planDeltas } from '../../generator/plan/deltas.js';
import type { PlannedFile, PlannedItem, PlannedProduct } from '../../generator/plan/products.js';
import { plannedFile } from '../support/builders.js';

const file = (p: string, sha = p): PlannedFile => plannedFile(p, sha.padEnd(64, '0'));
const item = (key: string, ftype: string, p: string, extra: Partial<PlannedItem> = {}): PlannedItem => ({ key, ftype, file: file(p), combined: {}, ...extra });
const version = (key: string, items: PlannedItem[]) => ({ key, items, images: [] });
const product = (versions: ReturnType<typeof version>[]): PlannedProduct => ({
  key: 'os:1:amd64:default',
  os: 'os',
  release: '1',
  arch: 'amd64',
  canonicalArch: 'x86_64',
  variant: 'default',
  aliases: [],
  releaseTitle: '1',
  requirements: {},
  versions,
});
const split = (v: string) => [item('lxd.tar.xz', 'lxd.tar.xz', `images/${v}/lxd.tar.xz`), item('root.squashfs', 'squashfs', `images/${v}/root.squashfs`)];

describe('planning squashfs deltas', () => {
  it('diffs each new version against the next older version that has a squashfs', () => {
    const p = product([
      version('20260101_00:00', split('a')),
      version('20260102_00:00', [item('lxd_combined.tar.gz', 'lxd_combined.tar.gz', 'images/b/u.tar.gz')]), // no squashfs: skipped over
      version('20260103_00:00', split('c')),
      version('20260104_00:00', split('d')),
    ]);
    const jobs = planDeltas([p], new Set(['os:1:amd64:default 20260103_00:00', 'os:1:amd64:default 20260104_00:00']));
    assert.deepEqual(
      jobs.map((j) => [j.version, j.base, j.from.path, j.to.path, j.dir]),
      [
        ['20260103_00:00', '20260101_00:00', 'images/a/root.squashfs', 'images/c/root.squashfs', 'images/c'],
        ['20260104_00:00', '20260103_00:00', 'images/c/root.squashfs', 'images/d/root.squashfs', 'images/d'],
      ],
    );
    assert.deepEqual(planDeltas([p], new Set()), [], 'versions published before are left as they are');
  });

  it('makes none for a version that already has that delta, or whose squashfs is the same, or that has two', () => {
    const withDelta = product([
      version('20260101_00:00', split('a')),
      version('20260102_00:00', [...split('b'), item('d', 'squashfs.vcdiff', 'images/b/d.vcdiff', { deltaBase: '20260101_00:00' })]),
    ]);
    assert.deepEqual(planDeltas([withDelta], new Set(['os:1:amd64:default 20260102_00:00'])), []);
    const same = product([
      version('20260101_00:00', split('a')),
      version('20260102_00:00', [
        item('lxd.tar.xz', 'lxd.tar.xz', 'images/b/lxd.tar.xz'),
        {
          ...item('root.squashfs', 'squashfs', 'images/b/root.squashfs'),
          file: { ...file('images/b/root.squashfs'), sha256: file('images/a/root.squashfs').sha256 },
        },
      ]),
    ]);
    assert.deepEqual(planDeltas([same], new Set(['os:1:amd64:default 20260102_00:00'])), []);
    const two = product([
      version('20260101_00:00', split('a')),
      version('20260102_00:00', [...split('b'), item('root2.squashfs', 'squashfs', 'images/b/root2.squashfs')]),
    ]);
    assert.deepEqual(planDeltas([two], new Set(['os:1:amd64:default 20260102_00:00'])), []);
  });

  it('drops delta items whose base version is gone, and keeps the rest', () => {
    const delta = (base: string) => item(`squashfs.vcdiff.${base}`, 'squashfs.vcdiff', `images/c/${base}.vcdiff`, { deltaBase: base });
    const p = product([version('20260102_00:00', split('b')), version('20260103_00:00', [...split('c'), delta('20260101_00:00'), delta('20260102_00:00')])]);
    const [kept] = dropOrphanDeltas([p]);
    assert.deepEqual(
      kept!.versions[1]!.items.filter((i) => i.ftype === 'squashfs.vcdiff').map((i) => i.deltaBase),
      ['20260102_00:00'],
    );
    const clean = product([version('20260102_00:00', split('b'))]);
    assert.equal(dropOrphanDeltas([clean])[0], clean, 'untouched products are the same objects');
  });
});
