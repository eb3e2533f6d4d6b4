// Builds the Pagefind full-text index of the product pages while Astro renders them, so the home
// page's search works on a fully static host. Only text marked data-pagefind-body is indexed. The
// home page calls Pagefind's search API directly, so its prebuilt UI bundles are not shipped.
//
// Pagefind indexes in its own process: a middleware (pagefind-middleware.ts) hands it each product
// page as Astro renders it, so indexing runs on the other core instead of after the last page.
// Pages are added in the order of the product list (src/lib/pagefind-feed.ts), never as they finish.

import type { AstroIntegration } from 'astro';
import { readdir, rm } from 'node:fs/promises';
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
          const files = await index.writeFiles({ outputPath: `${outDir}/pagefind` });
          if (files.errors.length) throw new Error(`Pagefind: ${files.errors.join('; ')}`);
          for (const name of await readdir(files.outputPath)) {
            if (/^pagefind-(?:ui|modular-ui|component-ui|highlight)\./.test(name)) await rm(path.join(files.outputPath, name));
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
