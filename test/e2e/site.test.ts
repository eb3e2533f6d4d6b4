// The catalogue site in real headless Chromium (Debian's chromium, driven by playwright-core),
// served by `staticstreams serve`'s preview server from a tree built out of the sample images
// plus a few more: filters and search narrow the table to what the catalog says, a product page
// shows its fingerprints and commands, copy buttons fill the clipboard, the in-browser verifier
// tells a published file from another, nothing is fetched from off this machine, no console
// errors, metadata text stays text, the page works without JavaScript and at phone width, and a
// page on another origin reads streams/v1/images.json (CORS, as the Incus and LXD web UIs need).
// Screenshots land in build/screenshots/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { requirements } from '../support/require.js';
import { compress, metadataTarball, put, tarball, unifiedTarball } from '../support/images.js';
import { machineDpkgStatus } from '../support/package-dbs.js';
import { build, type Catalog, startPreview, type RunningPreview } from '../../generator/index.js';

const skip = requirements(['chromium']);
const SHOTS = path.resolve('build/screenshots');
const EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
const OLD = Date.parse('2025-01-15T00:00:00Z') / 1000;

interface Row {
  slug: string;
  os: string;
  release: string;
  variant: string;
  arches: Set<string>;
  types: Set<string>;
  text: string;
}

/** The home page's rows as the catalog defines them: one per OS/release/variant. */
function expectedRows(catalog: Catalog): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const p of catalog.products) {
    const slug = `${p.os}/${p.release}/${p.variant}`;
    const row = rows.get(slug) ?? { slug, os: p.os, release: p.release, variant: p.variant, arches: new Set(), types: new Set(), text: '' };
    row.arches.add(p.arch);
    for (const v of p.versions)
      for (const i of v.images) {
        row.types.add(i.type);
        row.text += ` ${i.description ?? ''}`;
      }
    rows.set(slug, row);
  }
  return rows;
}

const sorted = (xs: Iterable<string>) => [...xs].sort();
/** The alias people type: the fewest parts, then the shortest. */
const shortAlias = (aliases: string[]) =>
  [...new Set(aliases)].sort((a, b) => a.split('/').length - b.split('/').length || a.length - b.length || (a < b ? -1 : 1))[0]!;

