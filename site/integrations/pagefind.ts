// Builds the Pagefind full-text index of the product pages once Astro has written them, so the
// home page's search works on a fully static host. Only text marked data-pagefind-body is indexed.
// The home page calls Pagefind's search API directly, so its prebuilt UI bundles are not shipped.

import type { AstroIntegration } from 'astro';
import { readdir, rm } from 'node:fs/promises';
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
          const added = await index.addDirectory({ path: outDir, glob: 'products/**/*.html' });
          if (added.errors.length) throw new Error(`Pagefind: ${added.errors.join('; ')}`);
          const written = await index.writeFiles({ outputPath: `${outDir}/pagefind` });
          if (written.errors.length) throw new Error(`Pagefind: ${written.errors.join('; ')}`);
          for (const name of await readdir(written.outputPath)) {
            if (/^pagefind-(?:ui|modular-ui|component-ui|highlight)\./.test(name)) await rm(path.join(written.outputPath, name));
          }
          logger.info(`indexed ${added.page_count} product pages for search`);
        } finally {
          await close();
        }
      },
    },
  };
}
