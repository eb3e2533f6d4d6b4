// Builds the Pagefind full-text index of the product pages while Astro renders them, so the home
// page's search works on a fully static host. Only text marked data-pagefind-body is indexed. The
// home page calls Pagefind's search API directly, so its prebuilt UI bundles are not shipped.
//
// Pagefind indexes in its own process: a middleware (pagefind-middleware.ts) hands it each product
// page as Astro renders it, so indexing runs on the other core instead of after the last page.
// Pages are added in the order of the product list (src/lib/pagefind-feed.ts), never as they finish.

import type { AstroIntegration } from 'astro';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { close, createIndex, type PagefindIndex } from 'pagefind';
import { FEED_KEY, PageFeed } from '../src/lib/pagefind-feed.js';

export function pagefind(): AstroIntegration {
  let index: PagefindIndex | undefined;
  return {
    name: 'staticstreams-pagefind',
    hooks: {
      'astro:config:setup': ({ addMiddleware }) => {
        addMiddleware({ entrypoint: fileURLToPath(new URL('./pagefind-middleware.ts', import.meta.url)), order: 'post' });
      },
      'astro:build:start': async () => {
        const created = await createIndex({ forceLanguage: 'en' });
        if (!created.index) throw new Error(`Pagefind: ${created.errors.join('; ')}`);
        index = created.index;
        (globalThis as Record<symbol, unknown>)[FEED_KEY] = new PageFeed(index);
      },
      'astro:build:done': async ({ dir, assets, logger }) => {
        const outDir = fileURLToPath(dir);
        const feed = (globalThis as Record<symbol, unknown>)[FEED_KEY] as PageFeed | undefined;
        delete (globalThis as Record<symbol, unknown>)[FEED_KEY];
        try {
          if (!index || !feed) throw new Error('Pagefind: the index was not started');
          await feed.finish();
          if (feed.errors.length) throw new Error(`Pagefind: ${feed.errors.slice(0, 3).join('; ')}`);
          // Every product page Astro wrote is in the index, and nothing else.
          const written = [...assets.values()]
            .flat()
            .map((url) => path.relative(outDir, fileURLToPath(url)).split(path.sep).join('/'))
            .filter((f) => f.startsWith('products/') && f.endsWith('.html'))
            .sort();
          const added = [...feed.added].sort();
          if (written.join('\n') !== added.join('\n')) {
            const missing = written.filter((p) => !added.includes(p));
            throw new Error(`Pagefind: ${missing.length || 'some'} page(s) written but not indexed: ${missing.slice(0, 3).join(', ')}`);
          }
          // The files come back in memory and are written here, whole, before the build goes on.
          // (Pagefind's own writeFiles returns before its last writes reach the disk — tokio
          // files are written on a background thread unless flushed — and the close() below ends
          // that process: under load a file such as wasm.unknown.pagefind came out cut short.)
          const files = await index.getFiles();
          if (files.errors.length) throw new Error(`Pagefind: ${files.errors.join('; ')}`);
          const bundle = path.join(outDir, 'pagefind');
          for (const file of [...files.files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
            const rel = file.path.split(path.sep).join('/');
            if (/^pagefind-(?:ui|modular-ui|component-ui|highlight)\./.test(rel)) continue;
            if (rel.startsWith('/') || rel.split('/').includes('..')) throw new Error(`Pagefind: unexpected file path ${file.path}`);
            await mkdir(path.dirname(path.join(bundle, rel)), { recursive: true });
            await writeFile(path.join(bundle, rel), file.content);
          }
          logger.info(`indexed ${added.length} product pages for search`);
        } finally {
          index = undefined;
          await close();
        }
      },
    },
  };
}
