// render/cdn/cache-rules: the caching and CORS policy every host renderer translates. Its promise:
// no two rules that can match one path set the same header (hosts that apply every matching rule
// would join the values), and each kind of file gets the cache its naming allows.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CACHE_RULES, IMMUTABLE, SHORT } from '../../generator/render/cdn/cache-rules.js';

const matches = (pattern: string, p: string) => (pattern.endsWith('*') ? p.startsWith(pattern.slice(0, -1)) : p === pattern);
const headersFor = (p: string) => {
  const seen = new Map<string, string[]>();
  for (const r of CACHE_RULES) if (matches(r.pattern, p)) for (const [h, v] of Object.entries(r.headers)) seen.set(h, [...(seen.get(h) ?? []), v]);
  return seen;
};

describe('the cache and CORS rules', () => {
  const paths: [string, string | undefined, boolean][] = [
    // path, Cache-Control, CORS
    ['/streams/v1/index.json', SHORT, true],
    ['/streams/v1/images.json', SHORT, true],
    ['/streams/v1/images-0123456789abcdef.json', IMMUTABLE, true],
    ['/images/debian/12/amd64/default/20260101_0000/rootfs-0123456789abcdef.squashfs', IMMUTABLE, false],
    ['/images/x/lxc-0123456789abcdef/rootfs.tar.xz', IMMUTABLE, false],
    ['/meta/1.0/index-system.7', SHORT, true],
    ['/catalog.json', SHORT, true],
    ['/_astro/index.abc123.css', IMMUTABLE, false],
    ['/index.html', undefined, false],
  ];
  for (const [p, cache, cors] of paths)
    it(`${p}: ${cache ?? 'no cache rule'}${cors ? ', CORS' : ''}`, () => {
      const h = headersFor(p);
      for (const [name, values] of h) assert.equal(values.length, 1, `${name} set by ${values.length} rules`);
      assert.equal(h.get('Cache-Control')?.[0], cache);
      assert.equal(h.get('Access-Control-Allow-Origin')?.[0], cors ? '*' : undefined);
    });
});
