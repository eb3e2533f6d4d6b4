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
  // Pages render one at a time (Astro's default): with build.concurrency above 1 a page that fails
  // to render is dropped silently (withastro/astro#13538), and a failed page must fail the build.
  build: { format: 'directory', inlineStylesheets: 'always' },
  prefetch: false,
  integrations: [pagefind()],
});
