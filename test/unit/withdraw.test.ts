// plan/withdraw.ts: which published versions `staticstreams withdraw` names (PRODUCT/VERSION in
// either key shape, or a fingerprint prefix), and the products without them.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { selectWithdrawals, withoutWithdrawn } from '../../generator/plan/withdraw.js';
import { hex, plannedProduct, plannedVersion } from '../support/builders.js';

const SINCE = '2026-12-01T00:00:00.000Z';
const products = [
  plannedProduct('a:1:amd64:default', [plannedVersion('20261101_00:00', 1), plannedVersion('20261120_00:00', 2)]),
  plannedProduct('b:1:amd64:default', [plannedVersion('20261101_00:00', 3)]),
];

describe('selectWithdrawals', () => {
  const cases: [string, string[], string[] | RegExp][] = [
    ['PRODUCT/VERSION', ['a:1:amd64:default/20261120_00:00'], ['a:1:amd64:default 20261120_00:00']],
    ['the version key without its colon', ['a:1:amd64:default/20261120_0000'], ['a:1:amd64:default 20261120_00:00']],
    ['a fingerprint prefix of 12', [hex(3).slice(0, 12)], /names 3 versions/],
    ['a whole fingerprint', [hex(3)], ['b:1:amd64:default 20261101_00:00']],
    ['no such version', ['a:1:amd64:default/20991231_00:00'], /publishes no such version or image/],
    ['a prefix too short is no fingerprint', [hex(3).slice(-6)], /publishes no such version or image/],
    ['the same version twice: once', ['a:1:amd64:default/20261120_00:00', hex(2)], ['a:1:amd64:default 20261120_00:00']],
  ];
  for (const [name, targets, expected] of cases)
    it(name, () => {
      const { withdrawn, problems } = selectWithdrawals(products, targets, SINCE);
      if (expected instanceof RegExp) assert.match(problems.map((p) => p.problem).join('\n'), expected);
      else {
        assert.deepEqual(problems, []);
        assert.deepEqual(
          withdrawn.map((w) => `${w.product} ${w.version}`),
          expected,
        );
        assert.ok(withdrawn.every((w) => w.since === SINCE && w.fingerprints.length === 1));
      }
    });
});

describe('withoutWithdrawn', () => {
  it('drops the versions, by name or by an image of theirs, and a product left with none', () => {
    const left = withoutWithdrawn(products, [
      { product: 'a:1:amd64:default', version: '20261120_00:00', fingerprints: [], since: SINCE },
      { product: 'elsewhere', version: 'x', fingerprints: [hex(3)], since: SINCE },
    ]);
    assert.deepEqual(
      left.map((p) => [p.key, p.versions.map((v) => v.key)]),
      [['a:1:amd64:default', ['20261101_00:00']]],
    );
  });
});
