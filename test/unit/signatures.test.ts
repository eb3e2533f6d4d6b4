// render/signatures.ts: what a signed tree signs, how, and with which time — a table of the
// rendered streams' paths, and SHA256SUMS per version folder (pure: no key involved).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planSignatures } from '../../generator/render/signatures.js';
import { plannedProduct, plannedVersion, hex } from '../support/builders.js';
import type { Plan } from '../../generator/plan/products.js';

const planOf = (products: Plan['products']): Plan => ({ products, files: [], warnings: [] }) as unknown as Plan;

describe('planSignatures', () => {
  const streams = new Map([
    ['streams/v1/index.json', `${JSON.stringify({ format: 'index:1.0', index: { images: { path: 'streams/v1/images-1.json' } } }, null, 1)}\n`],
    ['streams/v1/images-1.json', '{"products":{}}\n'],
    ['streams/v1/images.json', '{"products":{}}\n'],
    ['meta/1.0/index-system', 'd;r;amd64;default;1;/images/x/\n'],
    ['_headers', '/x\n  A: b\n'],
  ]);

  it("signs each document as its consumers expect, at the streams' own time", () => {
    const { jobs } = planSignatures(planOf([]), streams, 1000);
    const table = jobs.map((j) => [j.path, j.form, j.time]);
    assert.deepEqual(table, [
      ['streams/v1/index.sjson', 'clear', 1000],
      ['streams/v1/index.json.gpg', 'detached', 1000],
      ['streams/v1/images-1.sjson', 'clear', 1000],
      ['streams/v1/images-1.json.gpg', 'detached', 1000],
      ['streams/v1/images.sjson', 'clear', 1000],
      ['streams/v1/images.json.gpg', 'detached', 1000],
      ['meta/1.0/index-system.asc', 'detached', 1000],
    ]);
    const index = jobs.find((j) => j.path === 'streams/v1/index.sjson')!;
    assert.equal(JSON.parse(index.text).index.images.path, 'streams/v1/images-1.sjson', 'the signed index names the signed products');
    assert.equal(
      jobs.find((j) => j.path === 'streams/v1/index.json.gpg')!.text,
      streams.get('streams/v1/index.json'),
      'the detached signature is over index.json as served',
    );
  });

  it("writes one SHA256SUMS per version folder, signed at the version's newest image time", () => {
    const a1 = plannedVersion('20260101_0000', 1);
    const a2 = plannedVersion('20260102_0000', 2);
    const { texts, jobs } = planSignatures(planOf([plannedProduct('x:1:amd64:default', [a1, a2])]), new Map(), 0);
    assert.deepEqual([...texts.keys()], ['images/x/20260101_0000/SHA256SUMS', 'images/x/20260102_0000/SHA256SUMS']);
    assert.equal(texts.get('images/x/20260101_0000/SHA256SUMS'), `${hex(1)}  image-${hex(1).slice(0, 16)}.tar.gz\n`, 'a file two items share is listed once');
    const sums = jobs.filter((j) => j.path.endsWith('SHA256SUMS.asc'));
    assert.deepEqual(
      sums.map((j) => [j.path, j.time]),
      [
        ['images/x/20260101_0000/SHA256SUMS.asc', a1.images[0]!.created],
        ['images/x/20260102_0000/SHA256SUMS.asc', a2.images[0]!.created],
      ],
    );
    assert.equal(sums[0]!.text, texts.get('images/x/20260101_0000/SHA256SUMS'));
  });

  it('versions sharing a folder share one SHA256SUMS listing all their files', () => {
    const v1 = plannedVersion('20260101_0000', 1);
    const v2 = plannedVersion('20260102_0000', 2);
    for (const v of [v1, v2]) for (const i of v.items) i.file = { ...i.file, path: `images/${i.file.sha256.slice(-4)}.tar.gz` };
    const { texts } = planSignatures(planOf([plannedProduct('x:1:amd64:default', [v1, v2])]), new Map(), 0);
    assert.deepEqual([...texts.keys()], ['images/SHA256SUMS']);
    assert.equal(texts.get('images/SHA256SUMS')!.split('\n').filter(Boolean).length, 2);
  });
});
