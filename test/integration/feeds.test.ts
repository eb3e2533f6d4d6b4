// The Atom feeds of new builds, read with a real feed parser: the server's feed.xml and one per
// product page list exactly the versions catalog.json has (one entry per version and
// architecture), newest first, each with the launch commands and fingerprints; every page links
// them with <link rel="alternate">; a title with markup is escaped.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseFeed } from '@rowanmanning/feed-parser';
// Internal: the catalogue's grouping, to know which feed each product group gets.
import { groupProducts } from '../../generator/formats/groups.js';
import { tempDir } from '../support/tmp.js';
import { build, loadConfig } from '../../generator/index.js';

describe('Atom feeds of new builds', () => {
  it('list every version of the catalog, newest first, and are linked from the pages', async (t) => {
    const dir = await tempDir(t);
    await cp(path.resolve('images'), path.join(dir, 'images'), { recursive: true });
    await writeFile(path.join(dir, 'staticstreams.yaml'), 'site:\n  title: "Images & <more>"\n  remote_name: mine\n');
    const out = path.join(dir, 'out');
    const { catalog } = await build({
      images: path.join(dir, 'images'),
      out,
      baseUrl: 'https://images.example.org',
      config: await loadConfig(path.join(dir, 'staticstreams.yaml'), true),
    });
    const groups = groupProducts(catalog);

    const all = parseFeed(await readFile(path.join(out, 'feed.xml'), 'utf8'));
    assert.equal(all.title, 'Images & <more>', 'the title survives escaping');
    const expected = catalog.products.flatMap((p) => p.versions.map((v) => ({ arch: p.arch, version: v.version, fps: v.images.map((i) => i.fingerprint) })));
    assert.equal(all.items.length, expected.length, 'one entry per version and architecture');
    const dates = all.items.map((i) => i.updated!.getTime());
    assert.deepEqual(
      dates,
      [...dates].sort((a, b) => b - a),
      'newest first',
    );
    for (const e of expected) {
      const item = all.items.find((i) => i.title?.endsWith(` ${e.arch} ${e.version}`) && e.fps.every((fp) => i.content?.includes(fp)));
      assert.ok(item, `an entry for ${e.arch} ${e.version} with its fingerprints`);
      assert.match(item.content!, /lxc: lxc launch mine:\S+ c1/);
      assert.match(item.url!, /^https:\/\/images\.example\.org\/products\//);
    }

    for (const group of groups) {
      const feed = parseFeed(await readFile(path.join(out, 'products', group.slug, 'feed.xml'), 'utf8'));
      const versions = group.members.flatMap((m) => m.versions.map((v) => `${m.arch} ${v.version}`)).sort();
      assert.deepEqual(feed.items.map((i) => i.title!.split(' ').slice(-2).join(' ')).sort(), versions, `${group.slug}: exactly its versions`);
      const page = await readFile(path.join(out, 'products', group.slug, 'index.html'), 'utf8');
      assert.match(page, new RegExp(`<link rel="alternate" type="application/atom\\+xml" href="/products/${group.slug}/feed.xml"`));
      assert.match(page, /<link rel="alternate" type="application\/atom\+xml" href="\/feed.xml"/);
    }
    assert.match(await readFile(path.join(out, 'index.html'), 'utf8'), /<link rel="alternate" type="application\/atom\+xml" href="\/feed.xml"/);
  });
});
