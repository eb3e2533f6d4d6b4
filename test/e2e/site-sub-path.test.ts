// The catalogue of a tree served under a path (https://HOST/lxd/) in real Chromium: the home page
// and every product page load with no request answering 4xx or 5xx, every link and asset stays
// inside the path, the commands name the URL with its path, and search (Pagefind, loaded from
// the path) narrows the table.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { requirements } from '../support/require.js';
import { build, startPreview, type RunningPreview } from '../../generator/index.js';

const skip = requirements(['chromium']);

describe('the catalogue under a path, in Chromium', { skip }, () => {
  let work: string;
  let server: RunningPreview;
  let browser: Browser;
  let origin: string;

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ss-site-subpath-'));
    const probe = await startPreview({ dir: path.resolve('images'), port: 0 });
    const port = probe.port;
    await probe.close();
    origin = `http://127.0.0.1:${port}`;
    const out = path.join(work, 'dist');
    await build({ images: path.resolve('images'), out, baseUrl: `${origin}/lxd`, env: {} });
    server = await startPreview({ dir: out, port });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('loads every page with no failing request, every link inside the path, commands with the path', async () => {
    const context = await browser.newContext();
    const failed: string[] = [];
    context.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    // (a request a navigation cancels, such as a favicon still loading, is not a failure)
    context.on('requestfailed', (r) => {
      if (!/ERR_ABORTED/.test(r.failure()?.errorText ?? '')) failed.push(`failed ${r.url()}: ${r.failure()?.errorText}`);
    });
    const page = await context.newPage();
    await page.goto(`${origin}/lxd/`);
    assert.equal(await page.title().then((t) => t.length > 0), true);
    const commands = await page.$$eval('#getting-started ~ .cmd pre', (pres) => pres.map((p) => p.textContent));
    assert.deepEqual(commands, [
      `lxc remote add myimages ${origin}/lxd --protocol simplestreams`,
      `incus remote add myimages ${origin}/lxd --protocol simplestreams`,
    ]);
    const links = await page.$$eval('a[href]', (as) => as.map((a) => (a as HTMLAnchorElement).href));
    const inside = [...new Set(links.filter((l) => l.startsWith(origin)))];
    assert.ok(inside.length >= 3, inside.join('\n'));
    for (const l of inside) assert.ok(l.startsWith(`${origin}/lxd/`), `${l} is inside /lxd/`);
    // every product page, as a visitor follows the links
    for (const l of inside.filter((x) => x.includes('/products/'))) {
      await page.goto(l);
      const pageLinks = await page.$$eval('a[href]', (as) => as.map((a) => (a as HTMLAnchorElement).href));
      for (const p of pageLinks.filter((x) => x.startsWith(origin))) assert.ok(p.startsWith(`${origin}/lxd/`), `${l}: ${p} is inside /lxd/`);
    }
    // search loads Pagefind from the path and narrows the table
    await page.goto(`${origin}/lxd/`);
    const rows = await page.locator('#products tbody tr:visible').count();
    await page.fill('#search', 'arm64');
    await page.waitForFunction((n) => document.querySelectorAll('#products tbody tr:not([hidden])').length < n, rows, { timeout: 15_000 });
    assert.deepEqual(failed, [], 'no request failed');
    await context.close();
  });
});
