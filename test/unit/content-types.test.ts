// render/cdn/content-types.ts: the Content-Type of a tree file, for serve and a bucket's objects.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contentTypeOf } from '../../generator/render/cdn/content-types.js';

describe('contentTypeOf', () => {
  const cases: [string, string][] = [
    ['streams/v1/index.json', 'application/json'],
    ['products/debian/12/default/index.html', 'text/html; charset=utf-8'],
    ['_astro/site.abc123.css', 'text/css; charset=utf-8'],
    ['images/debian/12/amd64/default/20261206_0300/rootfs.squashfs', 'application/octet-stream'],
    ['images/x/lxd.tar.xz', 'application/x-xz'],
    ['meta/1.0/index-system', 'application/octet-stream'],
    ['a.dir/file', 'application/octet-stream'],
  ];
  for (const [file, type] of cases) it(file, () => assert.equal(contentTypeOf(file), type));
});
