// render/catalog: catalog.json from a plan — the schema it is validated against, versions newest
// first, a unified image's direct-import URL under the base URL, and the folder of a version's
// LXC files.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderCatalog } from '../../generator/render/catalog.js';
import { renderStreams } from '../../generator/render/streams.js';
import { listedFiles } from '../../generator/plan/publication.js';
import type { Plan, PlannedVersion } from '../../generator/plan/products.js';
import { catalogSchema } from '../../generator/formats/catalog.js';
import { hex, plannedFile, plannedProduct, plannedVersion } from '../support/builders.js';

const withLxc = (v: PlannedVersion): PlannedVersion => {
  const dir = 'images/x/20260102_0000/lxc-0123456789abcdef';
  const file = (name: string, n: number) => plannedFile(`${dir}/${name}`, hex(n), n);
  return {
    ...v,
    items: [
      ...v.items,
      { key: 'lxc.meta.tar.xz', ftype: 'lxc.meta.tar.xz', file: file('meta.tar.xz', 50), combined: {} },
      { key: 'root.tar.xz', ftype: 'lxc.rootfs.tar.xz', file: file('rootfs.tar.xz', 51), combined: {} },
    ],
  };
};

describe('catalog.json', () => {
  const products = [plannedProduct('x:1:amd64:default', [plannedVersion('20260101_00:00', 1), withLxc(plannedVersion('20260102_00:00', 2))], ['x/1'])];
  const plan: Plan = { products, files: listedFiles(products), warnings: [] };
  const streams = renderStreams(plan);

  it('passes its schema, newest version first, with the LXC folder of the version that has one', () => {
    const { catalog, text, validate } = renderCatalog(plan, streams, 'https://images.example.org/');
    validate();
    assert.ok(catalogSchema.safeParse(JSON.parse(text)).success);
    assert.equal(catalog.baseUrl, 'https://images.example.org');
    const versions = catalog.products[0]!.versions;
    assert.deepEqual(
      versions.map((v) => [v.version, v.lxc?.dir]),
      [
        ['20260102_00:00', 'images/x/20260102_0000/lxc-0123456789abcdef'],
        ['20260101_00:00', undefined],
      ],
    );
    assert.equal(catalog.streams.products, streams.productsPath);
  });

  it('gives a unified image its direct-import URL under the base URL, and none without one', () => {
    const withBase = renderCatalog(plan, streams, 'https://images.example.org').catalog;
    assert.equal(withBase.products[0]!.versions[0]!.images[0]!.directUrl, `https://images.example.org/import/sha256/${hex(2)}`);
    const without = renderCatalog(plan, streams).catalog;
    assert.equal(without.products[0]!.versions[0]!.images[0]!.directUrl, undefined);
  });
});