describe('the catalogue site in Chromium', { skip }, () => {
  let work: string;
  let out: string;
  let catalog: Catalog;
  let rows: Map<string, Row>;
  let server: RunningPreview;
  let browser: Browser;
  let context: BrowserContext;
  const offsite: string[] = [];
  const consoleErrors: string[] = [];

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ss-site-e2e-'));
    const images = path.join(work, 'images');
    await cp(path.resolve('images'), images, { recursive: true });
    await put(
      path.join(images, 'alpine.tar.gz'),
      await unifiedTarball({ os: 'alpine', release: '3.20', variant: 'cloud', description: 'Alpine Linux with cloud-init preinstalled' }, 'alpine'),
    );
    await put(
      path.join(images, 'debian-arm.tar.gz'),
      await unifiedTarball({ os: 'debian', release: '12', architecture: 'aarch64', description: 'Debian bookworm, plain' }, 'debian-arm'),
    );
    await put(
      path.join(images, 'debian-amd.tar.gz'),
      await unifiedTarball({ os: 'debian', release: '12', description: 'Debian bookworm, plain' }, 'debian-amd'),
    );
    await put(
      path.join(images, 'old.tar.gz'),
      await unifiedTarball({ os: 'oldos', release: '1', creationDate: OLD, description: 'Nobody rebuilt this one' }, 'old'),
    );
    await put(path.join(images, 'evil.tar.gz'), await unifiedTarball({ os: 'quoting', release: '1', description: EVIL }, 'evil'));
    // Two versions of an image with a package database (this machine's dpkg status; the second
    // with one package upgraded): its page shows the package list and the changes.
    const status = machineDpkgStatus();
    for (const [day, text] of [
      [1, status],
      [2, status.replace(/^Version: (.*)$/m, (_, v: string) => `Version: ${v}+site1`)],
    ] as const) {
      await put(
        path.join(images, `ubuntu-${day}`, 'lxd.tar.xz'),
        await metadataTarball({ os: 'ubuntu', release: 'noble', serial: `2026110${day}_0000`, description: 'Ubuntu noble with its packages' }),
      );
      await put(
        path.join(images, `ubuntu-${day}`, 'rootfs.tar.xz'),
        compress(
          await tarball([{ name: './' }, { name: './sbin/init', content: '#!/bin/sh\n', mode: 0o755 }, { name: './var/lib/dpkg/status', content: text }]),
          'xz',
        ),
      );
    }
    out = path.join(work, 'dist');
    // Signed: the home page shows the key's panel (its links and commands are checked like the rest).
    const { generateKey } = await import('openpgp');
    const key = await generateKey({ userIDs: [{ name: 'Site <Signer> "&"', email: 'site@example.org' }], type: 'curve25519', format: 'armored' });
    await build({ images, out, env: { STATICSTREAMS_SIGNING_KEY: key.privateKey } });
    catalog = JSON.parse(readFileSync(path.join(out, 'catalog.json'), 'utf8')) as Catalog;
    rows = expectedRows(catalog);
    server = await startPreview({ dir: out, port: 0 });

    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context = await newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await mkdir(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** A browser context whose every request and console error is recorded. */
  async function newContext(options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
    const ctx = await browser.newContext(options);
    ctx.on('request', (r) => {
      const url = new URL(r.url());
      if (url.protocol !== 'data:' && url.protocol !== 'blob:' && url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') offsite.push(r.url());
    });
    ctx.on('page', (page) => {
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
    });
    return ctx;
  }

  async function home(query = ''): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${server.url}/${query}`);
    await page.locator('#filters').waitFor({ state: 'visible' });
    return page;
  }

  const visibleSlugs = (page: Page) => page.$$eval('#products tbody tr:not([hidden])', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.slug!).sort());

  /** Waits until the table shows exactly `slugs` (filtering by search is asynchronous). */
  async function showing(page: Page, slugs: string[]): Promise<void> {
    const want = JSON.stringify(slugs);
    try {
      await page.waitForFunction(
        (w) => JSON.stringify([...document.querySelectorAll<HTMLElement>('#products tbody tr:not([hidden])')].map((tr) => tr.dataset.slug).sort()) === w,
        want,
        { timeout: 5000 },
      );
    } catch {
      assert.deepEqual(await visibleSlugs(page), slugs, 'the table shows');
    }
  }

  it('lists every product, and each filter narrows the table to exactly the matching ones', async () => {
    const page = await home();
    assert.deepEqual(await visibleSlugs(page), sorted(rows.keys()));
    assert.equal(await page.textContent('#count'), `${rows.size} products`);
    const cases: [string, string, (r: Row) => boolean][] = [
      ['arch', 'arm64', (r) => r.arches.has('arm64')],
      ['type', 'virtual-machine', (r) => r.types.has('virtual-machine')],
      ['os', 'debian', (r) => r.os === 'debian'],
      ['variant', 'cloud', (r) => r.variant === 'cloud'],
      ['release', '1.36', (r) => r.release === '1.36'],
    ];
    for (const [name, value, keep] of cases) {
      await page.selectOption(`select[name=${name}]`, value);
      const want = sorted([...rows.values()].filter(keep).map((r) => r.slug));
      assert.ok(want.length > 0 && want.length < rows.size, `${name}=${value} is a real narrowing`);
      assert.deepEqual(await visibleSlugs(page), want, `${name}=${value}`);
      assert.equal(await page.textContent('#count'), `${want.length} of ${rows.size} products`);
      assert.equal(new URL(page.url()).searchParams.get(name), value, 'the filter is kept in the address');
      await page.selectOption(`select[name=${name}]`, '');
    }
    // Two filters at once: both must hold.
    await page.selectOption('select[name=os]', 'busybox');
    await page.selectOption('select[name=arch]', 'arm64');
    assert.deepEqual(await visibleSlugs(page), sorted([...rows.values()].filter((r) => r.os === 'busybox' && r.arches.has('arm64')).map((r) => r.slug)));
    await page.click('button[type=reset]');
    await showing(page, sorted(rows.keys()));
    await page.close();
  });

  it('full-text search (Pagefind) narrows the table to the products whose text matches', async () => {
    const page = await home();
    // A package name, from the product pages' package lists, finds the images that carry it.
    await page.fill('#search', 'adduser');
    await showing(page, ['ubuntu/noble/default']);
    await page.fill('#search', '');
    await showing(page, sorted(rows.keys()));
    for (const [query, match] of [
      ['cloud-init', (r: Row) => /cloud-init/.test(r.text)],
      ['bookworm', (r: Row) => /bookworm/.test(r.text)],
    ] as const) {
      const want = sorted([...rows.values()].filter(match).map((r) => r.slug));
      await page.fill('#search', query);
      await showing(page, want);
      assert.equal(new URL(page.url()).searchParams.get('q'), query);
    }
    // Search and a filter together.
    await page.selectOption('select[name=arch]', 'arm64');
    assert.deepEqual(await visibleSlugs(page), ['debian/12/default']);
    await page.fill('#search', 'zzznothingmatcheszzz');
    await showing(page, []);
    assert.match((await page.textContent('#count'))!, /^0 of /);
    // No match: a message says so, and one button brings every product back.
    assert.ok(await page.isVisible('#no-match'), 'the no-match message shows');
    await page.click('#clear-filters');
    await showing(page, sorted([...rows.values()].map((r) => r.slug)));
    assert.equal(await page.isVisible('#no-match'), false);
    assert.equal(await page.inputValue('#search'), '');
    assert.equal(await page.inputValue('select[name=arch]'), '');
    await page.close();
  });

  it('restores filters and search from a shared link', async () => {
    const page = await home('?q=bookworm&arch=amd64');
    await showing(page, ['debian/12/default']);
    assert.equal(await page.inputValue('#search'), 'bookworm');
    assert.equal(await page.inputValue('select[name=arch]'), 'amd64');
    await page.close();
  });

  it('marks a product stale when its newest build is older than the configured age', async () => {
    const page = await home();
    const stale = await page.$$eval('#products tbody tr', (trs) =>
      trs.filter((tr) => !tr.querySelector<HTMLElement>('[data-stale]')!.hidden).map((tr) => (tr as HTMLElement).dataset.slug),
    );
    assert.deepEqual(stale, ['oldos/1/default']);
    await page.screenshot({ path: path.join(SHOTS, 'home.png'), fullPage: true });
    await page.close();
  });

  it('gives the remote add commands for this very server, and Copy puts one on the clipboard (by keyboard)', async () => {
    const page = await home();
    const commands = await page.$$eval('#getting-started ~ .cmd pre', (pres) => pres.map((p) => p.textContent));
    assert.deepEqual(commands, [
      `lxc remote add myimages ${server.url} --protocol simplestreams`,
      `incus remote add myimages ${server.url} --protocol simplestreams`,
    ]);
    const button = page.locator('#getting-started ~ .cmd button').first();
    await button.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('#getting-started ~ .cmd button')?.textContent === 'Copied');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), commands[0]);
    await page.close();
  });

  it("a signed tree's home page shows the key's fingerprint and user ID as text, links its files, and gives the checking commands for this server", async () => {
    const page = await home();
    const panel = page.locator('section[aria-labelledby="signing"]');
    const fingerprint = catalog.signing!.fingerprint;
    assert.equal(await panel.locator('code.fingerprint').first().textContent(), fingerprint.replace(/(.{4})(?=.)/g, '$1 '));
    assert.match((await panel.innerText()).replace(/\s+/g, ' '), /\(Site <Signer> "&" <site@example\.org>\)/);
    const hrefs = await panel.locator('a').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
    assert.deepEqual(hrefs, [`${server.url}/signing-key.asc`, `${server.url}/signing-key.gpg`]);
    for (const href of hrefs) assert.equal((await page.request.get(href)).status(), 200, href);
    const commands = await panel.locator('pre').allTextContents();
    assert.deepEqual(commands, [
      `curl -fsSLo ./signing-key.gpg ${server.url}/signing-key.gpg`,
      `curl -fsSLO ${server.url}/streams/v1/index.sjson && gpgv --keyring ./signing-key.gpg index.sjson`,
      `sstream-query --keyring=./signing-key.gpg ${server.url}/streams/v1/index.sjson`,
      `staticstreams verify ${server.url} --keyring ./signing-key.gpg`,
    ]);
    await page.close();
  });

  it("the home table shows each product's short alias (copyable), one size per type, and a real favicon", async () => {
    const page = await home();
    for (const row of rows.values()) {
      const members = catalog.products.filter((p) => `${p.os}/${p.release}/${p.variant}` === row.slug);
      const tr = page.locator(`#products tbody tr[data-slug="${row.slug}"]`);
      const aliases = members.flatMap((p) => p.aliases);
      if (!aliases.length) continue;
      assert.equal(await tr.locator('td[data-label="Alias"] code').textContent(), shortAlias(aliases), row.slug);
      // One size per type: the newest image of that type, never a range.
      const size = (await tr.locator('td[data-label="Size"]').innerText()).trim();
      assert.doesNotMatch(size, /–/, row.slug);
      assert.equal(size.split('\n').length, row.types.size, `${row.slug}: ${size}`);
    }
    const debian = page.locator('#products tbody tr[data-slug="debian/12/default"] td[data-label="Alias"]');
    assert.equal(await debian.locator('code').textContent(), 'debian/12');
    await debian.locator('button').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'debian/12');
    // The icon the page names, and /favicon.ico for whatever asks for it: no 404 in the server's log.
    const icon = await page.$eval('link[rel="icon"]', (l) => (l as HTMLLinkElement).href);
    assert.equal(icon, `${server.url}/favicon.svg`);
    for (const [rel, type] of [
      ['favicon.svg', 'image/svg+xml'],
      ['favicon.ico', 'image/'],
    ] as const) {
      const r = await fetch(`${server.url}/${rel}`);
      assert.equal(r.status, 200, rel);
      assert.ok(r.headers.get('content-type')?.startsWith(type), `${rel}: ${r.headers.get('content-type')}`);
    }
    await page.close();
  });

  it('a product page shows every image with its fingerprint, files and commands, and copies a launch command', async () => {
    const page = await home();
    await page.click('#products a[href="/products/busybox/1.36/default/"]');
    await page.waitForURL('**/products/busybox/1.36/default/');
    const group = catalog.products.filter((p) => p.os === 'busybox' && p.release === '1.36' && p.variant === 'default');
    const images = group.flatMap((p) => p.versions.flatMap((v) => v.images));
    assert.deepEqual(
      sorted(await page.$$eval('details.image', (ds) => ds.map((d) => (d as HTMLElement).dataset.fingerprint!))),
      sorted(images.map((i) => i.fingerprint)),
    );
    for (const image of images) {
      const details = page.locator(`details.image[data-fingerprint="${image.fingerprint}"]`);
      // Shortened, the full value one tap away, copyable.
      const fp = details.locator('dl.facts .hash').first();
      assert.equal(await fp.locator('summary .mono').textContent(), `${image.fingerprint.slice(0, 12)}…`);
      assert.equal(await fp.locator('.fp').isVisible(), false);
      await fp.locator('summary').click();
      assert.equal(await fp.locator('.fp').textContent(), image.fingerprint);
      assert.ok(await fp.locator('.fp').isVisible(), 'one tap shows the full fingerprint');
      await fp.locator('button[data-copy-text]').click();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), image.fingerprint);
      const compat = (await details.locator('dd.compat').textContent())!;
      assert.match(
        compat,
        new RegExp(
          `^${image.clients.includes('lxd') && image.clients.includes('incus') ? 'LXD and Incus' : image.clients.includes('lxd') ? 'LXD' : 'Incus'} · `,
        ),
      );
      assert.ok(compat.includes(image.type === 'virtual-machine' ? 'virtual machine' : 'container'), compat);
      const vm = image.type === 'virtual-machine' ? ' --vm' : '';
      const cmds = await details.locator('pre[data-command]').allTextContents();
      assert.ok(cmds.includes(`lxc launch myimages:${image.fingerprint} c1${vm}`), cmds.join('\n'));
      assert.ok(cmds.includes(`incus launch myimages:${image.fingerprint} c1${vm}`), cmds.join('\n'));
      assert.ok(cmds.includes(`lxc image copy myimages:${image.fingerprint} local:${vm}`), cmds.join('\n'));
      const shas = await details.locator('tbody .hash .fp').allTextContents();
      const labels = await details.locator('tbody .badge').allTextContents();
      assert.ok(
        labels.every((l) => !/^(lxd|incus)[._]/.test(l)),
        `one label per file, not a client's ftype: ${labels.join(', ')}`,
      );
      assert.deepEqual(sorted(shas), sorted(image.files.map((f) => f.sha256)));
      for (const f of image.files) assert.equal(await details.locator(`a[href="/${f.path}"]`).count(), 1, f.path);
    }
    // The build history: one mark per version of each architecture.
    const marks = await page.$$eval('figure.history circle.mark', (cs) => cs.map((c) => `${c.getAttribute('data-arch')} ${c.getAttribute('data-version')}`));
    assert.deepEqual(sorted(marks), sorted(group.flatMap((p) => p.versions.map((v) => `${p.arch} ${v.version}`))));
    const alias = shortAlias(group.flatMap((p) => p.aliases));
    assert.ok(group[0]!.variant !== 'default' || alias === `${group[0]!.os}/${group[0]!.release}`, 'the default variant launches as os/release');
    const launch = await page.locator('#launch ~ .cmd pre').allTextContents();
    assert.ok(launch.includes(`lxc launch myimages:${alias} c1`), launch.join('\n'));
    assert.ok(launch.includes(`lxc launch myimages:${alias} c1 --vm`), 'the VM gets --vm');
    const first = page.locator('#launch ~ .cmd').first();
    await first.locator('button').click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), await first.locator('pre').textContent());
    await page.screenshot({ path: path.join(SHOTS, 'product.png'), fullPage: false });
    await page.close();
  });

  it("one verifier per product page says which build a published file belongs to, and No match for another product's", async () => {
    const page = await context.newPage();
    const product = catalog.products.find((p) => p.os === 'busybox' && p.variant === 'default' && p.arch === 'amd64')!;
    await page.goto(`${server.url}/products/busybox/1.36/default/`);
    assert.equal(await page.locator('input[type=file]').count(), 1, 'one file input for the page, however many versions');
    const zone = page.locator('#verify ~ [data-verify]');
    await zone.waitFor({ state: 'visible' });
    for (const image of product.versions[0]!.images)
      for (const file of image.files) {
        await zone.locator('input[type=file]').setInputFiles(path.join(out, file.path));
        await zone.locator('.result.match').waitFor();
        const text = (await zone.locator('.result').textContent())!;
        assert.match(
          text,
          new RegExp(
            `✓ Match: .* of ${product.versions[0]!.version} \\(amd64, (container|virtual machine) ${image.fingerprint.slice(0, 12)}\\) \\(sha256 ${file.sha256}\\)`,
          ),
        );
      }
    const elsewhere = catalog.products
      .find((p) => p.os !== 'busybox' || p.release !== '1.36' || p.variant !== 'default')!
      .versions[0]!.images[0]!.files.at(-1)!;
    await zone.locator('input[type=file]').setInputFiles(path.join(out, elsewhere.path));
    await zone.locator('.result.mismatch').waitFor();
    assert.match((await zone.locator('.result').textContent())!, new RegExp(`✗ No match: .* has sha256 ${elsewhere.sha256}`));
    await page.close();
  });

  it('shows a <script> description as text, without running it', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/products/quoting/1/default/`);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator('dl.facts dd', { hasText: '<script>' }).first().textContent(), EVIL);
    await page.close();
  });

  it('without JavaScript: the full table, no filter form, no copy buttons, and every link works', async () => {
    const plain = await newContext({ javaScriptEnabled: false });
    const page = await plain.newPage();
    await page.goto(`${server.url}/`);
    assert.equal(await page.locator('#products tbody tr').count(), rows.size);
    assert.equal(await page.locator('#filters').isVisible(), false);
    assert.equal(await page.locator('button[data-copy]:visible').count(), 0);
    const hrefs = await page.$$eval('#products a', (as) => as.map((a) => (a as HTMLAnchorElement).href));
    for (const href of hrefs) assert.equal((await page.request.get(href)).status(), 200, href);
    await plain.close();
  });

  it('at 390 px every field of every row is readable without scrolling sideways, and every command wraps inside its box', async () => {
    const phone = await newContext({ viewport: { width: 390, height: 844 } });
    const page = await phone.newPage();
    for (const url of ['/', '/products/busybox/1.36/default/', '/products/ubuntu/noble/default/']) {
      await page.goto(`${server.url}${url}`);
      // (the package list open, as a visitor opens it)
      if (url.includes('ubuntu')) await page.locator('details.packages > summary').click();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${url} overflows the screen by ${overflow}px`);
      // Every cell of every shown row lies within the screen, its text unclipped, with its label.
      const cells = await page.$$eval('table.stack tbody tr:not([hidden]) td', (tds) =>
        tds.map((td) => {
          const r = td.getBoundingClientRect();
          return {
            text: td.textContent!.trim().slice(0, 40),
            left: r.left,
            right: r.right,
            clipped: td.scrollWidth > td.clientWidth + 1,
            label: getComputedStyle(td, '::before').content,
          };
        }),
      );
      assert.ok(cells.length > 0, `${url} has table cells`);
      for (const c of cells) {
        assert.ok(c.left >= 0 && c.right <= 390, `${url}: "${c.text}" lies within the screen (${c.left}–${c.right})`);
        assert.equal(c.clipped, false, `${url}: "${c.text}" is not clipped`);
        assert.match(c.label, /^".+: "$/, `${url}: "${c.text}" is labelled`);
      }
      // Every command wraps inside its own box: the whole of it is on the screen, nothing to scroll.
      const commands = await page.$$eval('.cmd pre', (pres) => pres.map((p) => ({ text: p.textContent!, fits: p.scrollWidth <= p.clientWidth + 1 })));
      assert.ok(commands.length > 0);
      for (const c of commands) assert.ok(c.fits, `${url}: "${c.text}" is cut inside its box`);
      await page.screenshot({
        path: path.join(SHOTS, url === '/' ? 'home-phone.png' : url.includes('ubuntu') ? 'packages-phone.png' : 'product-phone.png'),
        fullPage: true,
      });
    }
    await phone.close();
  });

  it('axe-core finds no serious or critical violation: home, a product page and no match, at desktop and phone widths', async () => {
    const axe = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    const report: Record<string, { violations: { id: string; impact: string | null; nodes: number }[]; passes: number }> = {};
    const bad: string[] = [];
    for (const [width, label] of [
      [1280, 'desktop'],
      [390, 'phone'],
    ] as const) {
      const ctx = await newContext({ viewport: { width, height: 900 } });
      for (const [name, url, prepare] of [
        ['home', '/', async () => {}],
        ['product', '/products/busybox/1.36/default/', async () => {}],
        [
          'packages',
          '/products/ubuntu/noble/default/',
          async (page: Page) => {
            await page.locator('details.packages > summary').click();
            await page.fill('input[data-package-filter]', 'lib');
          },
        ],
        [
          'no match',
          '/',
          async (page: Page) => {
            await page.locator('#filters').waitFor({ state: 'visible' });
            await page.fill('#search', 'zzzz-nothing-matches');
            await page.locator('#no-match').waitFor({ state: 'visible' });
          },
        ],
      ] as const) {
        const page = await ctx.newPage();
        await page.goto(`${server.url}${url}`);
        await prepare(page);
        await page.addScriptTag({ content: axe });
        const result = await page.evaluate(async () => {
          const r = await (
            window as unknown as {
              axe: { run(o: unknown): Promise<{ violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[]; passes: unknown[] }> };
            }
          ).axe.run({
            runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
          });
          return {
            violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) })),
            passes: r.passes.length,
          };
        });
        report[`${name} (${label})`] = {
          violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })),
          passes: result.passes,
        };
        for (const v of result.violations)
          if (v.impact === 'serious' || v.impact === 'critical') bad.push(`${name} at ${width}px: ${v.id} (${v.impact}) on ${v.nodes.slice(0, 3).join(', ')}`);
        await page.close();
      }
      await ctx.close();
    }
    await writeFile(path.join(SHOTS, 'axe.json'), `${JSON.stringify(report, null, 2)}\n`);
    assert.deepEqual(bad, []);
  });

  it("a product's packages: the newest list, filtered by name as one types, and each version's changes", async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/products/ubuntu/noble/default/`);
    const installed = machineDpkgStatus()
      .split(/\n\n+/)
      .filter((s) => /^Status: install ok installed$/m.test(s)).length;
    const summary = page.locator('details.packages > summary');
    assert.match((await summary.textContent())!.replace(/\s+/g, ' '), new RegExp(`Packages in 20261102_00:00: ${installed} \\(dpkg\\)`));
    await summary.click();
    const rows = page.locator('.package-list tbody tr');
    assert.equal(await rows.count(), installed);
    assert.equal(await page.locator('.package-list tbody tr:visible').count(), installed);
    const filter = page.locator('input[data-package-filter]');
    assert.equal(await filter.isVisible(), true, 'the filter shows once the script runs');
    await filter.fill('libc');
    const shown = await page.$$eval('.package-list tbody tr:not([hidden])', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.name!));
    assert.ok(shown.length > 0 && shown.length < installed);
    for (const name of shown) assert.ok(name.toLowerCase().includes('libc'), name);
    await filter.fill('zzzz-no-such-package');
    assert.equal(await page.locator('[data-package-none]').isVisible(), true);
    // the changes of the newest version: one upgraded package, shown open
    const changes = page.locator('details.changes');
    assert.equal(await changes.count(), 1);
    assert.match((await changes.textContent())!.replace(/\s+/g, ' '), /Changes since 20261101_00:00: 1 upgraded\s*\S+ \S+ → \S+\+site1/);
    assert.equal(await changes.evaluate((d) => (d as HTMLDetailsElement).open), true);
    await page.screenshot({ path: path.join(SHOTS, 'packages.png'), fullPage: false });
    await page.close();
  });

  it('keyboard only: Tab reaches every filter, every copy button and the verifier', async () => {
    const page = await context.newPage();
    /** Tabs through the page and returns a description of every element that took focus. */
    const tabThrough = async () => {
      const seen = new Set<string>();
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      for (let i = 0; i < 400; i++) {
        await page.keyboard.press('Tab');
        const id = await page.evaluate(() => {
          const e = document.activeElement as HTMLElement | null;
          if (!e || e === document.body) return 'body';
          if (!e.dataset.kbd) e.dataset.kbd = String(Math.random());
          return e.dataset.kbd;
        });
        if (id === 'body' || seen.has(id)) break;
        seen.add(id);
      }
      return seen;
    };
    const reachable = async (selector: string) =>
      page.$$eval(selector, (es) => es.filter((e) => (e as HTMLElement).offsetParent !== null).map((e) => (e as HTMLElement).dataset.kbd ?? 'never focused'));
    await page.goto(`${server.url}/`);
    await page.locator('#filters').waitFor({ state: 'visible' });
    let seen = await tabThrough();
    for (const selector of ['#search', 'select[data-filter]', '#filters button[type=reset]', 'button[data-copy]', '#products a']) {
      const ids = await reachable(selector);
      assert.ok(ids.length > 0, `${selector} is on the page`);
      for (const id of ids) assert.ok(seen.has(id), `${selector}: every one is reached by Tab`);
    }
    await page.goto(`${server.url}/products/busybox/1.36/default/`);
    await page.locator('[data-verify]').first().waitFor({ state: 'visible' });
    seen = await tabThrough();
    for (const selector of ['button[data-copy]', 'button[data-copy-text]', '[data-verify] input[type=file]', 'details > summary']) {
      const ids = await reachable(selector);
      assert.ok(ids.length > 0, `${selector} is on the page`);
      for (const id of ids) assert.ok(seen.has(id), `${selector}: every visible one is reached by Tab`);
    }
    await page.close();
  });

  it('a page on another origin reads streams/v1/images.json, as web UIs do', async (t) => {
    // The other origin: another port of this machine serving one page that fetches the index
    // and the fixed-name products file from the image server.
    const { createServer } = await import('node:http');
    const page = `<!doctype html><title>pending</title><script>
      Promise.all(['streams/v1/index.json', 'streams/v1/images.json'].map((p) => fetch(${JSON.stringify(server.url)} + '/' + p).then((r) => r.json())))
        .then(([index, images]) => { document.title = 'ok ' + index.format + ' ' + Object.keys(images.products).length; })
        .catch((e) => { document.title = 'failed ' + e; });
    </script>`;
    const other = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    t.after(() => other.close());
    const origin = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
    assert.notEqual(new URL(origin).origin, new URL(server.url).origin);
    const tab = await context.newPage();
    await tab.goto(`${origin}/`);
    await tab.waitForFunction(() => document.title !== 'pending', undefined, { timeout: 10_000 });
    assert.equal(await tab.title(), `ok index:1.0 ${catalog.products.length}`);
    await tab.close();
  });

  it('fetched nothing from off this machine, and logged no errors', () => {
    assert.deepEqual(offsite, []);
    assert.deepEqual(consoleErrors, []);
  });
});
