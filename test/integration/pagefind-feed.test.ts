// The site's search index is fed pages as Astro renders them, several at once: pages handed to the
// feed in any order give the same index, byte for byte, as pages added one by one in list order
// (real Pagefind, both indexes written); a page never rendered or rendered twice is reported.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { close, createIndex } from 'pagefind';
import { PageFeed, type RenderedPage } from '../../site/src/lib/pagefind-feed.js';
import { tempDir } from '../support/tmp.js';

after(() => close());

function pages(count: number): RenderedPage[] {
  return Array.from({ length: count }, (_, position) => ({
    position,
    sourcePath: `products/os${position % 7}/r${position}/default/index.html`,
    content: `<html lang="en"><body><article data-pagefind-body><h1>os${position % 7} r${position}</h1><p>release ${position} word${position * 31} ${'shared text '.repeat(position % 5)}</p></article></body></html>`,
  }));
}

async function written(index: Awaited<ReturnType<typeof createIndex>>['index'] & object, dir: string): Promise<string> {
  const out = await index.writeFiles({ outputPath: dir });
  assert.deepEqual(out.errors, []);
  const hash = createHash('sha256');
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  assert.ok(files.some((f) => f.name.endsWith('.pf_fragment')));
  for (const f of files.map((e) => path.join(e.parentPath, e.name)).sort()) hash.update(path.relative(dir, f)).update(await readFile(f));
  return hash.digest('hex');
}

test('pages offered out of order index exactly as pages added one by one in list order', async (t) => {
  const dir = await tempDir(t);
  const list = pages(60);

  const inOrder = (await createIndex({ forceLanguage: 'en' })).index!;
  for (const page of list) assert.deepEqual((await inOrder.addHTMLFile(page)).errors, []);
  const expected = await written(inOrder, path.join(dir, 'in-order'));

  // Astro finishes pages in a shuffled order (a fixed shuffle, so a failure can be replayed).
  const shuffled = [...list].sort((a, b) => ((a.position * 37) % 61) - ((b.position * 37) % 61));
  assert.notDeepEqual(
    shuffled.map((p) => p.position),
    list.map((p) => p.position),
  );
  const fed = (await createIndex({ forceLanguage: 'en' })).index!;
  const feed = new PageFeed(fed);
  for (const page of shuffled) feed.offer(page);
  await feed.finish();
  assert.deepEqual(feed.errors, []);
  assert.equal(feed.added.length, list.length);
  assert.equal(await written(fed, path.join(dir, 'fed')), expected, 'the same index files, byte for byte');
});

test('a page never rendered holds back the pages after it, and both are reported; so is a page rendered twice', async () => {
  const list = pages(5);
  const index = (await createIndex({ forceLanguage: 'en' })).index!;
  const feed = new PageFeed(index);
  for (const page of [list[0]!, list[2]!, list[3]!, list[0]!]) feed.offer(page);
  await feed.finish();
  assert.deepEqual(feed.added, [list[0]!.sourcePath]);
  assert.deepEqual(feed.errors, [
    `${list[0]!.sourcePath}: rendered twice`,
    `${list[2]!.sourcePath}: a page before it in the list was never rendered`,
    `${list[3]!.sourcePath}: a page before it in the list was never rendered`,
  ]);
});
