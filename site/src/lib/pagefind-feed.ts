// The order Pagefind is given product pages in: Astro renders several pages at once, and Pagefind's
// index depends on the order pages are added, so each page is added in its place in the product
// list (never in the order pages finish). Shared by the integration (site/integrations/pagefind.ts),
// which creates the feed, and its middleware (pagefind-middleware.ts), which hands it the pages.

import type { PagefindIndex } from 'pagefind';

/** Where the middleware finds this build's feed (absent under `astro dev`: nothing is indexed). */
export const FEED_KEY = Symbol.for('staticstreams.pagefind-feed');

/** One rendered product page: its place in the product list, its file and its HTML. */
export interface RenderedPage {
  position: number;
  sourcePath: string;
  content: string;
}

/**
 * Hands pages to the index in list order: a page that finishes early waits until every page before
 * it was handed over. Pagefind's service (pinned at 1.5.2 in package.json) reads requests from one
 * pipe and indexes them one after another in the order they arrive, and a request is written to
 * the pipe when it is made, so requests need not wait for each other's answers. Errors are
 * collected for `finish`, never thrown at the renderer.
 */
export class PageFeed {
  private next = 0;
  private readonly waiting = new Map<number, RenderedPage>();
  private readonly pending: Promise<void>[] = [];
  readonly added: string[] = [];
  readonly errors: string[] = [];

  constructor(private readonly index: Pick<PagefindIndex, 'addHTMLFile'>) {}

  offer(page: RenderedPage): void {
    if (page.position < this.next || this.waiting.has(page.position)) {
      this.errors.push(`${page.sourcePath}: rendered twice`);
      return;
    }
    this.waiting.set(page.position, page);
    for (let ready = this.waiting.get(this.next); ready; ready = this.waiting.get(this.next)) {
      this.waiting.delete(this.next++);
      this.pending.push(this.add(ready));
    }
  }

  private async add({ sourcePath, content }: RenderedPage): Promise<void> {
    try {
      const result = await this.index.addHTMLFile({ sourcePath, content });
      if (result.errors.length) this.errors.push(`${sourcePath}: ${result.errors.join('; ')}`);
      else this.added.push(sourcePath);
    } catch (e) {
      this.errors.push(`${sourcePath}: ${(e as Error).message}`);
    }
  }

  /** Waits for every page handed over; lists the pages still waiting for one before them. */
  async finish(): Promise<void> {
    await Promise.all(this.pending);
    for (const page of this.waiting.values()) this.errors.push(`${page.sourcePath}: a page before it in the list was never rendered`);
  }
}
