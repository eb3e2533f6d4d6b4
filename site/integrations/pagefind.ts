// Builds the Pagefind full-text index of the product pages once Astro has written them, so the
// home page's search works on a fully static host. Only text marked data-pagefind-body is indexed.
// The home page calls Pagefind's search API directly, so its prebuilt UI bundles are not shipped.

import type { AstroIntegration } from 'astro';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { close, createIndex } from 'pagefind';

export function pagefind(): AstroIntegration {
  return {
    name: 'staticstreams-pagefind',
    hooks: {
      'astro:build:done': async ({ dir, logger }) => {
        const outDir = fileURLToPath(dir);
        try {
          const { index, errors } = await createIndex({ forceLanguage: 'en' });
          if (!index) throw new Error(`Pagefind: ${errors.join('; ')}`);
          // Pages are added one by one in name order: Pagefind's index depends on the order it is
          // given pages, and a folder walk follows the order pages were written in (Astro writes
          // several at once), so the index would not be byte-identical from build to build.
          const pages = (await readdir(path.join(outDir, 'products'), { recursive: true }))
            .filter((f) => f.endsWith('.html'))
            .map((f) => `products/${f.split(path.sep).join('/')}`)
            .sort();
          for (const sourcePath of pages) {
            const added = await index.addHTMLFile({ sourcePath, content: await readFile(path.join(outDir, sourcePath), 'utf8') });
            if (added.errors.length) throw new Error(`Pagefind: ${sourcePath}: ${added.errors.join('; ')}`);
          }
          const written = await index.writeFiles({ outputPath: `${outDir}/pagefind` });
          if (written.errors.length) throw new Error(`Pagefind: ${written.errors.join('; ')}`);
          for (const name of await readdir(written.outputPath)) {
            if (/^pagefind-(?:ui|modular-ui|component-ui|highlight)\./.test(name)) await rm(path.join(written.outputPath, name));
          }
          logger.info(`indexed ${pages.length} product pages for search`);
        } finally {
          await close();
        }
      },
    },
  };
}
