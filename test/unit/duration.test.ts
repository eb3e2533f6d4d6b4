// util/duration.ts: durations as the flags and the config give them.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../generator/util/duration.js';

describe('durations and times', () => {
  it('reads 90m, 6h, 2d and ISO times, and names the flag when it cannot', () => {
    assert.equal(parseDuration('90m', '--grace'), 90 * 60_000);
    assert.equal(parseDuration('6h', '--grace'), 6 * 3_600_000);
    assert.equal(parseDuration('2d', '--grace'), 2 * 86_400_000);
    assert.throws(() => parseDuration('6 hours', '--grace'), /--grace must be a duration/);
  });
});
