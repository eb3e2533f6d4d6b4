// plan/retention.ts: retention (never the newest) and the grace list (pure).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyRetention, carryGrace } from '../../generator/plan/retention.js';
import { versionKeyTime } from '../../generator/simplestreams/version-key.js';
import type { PlannedProduct } from '../../generator/plan/products.js';
import { hex, plannedProduct, plannedVersion } from '../support/builders.js';

const DAY = 86_400;

describe('retention', () => {
  const now = versionKeyTime('20261120_00:00');
  const p = plannedProduct('a:1:amd64:default', [
    plannedVersion('20261001_00:00', 1),
    plannedVersion('20261101_00:00', 2),
    plannedVersion('20261110_00:00', 3),
    plannedVersion('20261119_00:00', 4),
  ]);
  const keys = (ps: PlannedProduct[]) => ps[0]!.versions.map((v) => v.key);

  it('keeps the N newest with keep, exactly N (not N+1)', () => {
    assert.deepEqual(keys(applyRetention([p], { keep: 2 }, now).products), ['20261110_00:00', '20261119_00:00']);
    assert.deepEqual(keys(applyRetention([p], { keep: 1 }, now).products), ['20261119_00:00']);
    assert.deepEqual(
      applyRetention([p], { keep: 1 }, now)
        .dropped.map((d) => d.version)
        .sort(),
      ['20261001_00:00', '20261101_00:00', '20261110_00:00'],
    );
  });

  it('drops versions older than the days given, counted from the clock', () => {
    assert.deepEqual(keys(applyRetention([p], { days: 15 }, now).products), ['20261110_00:00', '20261119_00:00']);
    assert.deepEqual(keys(applyRetention([p], { days: 15 }, now + 30 * DAY).products), ['20261119_00:00'], 'never the newest, however old');
  });

  it('drops what either limit drops, and nothing without a policy', () => {
    assert.deepEqual(keys(applyRetention([p], { keep: 3, days: 15 }, now).products), ['20261110_00:00', '20261119_00:00']);
    assert.equal(applyRetention([p], {}, now).products[0], p);
  });
});

describe('the grace list', () => {
  const h = 3_600_000;
  const t0 = Date.parse('2026-11-20T00:00:00Z');
  const file = (path: string) => ({ path, sha256: hex(1), size: 1, reason: 'test' });

  it('adds files this run stops listing, with the time they were dropped', () => {
    const { keep, expired } = carryGrace([], [file('images/old'), file('images/old')], new Set(['images/new']), t0, 6 * h);
    assert.deepEqual(keep, [{ ...file('images/old'), since: '2026-11-20T00:00:00.000Z' }]);
    assert.deepEqual(expired, []);
  });

  it('keeps entries until the grace period is over, then lists them as expired', () => {
    const entry = { ...file('images/old'), since: new Date(t0).toISOString() };
    assert.deepEqual(carryGrace([entry], [], new Set(), t0 + 5 * h, 6 * h).keep, [entry]);
    const later = carryGrace([entry], [], new Set(), t0 + 6 * h, 6 * h);
    assert.deepEqual(later.keep, []);
    assert.deepEqual(later.expired, [entry]);
  });

  it('forgets an entry that is listed again', () => {
    const entry = { ...file('images/old'), since: new Date(t0).toISOString() };
    assert.deepEqual(carryGrace([entry], [], new Set(['images/old']), t0 + h, 6 * h), { keep: [], expired: [] });
  });
});
