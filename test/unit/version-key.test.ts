import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isValidVersionKey, versionKey, versionKeyTime } from '../../generator/simplestreams/version-key.js';

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

  it('name a time in every shape seen in the wild, or none', () => {
    const t = (iso: string) => Date.parse(iso) / 1000;
    assert.equal(versionKeyTime('20261101_1230'), t('2026-11-01T12:30:00Z'), 'ours and simplestream-maintainer');
    assert.equal(versionKeyTime('202611011230'), t('2026-11-01T12:30:00Z'), 'incus-simplestreams');
    assert.equal(versionKeyTime('20261101'), t('2026-11-01T00:00:00Z'));
    assert.equal(versionKeyTime('20261101.1'), t('2026-11-01T00:00:00Z'));
    assert.equal(versionKeyTime('v1'), 0);
    assert.equal(versionKeyTime('20261301_0000'), 0, 'month 13');
  });
});
