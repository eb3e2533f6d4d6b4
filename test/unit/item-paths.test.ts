// simplestreams/item-paths: the allow-list every item path read from a tree we did not write
// passes (an upstream to mirror, a previous tree, a tree to verify). Table-driven: what may be
// served as an image file, and what could be a host's configuration or a page on the catalogue's origin.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { itemPathProblem } from '../../generator/simplestreams/item-paths.js';

describe('which item paths a tree may list', () => {
  const allowed = [
    'images/debian/bookworm/amd64/default/20251115_06:30/rootfs.squashfs',
    'images/debian/bookworm/amd64/default/20251115_06:30/lxc-0123456789abcdef/meta.tar.xz',
    'images/x/incus.tar.xz',
    'images/x/disk.qcow2',
    'images/x/delta-20260101_0000.squashfs.vcdiff',
    'images/x/rootfs.tar.zst',
    'images/x/image.tar.gz',
    'images/a+b~c@d,e=f/x.img',
  ];
  for (const rel of allowed) it(`allows ${rel}`, () => assert.equal(itemPathProblem(rel), undefined));

  const refused: [string, RegExp][] = [
    ['_worker.js', /outside the tree's image folder/],
    ['index.html', /outside the tree's image folder/],
    ['streams/v1/index.json', /outside the tree's image folder/],
    ['images/', /outside the tree's image folder/],
    ['images/_headers', /has the name "_headers"/],
    ['images/.well-known/x.tar.xz', /has the name ".well-known"/],
    ['images/a b/x.tar.xz', /has the name "a b"/],
    ['images/../x.tar.xz', /has the name ".."/],
    ['images/x/evil.html', /does not end in an image file extension/],
    ['images/x/x.svg', /does not end in an image file extension/],
    ['images/x/x.tar.xz.js', /does not end in an image file extension/],
  ];
  for (const [rel, why] of refused) it(`refuses ${rel}`, () => assert.match(itemPathProblem(rel) ?? '', why));

  it('allows a tree already published elsewhere to keep files outside images/ (anywhere), with plain names only', () => {
    assert.equal(itemPathProblem('server/releases/noble/release-20240423/ubuntu-24.04-server-cloudimg-amd64.squashfs', { anywhere: true }), undefined);
    assert.match(itemPathProblem('_worker.js', { anywhere: true }) ?? '', /has the name "_worker.js"/);
    assert.match(itemPathProblem('catalog.json', { anywhere: true }) ?? '', /does not end in an image file extension/);
  });
});
