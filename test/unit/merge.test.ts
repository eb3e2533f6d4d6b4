// plan/merge.ts: merging newly built versions into a published tree (pure).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mergeWithPrevious } from '../../generator/plan/merge.js';
import { hex, plannedProduct, plannedVersion } from '../support/builders.js';

describe('merging with the previous tree', () => {
  const old = [
    plannedProduct('a:1:amd64:default', [plannedVersion('20261101_00:00', 1)], ['a/1']),
    plannedProduct('b:1:amd64:default', [plannedVersion('20261101_00:00', 2)], ['b/1']),
  ];

  it('adds new versions next to the published ones and keeps untouched products', () => {
    const merged = mergeWithPrevious(old, [plannedProduct('a:1:amd64:default', [plannedVersion('20261110_00:00', 3)], ['a/1'])], { replace: false });
    assert.deepEqual(merged.problems, []);
    assert.deepEqual(
      merged.products.map((p) => [p.key, p.versions.map((v) => v.key)]),
      [
        ['a:1:amd64:default', ['20261101_00:00', '20261110_00:00']],
        ['b:1:amd64:default', ['20261101_00:00']],
      ],
    );
    assert.deepEqual(merged.added, ['a:1:amd64:default 20261110_00:00']);
  });

  it('treats the same image published again as a no-op', () => {
    const merged = mergeWithPrevious(old, [plannedProduct('a:1:amd64:default', [plannedVersion('20261101_00:00', 1)], ['a/1'])], { replace: false });
    assert.deepEqual(merged.problems, []);
    assert.deepEqual(merged.unchanged, ['a:1:amd64:default 20261101_00:00']);
    assert.equal(merged.products[0]!.versions.length, 1);
  });

  it('refuses another image under a published version key, unless replace', () => {
    const fresh = [plannedProduct('a:1:amd64:default', [plannedVersion('20261101_00:00', 9)], ['a/1'])];
    const refused = mergeWithPrevious(old, fresh, { replace: false });
    assert.equal(refused.problems.length, 1);
    assert.match(refused.problems[0]!.problem, /version 20261101_00:00 is already published with other images/);
    assert.match(refused.problems[0]!.fix, /--replace/);
    const replaced = mergeWithPrevious(old, fresh, { replace: true });
    assert.deepEqual(replaced.problems, []);
    assert.deepEqual(replaced.replaced, ['a:1:amd64:default 20261101_00:00']);
    assert.equal(replaced.products[0]!.versions[0]!.images[0]!.fingerprint, hex(9));
  });

  it('refuses a published image under a second version, and an alias another product holds', () => {
    const twice = mergeWithPrevious(old, [plannedProduct('a:1:amd64:default', [plannedVersion('20261110_00:00', 2)], ['a/1'])], { replace: false });
    assert.match(twice.problems.map((p) => p.problem).join('\n'), /would be published twice/);
    const clash = mergeWithPrevious(old, [plannedProduct('c:1:amd64:default', [plannedVersion('20261110_00:00', 5)], ['b/1'])], { replace: false });
    assert.match(clash.problems.map((p) => p.problem).join('\n'), /b\/1/);
  });
});
