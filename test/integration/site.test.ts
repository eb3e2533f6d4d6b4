// The catalogue site as the build renders it: from the sample images through the CLI, and from a
// synthetic catalog of 3,300 products (1,100 pages) through the library, with every product page present,
// Pagefind's index written, and metadata text escaped; a site that fails mid-build publishes nothing;
// a page deleted from the output is written again by the next build.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
// Internal: the site stage on its own (rendering without a whole build), and the shapes it reads.
import { placeSite, renderSite } from '../../generator/publish/site.js';
import { catalogSchema } from '../../generator/formats/catalog.js';
import { groupProducts } from '../../generator/formats/groups.js';
import { syntheticCatalog } from '../support/catalog.js';
import { tempDir } from '../support/tmp.js';
import { build, DEFAULT_CONFIG } from '../../generator/index.js';
import { hashTree } from '../support/tree-hash.js';

const CLI = path.resolve('bin/staticstreams.js');
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

test('build renders the site from the sample images, with a page per product and the configured branding', async (t) => {
  const dir = await tempDir(t);
  await import('node:fs/promises').then((fs) => fs.writeFile(path.join(dir, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>'));
  await import('node:fs/promises').then((fs) =>
    fs.writeFile(
      path.join(dir, 'staticstreams.yaml'),
      'site:\n  title: Acme <Images>\n  description: Images for Acme & friends\n  logo: logo.svg\n  remote_name: acme\n',
    ),
  );
  execFileSync(
    process.execPath,
    [
      CLI,
      'build',
      '--images',
      'images',
      '--out',
      path.join(dir, 'dist'),
      '--config',
      path.join(dir, 'staticstreams.yaml'),
      '--base-url',
      'https://images.example.org',
      '-q',
    ],
    { stdio: 'pipe' },
  );
  const out = path.join(dir, 'dist');
  const catalog = catalogSchema.parse(JSON.parse(await readFile(path.join(out, 'catalog.json'), 'utf8')));
  const home = await readFile(path.join(out, 'index.html'), 'utf8');
  assert.match(home, /<title>Acme &lt;Images&gt;<\/title>/);
  assert.match(home, /Images for Acme &amp; friends/);
  assert.match(home, /lxc remote add acme https:\/\/images\.example\.org --protocol simplestreams/);
  assert.match(home, /incus remote add acme https:\/\/images\.example\.org --protocol simplestreams/);
  assert.ok(await exists(path.join(out, 'logo.svg')));
  for (const g of groupProducts(catalog)) {
    const page = await readFile(path.join(out, 'products', g.slug, 'index.html'), 'utf8');
    for (const m of g.members)
      for (const v of m.versions) for (const i of v.images) assert.ok(page.includes(i.fingerprint), `${g.slug} shows ${i.fingerprint}`);
    assert.ok(home.includes(`href="/products/${g.slug}/"`), `the home page links ${g.slug}`);
  }
  assert.ok(await exists(path.join(out, 'pagefind', 'pagefind.js')), 'the search index is written');
  assert.deepEqual(await readdir(path.join(out)).then((n) => n.filter((x) => x.startsWith('.'))), [], 'no scratch folder left behind');

  execFileSync(process.execPath, [CLI, 'build', '--images', 'images', '--out', path.join(dir, 'plain'), '--no-site', '-q'], { stdio: 'pipe' });
  assert.equal(await exists(path.join(dir, 'plain', 'index.html')), false, '--no-site leaves the site out');
  assert.ok(await exists(path.join(dir, 'plain', 'catalog.json')));
});

test('the site builds for 3,300 products on 1,100 pages, every page exists, and metadata text is escaped', async (t) => {
  const dir = await tempDir(t);
  const evil = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';
  const catalog = syntheticCatalog(3300, { description: (i) => (i === 0 ? evil : `image number ${i}`), baseUrl: 'https://images.example.org/lxd' });
  const started = Date.now();
  const { pages } = await renderSite({ dir, catalog, settings: DEFAULT_CONFIG.site, builtAt: new Date('2026-11-23T00:00:00Z') });
  await placeSite(dir);
  t.diagnostic(`3,300 products (${pages} pages) rendered in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const groups = groupProducts(catalog);
  assert.equal(pages, groups.length + 1);
  const home = await readFile(path.join(dir, 'index.html'), 'utf8');
  assert.equal((home.match(/<tr data-slug=/g) ?? []).length, groups.length);
  for (const g of groups) assert.ok(await exists(path.join(dir, 'products', g.slug, 'index.html')), `page for ${g.slug}`);
  assert.ok(home.includes('href="/lxd/products/'), 'links carry the base path of the base URL');
  const evilPage = await readFile(
    path.join(dir, 'products', groups.find((g) => g.members.some((m) => m.versions[0]!.images[0]!.description === evil))!.slug, 'index.html'),
    'utf8',
  );
  assert.ok(groups.length >= 1000);
  const markup = evilPage.replace(/="[^"]*"/g, '=""'); // attribute values may hold < safely
  assert.ok(!markup.includes('<script>window.__pwned'), 'no script tag from metadata');
  assert.ok(!markup.includes('<img src=x'), 'no element from metadata');
  assert.ok(evilPage.includes('&lt;script&gt;window.__pwned=1&lt;/script&gt;'), 'shown as text');
});

/** The sample images copied into a temporary folder and built once, with the site, into dist/ there. */
async function builtSamples(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const images = path.join(dir, 'images');
  await cp(path.resolve('images'), images, { recursive: true });
  const out = path.join(dir, 'dist');
  const opts = { images, out, now: new Date('2026-11-23T00:00:00Z'), baseUrl: 'https://images.example.org' };
  await build(opts);
  return { dir, out, opts };
}

test('a site build that fails while the tree is written leaves the previous output and the current folder as they were', async (t) => {
  const { dir, out, opts } = await builtSamples(t);
  const before = await hashTree(out);
  // The site fails once the files are being written: its logo is a folder.
  await mkdir(path.join(dir, 'logo.svg'));
  const config = { ...DEFAULT_CONFIG, site: { ...DEFAULT_CONFIG.site, logo: path.join(dir, 'logo.svg') } };
  const cwd = process.cwd();
  await assert.rejects(build({ ...opts, config }), /cannot read the site logo/);
  assert.equal(process.cwd(), cwd, 'the current folder is the one before the build');
  assert.equal(await hashTree(out), before, 'the output is byte-identical');
  assert.deepEqual(
    (await readdir(dir)).filter((n) => n.startsWith('.dist')),
    ['.dist.cache.json'],
    'no staging folder left next to the output',
  );
});

test('a rebuild that would change nothing writes nothing, unless a page of the site is missing from the output', async (t) => {
  const { out, opts } = await builtSamples(t);
  const home = (await stat(path.join(out, 'index.html'))).ino;
  await build(opts);
  assert.equal((await stat(path.join(out, 'index.html'))).ino, home, 'nothing rewritten when nothing changed');
  const slug = groupProducts(catalogSchema.parse(JSON.parse(await readFile(path.join(out, 'catalog.json'), 'utf8'))))[0]!.slug;
  for (const page of [`products/${slug}/index.html`, `products/${slug}/feed.xml`, 'pagefind/pagefind.js']) {
    await rm(path.join(out, page));
    await build(opts);
    assert.ok(await exists(path.join(out, page)), `${page} is written again`);
  }
});

test('a product whose newest build is split and an older one unified: the Import line names the version it imports', async (t) => {
  const dir = await tempDir(t);
  const { put, unifiedTarball, metadataTarball, rootTarball } = await import('../support/images.js');
  await put(path.join(dir, 'images/old.tar.gz'), await unifiedTarball({ os: 'mixed', release: '1', serial: '20261101_00:00' }, 'old'));
  await put(path.join(dir, 'images/new/lxd.tar.xz'), await metadataTarball({ os: 'mixed', release: '1', serial: '20261120_00:00' }));
  await put(path.join(dir, 'images/new/rootfs.tar.xz'), await rootTarball('new'));
  await build({ images: path.join(dir, 'images'), out: path.join(dir, 'out'), baseUrl: 'https://images.example.org', now: new Date('2026-12-01T00:00:00Z') });
  const html = await readFile(path.join(dir, 'out/products/mixed/1/default/index.html'), 'utf8');
  assert.match(html, /Import \(20261101_00:00\)/);
  assert.match(html, /Direct import takes the newest unified image \(20261101_00:00\); launch takes the newest build \(20261120_00:00\)/);
});
