// Astro settings for the catalogue. `staticstreams build` runs Astro with these plus the output
// folder, base path and input file of that build (generator/emit/site.ts).
import { defineConfig, passthroughImageService } from 'astro/config';
import { pagefind } from './integrations/pagefind.ts';

export default defineConfig({
  output: 'static',
  trailingSlash: 'always',
  // No image service that needs sharp: the site has no processed images.
  image: { service: passthroughImageService() },
  devToolbar: { enabled: false },
  // Eight pages at a time: writing each page is file-system latency, not CPU (one at a time the
  // build waits on the disk two thirds of the time). A page that fails to render fails the build
  // (Astro ≥ 5.7 awaits all of them: withastro/astro#13538), and staticstreams checks that every
  // page it expects was written (generator/publish/site.ts); Pagefind gets the pages in name order,
  // so the order they were written in does not show in the search index.
  build: { format: 'directory', inlineStylesheets: 'always', concurrency: 8 },
  prefetch: false,
  integrations: [pagefind()],
});
