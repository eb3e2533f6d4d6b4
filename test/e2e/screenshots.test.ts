// The README's screenshots, taken the way a user sees the catalogue: the sample images built with a
// remote name and served over https by `staticstreams serve` (the address `lxc remote add` takes),
// in real Chromium at desktop and phone width. Saved to build/screenshots/readme-*.png; the README
// shows copies in docs/screenshots/ (refresh them from there when the site changes).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { build, parseConfig } from '../../generator/index.js';
import { requirements } from '../support/require.js';
import { ensureTestTls } from '../support/tls.js';
import { freePort, type RunningServer } from '../support/server-process.js';
import { startServe } from '../support/servers.js';

const skip = requirements(['chromium', 'openssl', 'update-ca-certificates'], { root: true });
const SHOTS = path.resolve('build/screenshots');

describe('README screenshots: the sample images over https', { skip }, () => {
  let work: string;
  let server: RunningServer;
  let browser: Browser;
  before(async () => {
    const tls = ensureTestTls();
    work = await mkdtemp(path.join(os.tmpdir(), 'ss-shots-'));
    const port = await freePort();
    const out = path.join(work, 'dist');
    await build({
      images: path.resolve('images'),
      out,
      baseUrl: `https://127.0.0.1:${port}`,
      config: parseConfig({ site: { remote_name: 'myimages', title: 'Example images' } }),
      now: new Date('2026-11-06T00:00:00Z'),
    });
    server = await startServe(out, port, tls);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', `--ignore-certificate-errors`],
    });
    await mkdir(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('shows an https remote add command and the sample products only, at 1200 px and 390 px', async () => {
    for (const [width, suffix] of [
      [1200, ''],
      [390, '-phone'],
    ] as const) {
      const page = await browser.newPage({ viewport: { width, height: width > 600 ? 900 : 844 } });
      await page.goto(`${server.url}/`);
      const text = (await page.textContent('body'))!;
      assert.match(text, /lxc remote add myimages https:\/\/127\.0\.0\.1:\d+ --protocol simplestreams/);
      assert.doesNotMatch(text, /http:\/\/|evil|oldos/);
      await page.screenshot({ path: path.join(SHOTS, `readme-home${suffix}.png`), fullPage: width < 600 });
      await page.goto(`${server.url}/products/busybox/1.36/default/`);
      await page.screenshot({ path: path.join(SHOTS, `readme-product${suffix}.png`), fullPage: false });
      await page.close();
    }
  });
});
