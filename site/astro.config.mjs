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
  // Pages render several at a time: writing thousands of small pages waits on the file system, not the CPU.
  build: { format: 'directory', inlineStylesheets: 'always', concurrency: 8 },
  prefetch: false,
  integrations: [pagefind()],
});
