import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isValidVersionKey, versionKey } from '../../generator/plan/version-key.js';

describe('version keys', () => {
  it('come from a serial that starts with a date', () => {
    assert.equal(versionKey('20240131_0305', 1), '20240131_0305');
    assert.equal(versionKey('20240131_03:05', 1), '20240131_0305');
    assert.equal(versionKey('20240131', 1), '20240131_0000');
    assert.equal(versionKey('20240131T1122Z', 1), '20240131_1122');
  });

  it('fall back to creation_date in UTC otherwise', () => {
    assert.equal(versionKey(undefined, 1700000000), '20231114_2213');
    assert.equal(versionKey('v1.2', 1700000000), '20231114_2213');
    assert.equal(versionKey('20241340_0000', 1700000000), '20231114_2213', 'month 13 is not a date');
  });

  it('are valid for clients only when the first 8 characters are a date', () => {
    assert.ok(isValidVersionKey('20240229_0000'));
    assert.ok(!isValidVersionKey('20230229_0000'));
    assert.ok(!isValidVersionKey('v1'));
    assert.ok(!isValidVersionKey('2024-01-01'));
  });
});
