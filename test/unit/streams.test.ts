// render/streams.ts: the streams files, deterministic and content-addressed (pure), and the
// part-by-part check of what is rendered (util/check-parts.ts).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planProducts } from '../../generator/plan/products.js';
import { renderStreams } from '../../generator/render/streams.js';
import { DEFAULT_CONFIG } from '../../generator/index.js';
import { hashedImage } from '../support/builders.js';
import { z, ZodError } from 'zod';
import { productsFileSchema } from '../../generator/simplestreams/schema.js';
import { checkInParts } from '../../generator/util/check-parts.js';

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

describe('checking what we render, part by part', () => {
  const rendered = () => {
    const images = [hashedImage('a'), hashedImage('b', { arch: 'aarch64' })];
    const streams = renderStreams(planProducts(images, DEFAULT_CONFIG).plan);
    return JSON.parse(streams.files.get(streams.productsPath)!) as { products: Record<string, Record<string, unknown>> };
  };
  const firstIssue = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof ZodError, String(e));
      return { path: e.issues[0]!.path, message: e.issues[0]!.message };
    }
    return undefined;
  };

  it('gives the verdict parsing the whole document gives, with the same path', () => {
    const good = rendered();
    assert.equal(
      firstIssue(() => checkInParts(productsFileSchema, good, 'products')),
      undefined,
    );
    const breakages: ((doc: ReturnType<typeof rendered>) => void)[] = [
      (d) => (d.products['debian:12:arm64:default']!.aliases = 'has space'),
      (d) => (d.products['debian:12:amd64:default']!.versions = { 'not-a-date': { items: {} } }),
      (d) => ((d as Record<string, unknown>).format = 'products:2.0'),
      (d) => delete d.products['debian:12:amd64:default']!.arch,
    ];
    for (const breakIt of breakages) {
      const doc = rendered();
      breakIt(doc);
      const whole = firstIssue(() => productsFileSchema.parse(doc));
      assert.ok(whole, 'the whole-document parse refuses it');
      assert.deepEqual(
        firstIssue(() => checkInParts(productsFileSchema, doc, 'products')),
        whole,
      );
    }
  });

  it('checks the elements of an array too', () => {
    const schema = z.object({ name: z.string(), items: z.array(z.object({ n: z.number().int() })) });
    assert.equal(
      firstIssue(() => checkInParts(schema, { name: 'x', items: [{ n: 1 }, { n: 2 }] }, 'items')),
      undefined,
    );
    const doc = { name: 'x', items: [{ n: 1 }, { n: 2.5 }] };
    assert.deepEqual(
      firstIssue(() => checkInParts(schema, doc, 'items')),
      firstIssue(() => schema.parse(doc)),
    );
    assert.deepEqual(firstIssue(() => checkInParts(schema, doc, 'items'))?.path, ['items', 1, 'n']);
  });

  it('skips exactly the parts proven before, and proves only the parts that pass', () => {
    const schema = z.object({ items: z.array(z.object({ n: z.number().int() })) });
    const memo = () => {
      const set = new Set<string>();
      return { set, has: (d: string) => set.has(d), add: (d: string) => void set.add(d) };
    };
    const proven = memo();
    checkInParts(schema, { items: [{ n: 1 }, { n: 2 }] }, 'items', proven);
    assert.equal(proven.set.size, 2, 'both parts proven');
    // A failing part is refused, whatever else was proven, and never recorded as proven.
    const bad = { items: [{ n: 1 }, { n: 2.5 }] };
    assert.deepEqual(firstIssue(() => checkInParts(schema, bad, 'items', proven))?.path, ['items', 1, 'n']);
    assert.equal(proven.set.size, 2);
    // Only a part with the very same JSON is skipped: with every digest it sees reported as proven,
    // the bad part passes (it was skipped), so the digest is all that decides.
    const blind = { has: () => true, add() {} };
    assert.equal(
      firstIssue(() => checkInParts(schema, bad, 'items', blind)),
      undefined,
    );
    const fresh = memo();
    checkInParts(schema, { items: [{ n: 2 }, { n: 1 }] }, 'items', fresh);
    assert.deepEqual([...fresh.set].sort(), [...proven.set].sort(), 'a digest depends on the part, not its place');
  });
});
