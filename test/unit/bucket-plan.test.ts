// publish/bucket/plan.ts: what a build uploads to the bucket, confirms, or trusts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planBucketSync } from '../../generator/publish/bucket/plan.js';
import type { PlannedFile } from '../../generator/plan/products.js';
import { configSchema, type ObjectStorageSettings } from '../../generator/index.js';
import { plannedFile } from '../support/builders.js';

const settings = (o: Partial<ObjectStorageSettings> = {}): ObjectStorageSettings =>
  configSchema.parse({ object_storage: { bucket: 'b', public_url: 'https://files.example.org/', prefix: 'lxd/', ...o } }).object_storage!;
const input = (p: string, size = 10): PlannedFile => ({ origin: { kind: 'input', path: `/in/${p}`, rel: p }, path: p, sha256: 'a'.repeat(64), size });
const previous = (p: string, size = 10): PlannedFile => plannedFile(p, 'b'.repeat(64), size);

describe('planning the bucket sync', () => {
  const s = settings();
  it('uploads what is missing, confirms new files of the same size, trusts previous files of their size', () => {
    const files = [
      input('images/new'),
      input('images/rerun'),
      input('images/resized'),
      previous('images/old'),
      previous('images/lost'),
      previous('streams/v1/images-x.json'),
    ];
    const existing = new Map([
      ['lxd/images/rerun', 10],
      ['lxd/images/resized', 7],
      ['lxd/images/old', 10],
      ['lxd/images/gone', 5],
      ['lxd/images/stray', 1],
    ]);
    const plan = planBucketSync(s, files, existing, ['images/gone', 'images/never-uploaded', 'streams/v1/images-y.json']);
    assert.deepEqual(
      plan.upload.map((f) => f.path),
      ['images/new', 'images/resized', 'images/lost'],
    );
    assert.deepEqual(
      plan.confirm.map((f) => f.path),
      ['images/rerun'],
    );
    assert.deepEqual(
      plan.present.map((f) => f.path),
      ['images/old'],
    );
    assert.deepEqual(plan.remove, ['lxd/images/gone'], 'only expired files the bucket holds; strays are left alone');
    assert.deepEqual(plan.problems, []);
  });

  it('refuses when a listed file of the previous tree has another size in the bucket', () => {
    const plan = planBucketSync(s, [previous('images/old', 10)], new Map([['lxd/images/old', 3]]), []);
    assert.equal(plan.problems.length, 1);
    assert.match(plan.problems[0]!.problem, /s3:\/\/b\/lxd\/images\/old is 3 bytes, but the published tree lists it with 10/);
  });

  it('never deletes a file that is still listed or kept', () => {
    const plan = planBucketSync(s, [previous('images/a')], new Map([['lxd/images/a', 10]]), ['images/a']);
    assert.deepEqual(plan.remove, []);
  });
});
