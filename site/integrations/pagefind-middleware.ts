// Hands each rendered product page to the Pagefind index of this build (pagefind.ts) while Astro
// goes on rendering. The page's place in the product list decides when it is added, so the index
// is the same whatever order pages finish in. Pages go out unchanged; under `astro dev` (no feed)
// this does nothing.

import { defineMiddleware } from 'astro:middleware';
import { siteData } from '../src/lib/input.js';
import { FEED_KEY, type PageFeed } from '../src/lib/pagefind-feed.js';

let positions: Map<string, number> | undefined;

export const onRequest = defineMiddleware(async (context, next) => {
  const response = await next();
  const feed = (globalThis as Record<symbol, unknown>)[FEED_KEY] as PageFeed | undefined;
  const slug = context.params.slug;
  if (!feed || context.routePattern !== '/products/[...slug]' || slug === undefined) return response;
  positions ??= new Map(siteData().groups.map((g, i) => [g.slug, i]));
  const position = positions.get(slug);
  if (position === undefined) return response;
  feed.offer({ position, sourcePath: `products/${slug}/index.html`, content: await response.clone().text() });
  return response;
});
