// Which manifest items a build adds (plan/manifests): every version whose image's list is known
// and that has none yet; changes only from the version before with a known list of the same
// database; named by their hash next to the image; the same input, the same files.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planManifests, isManifestItem } from '../../generator/plan/manifests.js';
import type { PackageList } from '../../generator/formats/manifest.js';
import { hex, plannedProduct, plannedVersion } from '../support/builders.js';

const list = (...names: string[]): PackageList => ({ database: 'dpkg', packages: names.map((n) => ({ name: n, version: '1' })) });

describe('planManifests', () => {
  const product = plannedProduct('debian:bookworm:amd64:default', [
    plannedVersion('20260101_0000', 1),
    plannedVersion('20260102_0000', 2),
    plannedVersion('20260103_0000', 3),
  ]);

  it('lists, SBOM and (from the second on) changes, next to the image, named by hash', () => {
    const jobs = planManifests(
      [product],
      new Map([
        [hex(1), list('a')],
        [hex(3), list('a', 'b')],
      ]),
    );
    assert.deepEqual(
      jobs.map((j) => [j.version, j.files().map((f) => f.ftype)]),
      [
        ['20260101_0000', ['manifest', 'manifest.json', 'spdx.json']],
        // the version between has no known list: the changes are from the one before it
        ['20260103_0000', ['manifest', 'manifest.json', 'spdx.json', 'changes.json']],
      ],
    );
    const changes = JSON.parse(jobs[1]!.files()[3]!.bytes.toString());
    assert.equal(changes.from.version, '20260101_0000');
    assert.deepEqual(changes.added, [{ name: 'b', version: '1' }]);
    for (const f of jobs.flatMap((j) => j.files())) {
      assert.match(f.path, /^images\/x\/2026010\d_0000\/(packages|changes)-[0-9a-f]{16}\./);
      assert.ok(f.path.includes(f.sha256.slice(0, 16)));
    }
    const again = planManifests(
      [product],
      new Map([
        [hex(1), list('a')],
        [hex(3), list('a', 'b')],
      ]),
    );
    assert.deepEqual(
      again.map((j) => j.files()),
      jobs.map((j) => j.files()),
      'deterministic',
    );
  });

  it('a version that has them already gets none; a published list starts the changes', () => {
    const withItems = {
      ...product.versions[1]!,
      items: [...product.versions[1]!.items, { key: 'manifest', ftype: 'manifest', file: product.versions[1]!.items[0]!.file, combined: {} }],
    };
    const p = { ...product, versions: [product.versions[0]!, withItems, product.versions[2]!] };
    assert.ok(isManifestItem(withItems.items.at(-1)!));
    const jobs = planManifests(
      [p],
      new Map([
        [hex(2), list('a')],
        [hex(3), list('c')],
      ]),
      new Map([[`${p.key} 20260102_0000`, list('a')]]),
    );
    assert.deepEqual(
      jobs.map((j) => j.version),
      ['20260103_0000'],
    );
    const changes = JSON.parse(jobs[0]!.files().at(-1)!.bytes.toString());
    assert.deepEqual([changes.from.version, changes.added, changes.removed], ['20260102_0000', [{ name: 'c', version: '1' }], [{ name: 'a', version: '1' }]]);
  });

  it('no changes across package databases', () => {
    const rpm: PackageList = { database: 'rpm', packages: [{ name: 'a', version: '1' }] };
    const jobs = planManifests(
      [product],
      new Map([
        [hex(1), list('a')],
        [hex(2), rpm],
      ]),
    );
    assert.ok(!jobs[1]!.files().some((f) => f.ftype === 'changes.json'));
  });
});
