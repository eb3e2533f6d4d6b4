// `verify` and `build --previous` read a tree through the same simplestreams module, so they
// must agree on every tree: one that verify passes is carried over, one verify fails with an
// error is refused by the build, which publishes nothing. Trees: ours, a simplestream-maintainer
// shaped one, and each of them broken in one way a client would notice.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { metadataTarball, put, squashfs, unifiedTarball } from '../support/images.js';
import { maintainerTree } from '../support/peer-trees.js';
import { requirements } from '../support/require.js';
import { tempDir } from '../support/tmp.js';
import { build, verifyTree } from '../../generator/index.js';

type Products = { products: Record<string, { versions: Record<string, { items: Record<string, Record<string, unknown>> }> } & Record<string, unknown>> };

/** Applies `change` to the tree's products file (the one index.json names). */
function editProducts(tree: string, change: (p: Products) => void): void {
  const index = JSON.parse(readFileSync(path.join(tree, 'streams/v1/index.json'), 'utf8')) as { index: Record<string, { path: string }> };
  const file = path.join(tree, Object.values(index.index)[0]!.path);
  const products = JSON.parse(readFileSync(file, 'utf8')) as Products;
  change(products);
  writeFileSync(file, JSON.stringify(products));
}
const firstVersion = (p: Products) => Object.values(Object.values(p.products)[0]!.versions)[0]!;
const firstProduct = (p: Products) => Object.values(p.products)[0]!;

const BREAKAGES: [string, (tree: string) => void][] = [
  ['intact', () => {}],
  [
    'a version key clients skip',
    (t) =>
      editProducts(t, (p) => {
        const prod = firstProduct(p);
        const [k, v] = Object.entries(prod.versions)[0]!;
        delete prod.versions[k];
        prod.versions[`v-${k}`] = v;
      }),
  ],
  ['a product without os', (t) => editProducts(t, (p) => void delete firstProduct(p).os)],
  ['an item whose sha256 is not hex', (t) => editProducts(t, (p) => void (Object.values(firstVersion(p).items)[0]!.sha256 = 'NOT-HEX'))],
  ['an item path outside the tree', (t) => editProducts(t, (p) => void (Object.values(firstVersion(p).items)[0]!.path = '../outside'))],
  [
    'a file that does not match its sha256',
    (t) =>
      editProducts(t, (p) => {
        const item = Object.values(firstVersion(p).items)[0]!;
        writeFileSync(path.join(t, item.path as string), Buffer.alloc(item.size as number, 1));
      }),
  ],
  [
    'a missing file',
    (t) =>
      editProducts(t, (p) => {
        const item = Object.values(firstVersion(p).items)[0]!;
        writeFileSync(path.join(t, item.path as string), '');
      }),
  ],
  ['a size of the wrong type', (t) => editProducts(t, (p) => void (Object.values(firstVersion(p).items)[0]!.size = '12'))],
];

const TREES: [string, (dir: string) => Promise<string>, string[]][] = [
  [
    'a staticstreams tree',
    async (dir) => {
      await put(path.join(dir, 'in/u.tar.gz'), await unifiedTarball({ os: 'agree', release: '1', serial: '20261101_0000' }, 'u'));
      await build({ images: path.join(dir, 'in'), out: path.join(dir, 'tree'), site: false });
      return path.join(dir, 'tree');
    },
    [],
  ],
  [
    'a simplestream-maintainer-shaped tree',
    async (dir) => {
      const meta = await metadataTarball({ os: 'agree', release: '2', serial: '20261101_0000' });
      maintainerTree(path.join(dir, 'tree'), { os: 'agree', release: '2', arch: 'amd64', variant: 'default', aliases: 'agree/2' }, [
        { key: '20261101_0000', meta, squashfs: await squashfs([{ name: 'marker', content: 'x' }]) },
      ]);
      return path.join(dir, 'tree');
    },
    ['mksquashfs'],
  ],
];

for (const [name, make, tools] of TREES) {
  describe(`verify and build --previous agree on ${name}`, { skip: requirements(tools) }, () => {
    for (const [breakage, apply] of BREAKAGES) {
      it(breakage, async (t) => {
        const dir = await tempDir(t);
        const tree = await make(dir);
        apply(tree);
        const report = await verifyTree(tree);
        const errors = report.problems.filter((p) => p.severity === 'error');
        const out = path.join(dir, 'out');
        const built = await build({ previous: tree, out, site: false }).then(
          () => null,
          (e: Error) => e,
        );
        if (errors.length === 0) assert.equal(built, null, `verify passes it, so the build carries it over (build said: ${built?.message})`);
        else {
          assert.ok(built, `verify finds ${errors.map((e) => e.message).join('; ')}, so the build must refuse it`);
          assert.ok(!existsSync(out), 'and publishes nothing');
        }
        assert.equal(errors.length === 0, breakage === 'intact', `verify ${errors.length ? 'fails' : 'passes'} the tree with ${breakage}`);
      });
    }
  });
}
