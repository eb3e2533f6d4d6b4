// plan/publication: what one run publishes — the built products merged into the previous
// tree's, retention applied, deltas whose base is gone dropped, a product that loses a type
// warned about — the files listed, and which unlisted files keep a grace period and why.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { graceAfter, listedFiles, lostTypes, pathClashes, planPublication, type PreviousState } from '../../generator/plan/publication.js';
import { hex, plannedProduct, plannedVersion } from '../support/builders.js';
import type { PlannedVersion } from '../../generator/plan/products.js';

const KEY = 'x:1:amd64:default';
const NOW = Date.parse('2026-02-01T00:00:00Z');
const previous = (versions: PlannedVersion[]): PreviousState => ({
  products: [plannedProduct(KEY, versions)],
  productsPath: 'streams/v1/images-old.json',
  productsFile: { sha256: hex(1000), size: 10 },
  grace: [],
});
const publish = (fresh: PlannedVersion[], before: PreviousState | null, keep?: number) =>
  planPublication([plannedProduct(KEY, fresh)], before, { replace: false, retention: { keep }, nowMs: NOW });

describe('what one run publishes', () => {
  it('without a previous tree: every version is added', () => {
    const p = publish([plannedVersion('20260101_00:00', 1), plannedVersion('20260102_00:00', 2)], null);
    assert.deepEqual(p.added, [`${KEY} 20260101_00:00`, `${KEY} 20260102_00:00`]);
    assert.deepEqual([p.unchanged, p.replaced, p.dropped, p.warnings, p.problems], [[], [], [], [], []]);
  });

  it('on a previous tree: new versions added, the same one unchanged, retention drops the oldest', () => {
    const before = previous([plannedVersion('20260101_00:00', 1), plannedVersion('20260102_00:00', 2)]);
    const p = publish([plannedVersion('20260102_00:00', 2), plannedVersion('20260103_00:00', 3)], before, 2);
    assert.deepEqual(p.added, [`${KEY} 20260103_00:00`]);
    assert.deepEqual(p.unchanged, [`${KEY} 20260102_00:00`]);
    assert.deepEqual(
      p.dropped.map((d) => `${d.product} ${d.version}`),
      [`${KEY} 20260101_00:00`],
    );
    assert.deepEqual(
      p.products[0]!.versions.map((v) => v.key),
      ['20260102_00:00', '20260103_00:00'],
    );
  });

  it('a version key holding other images is a problem, not a silent replacement', () => {
    const p = publish([plannedVersion('20260101_00:00', 9)], previous([plannedVersion('20260101_00:00', 1)]));
    assert.match(p.problems[0]?.message ?? '', /already published with other images/);
  });

  it('drops a delta whose base version retention dropped', () => {
    const withDelta = (v: PlannedVersion, base: string): PlannedVersion => ({
      ...v,
      items: [
        ...v.items,
        { key: `squashfs.vcdiff.${base}`, ftype: 'squashfs.vcdiff', file: { ...v.items[0]!.file, path: `d/${base}.vcdiff` }, combined: {}, deltaBase: base },
      ],
    });
    const before = previous([plannedVersion('20260101_00:00', 1), withDelta(plannedVersion('20260102_00:00', 2), '20260101_00:00')]);
    const p = publish([], before, 1);
    assert.deepEqual(
      p.products[0]!.versions[0]!.items.map((i) => i.ftype),
      ['lxd_combined.tar.gz', 'incus_combined.tar.gz'],
    );
  });

  it('warns when a product loses the last image of a type', () => {
    const vm = (v: PlannedVersion): PlannedVersion => ({ ...v, images: v.images.map((i) => ({ ...i, type: 'virtual-machine' as const })) });
    const warnings = lostTypes(
      [plannedProduct(KEY, [vm(plannedVersion('20260101_00:00', 1)), plannedVersion('20260102_00:00', 2)])],
      [plannedProduct(KEY, [plannedVersion('20260102_00:00', 2)])],
    );
    assert.deepEqual(warnings, [
      `${KEY} no longer has a virtual-machine image: version 20260101_00:00, the last with one, was replaced or dropped by retention; \`launch --vm\` of its aliases stops working`,
    ]);
  });

  it('lists each file once, sorted by path (both clients’ items share one file)', () => {
    const files = listedFiles([plannedProduct(KEY, [plannedVersion('20260102_00:00', 2), plannedVersion('20260101_00:00', 1)])]);
    assert.deepEqual(
      files.map((f) => f.sha256),
      [hex(1), hex(2)],
    );
  });

  it('keeps the unlisted files of the previous tree for the grace period, with the reason, and lets expired ones go', () => {
    const old = plannedVersion('20260101_00:00', 1);
    const before: PreviousState = {
      ...previous([old, plannedVersion('20260102_00:00', 2)]),
      grace: [{ path: 'images/gone.tar.gz', sha256: hex(7), size: 7, since: '2026-01-01T00:00:00Z', reason: 'old' }],
    };
    const publication = publish([], before, 1);
    const listed = new Set([...listedFiles(publication.products).map((f) => f.path), 'streams/v1/images-new.json']);
    const grace = graceAfter(before, publication, listed, NOW, 6 * 3_600_000);
    assert.deepEqual(
      grace.keep.map((e) => [e.path, e.reason, e.since]),
      [
        [old.items[0]!.file.path, `retention dropped ${KEY} 20260101_00:00`, '2026-02-01T00:00:00.000Z'],
        ['streams/v1/images-old.json', 'superseded products file (clients cache it for an hour)', '2026-02-01T00:00:00.000Z'],
      ],
    );
    assert.deepEqual(
      grace.expired.map((e) => e.path),
      ['images/gone.tar.gz'],
    );
    assert.deepEqual(graceAfter(null, publication, listed, NOW, 1), { keep: [], expired: [] });
  });
});

describe('pathClashes: one path, one file', () => {
  it('a path two products list with two different files is named with both places; the same file twice is fine', () => {
    const a = plannedProduct('a:1:amd64:default', [plannedVersion('20260101_00:00', 1)]);
    const same = plannedProduct('b:1:amd64:default', [plannedVersion('20260101_00:00', 1)]);
    assert.deepEqual(pathClashes([a, same]), []);
    const other = plannedProduct('b:1:amd64:default', [plannedVersion('20260101_00:00', 2)]);
    other.versions[0]!.items.forEach((item, i) => (item.file = { ...item.file, path: a.versions[0]!.items[i]!.file.path }));
    const clashes = pathClashes([a, other], (key) => `${key.startsWith('a') ? 'https://up-a/' : 'https://up-b/'}: `);
    assert.ok(clashes.length >= 1);
    assert.match(
      clashes[0]!.problem,
      /is listed twice, with two different files: by https:\/\/up-a\/: product a:1:amd64:default .* and by https:\/\/up-b\/: product b:1:amd64:default/,
    );
  });
});
