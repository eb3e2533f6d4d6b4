// render/streams.ts: the streams files, deterministic and content-addressed (pure).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planProducts } from '../../generator/plan/products.js';
import { renderStreams } from '../../generator/render/streams.js';
import { DEFAULT_CONFIG } from '../../generator/index.js';
import { hashedImage } from '../support/builders.js';

describe('streams serialization', () => {
  it('is deterministic and content-addresses the products file', () => {
    const images = [hashedImage('a'), hashedImage('b', { arch: 'aarch64' }), hashedImage('u', { rootfs: 'unified', variant: 'u' })];
    const one = renderStreams(planProducts(images, DEFAULT_CONFIG).plan);
    const two = renderStreams(planProducts([...images].reverse(), DEFAULT_CONFIG).plan);
    assert.deepEqual([...one.files], [...two.files]);
    assert.match(one.productsPath, /^streams\/v1\/images-[0-9a-f]{16}\.json$/);
    const index = JSON.parse(one.files.get('streams/v1/index.json')!);
    assert.equal(index.index.images.path, one.productsPath);
    assert.deepEqual(index.index.images.products, ['debian:12:amd64:default', 'debian:12:amd64:u', 'debian:12:arm64:default']);
    const products = JSON.parse(one.files.get(one.productsPath)!);
    const p = products.products['debian:12:amd64:default'];
    assert.equal(typeof p.aliases, 'string');
    for (const v of Object.values(p.versions) as { items: Record<string, { size: unknown; sha256: string }> }[]) {
      for (const item of Object.values(v.items)) {
        assert.ok(Number.isInteger(item.size));
        assert.match(item.sha256, /^[0-9a-f]{64}$/);
      }
    }
  });
});
