// simplestreams/version-key.ts: version keys from serials and dates, in each shape, and their order.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareVersionKeys,
  isValidVersionKey,
  VERSION_FORMATS,
  versionFormatOf,
  versionKey,
  versionKeyTime,
} from '../../generator/simplestreams/version-key.js';

describe('version keys', () => {
  it("come from a serial that starts with a date, in images.linuxcontainers.org's shape by default", () => {
    for (const [serial, key] of [
      ['20240131_0305', '20240131_03:05'],
      ['20240131_03:05', '20240131_03:05'],
      ['20240131', '20240131_00:00'],
      ['20240131T1122Z', '20240131_11:22'],
      ['202401311122', '20240131_11:22'],
    ])
      assert.equal(versionKey(serial, 1), key, serial);
  });

  it('are written in each shape version_format names, and read back as the shape they are', () => {
    const expected = { 'YYYYMMDD_HH:MM': '20240131_03:05', YYYYMMDD_HHMM: '20240131_0305', YYYYMMDDhhmm: '202401310305', YYYYMMDD: '20240131' };
    for (const format of VERSION_FORMATS) {
      const key = versionKey('20240131_03:05', 1, format);
      assert.equal(key, expected[format], format);
      assert.equal(versionFormatOf(key), format);
      assert.ok(isValidVersionKey(key));
    }
    assert.equal(versionFormatOf('20261101.1'), undefined, 'another shape: none of ours');
    assert.equal(versionFormatOf('20261301_00:00'), undefined, 'not a date');
  });

  it('parse as OpenNebula parses them (%Y%m%d_%H:%M) in the default shape', () => {
    const key = versionKey(undefined, Date.parse('2025-11-15T06:30:00Z') / 1000);
    assert.equal(key, '20251115_06:30');
    assert.match(key, /^\d{8}_\d{2}:\d{2}$/);
  });

  it('fall back to creation_date in UTC otherwise', () => {
    assert.equal(versionKey(undefined, 1700000000), '20231114_22:13');
    assert.equal(versionKey('v1.2', 1700000000), '20231114_22:13');
    assert.equal(versionKey('20241340_0000', 1700000000), '20231114_22:13', 'month 13 is not a date');
    assert.equal(versionKey(undefined, 1700000000, 'YYYYMMDD_HHMM'), '20231114_2213');
  });

  it('are valid for clients only when the first 8 characters are a date', () => {
    assert.ok(isValidVersionKey('20240229_0000'));
    assert.ok(isValidVersionKey('20240229_00:00'));
    assert.ok(!isValidVersionKey('20230229_0000'));
    assert.ok(!isValidVersionKey('v1'));
    assert.ok(!isValidVersionKey('2024-01-01'));
  });

  it('name a time in every shape seen in the wild, or none', () => {
    const t = (iso: string) => Date.parse(iso) / 1000;
    assert.equal(versionKeyTime('20261101_12:30'), t('2026-11-01T12:30:00Z'), 'images.linuxcontainers.org');
    assert.equal(versionKeyTime('20261101_1230'), t('2026-11-01T12:30:00Z'), 'simplestream-maintainer');
    assert.equal(versionKeyTime('202611011230'), t('2026-11-01T12:30:00Z'), 'incus-simplestreams');
    assert.equal(versionKeyTime('20261101'), t('2026-11-01T00:00:00Z'));
    assert.equal(versionKeyTime('20261101.1'), t('2026-11-01T00:00:00Z'));
    assert.equal(versionKeyTime('v1'), 0);
    assert.equal(versionKeyTime('20261301_0000'), 0, 'month 13');
  });

  it('sort in time order whatever their shapes (one day, three shapes: string order gets it wrong)', () => {
    const keys = ['20261101_1200', '202611010900', '20261101_06:00', '20261101', '20261031_23:59'];
    assert.deepEqual([...keys].sort(), ['20261031_23:59', '20261101', '202611010900', '20261101_06:00', '20261101_1200'], 'plain string order');
    assert.deepEqual([...keys].sort(compareVersionKeys), ['20261031_23:59', '20261101', '20261101_06:00', '202611010900', '20261101_1200']);
  });
});
