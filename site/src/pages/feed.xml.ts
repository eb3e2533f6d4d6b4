// The Atom feed of new builds for the whole server: every version of every product, newest first
// (the newest 500 when there are more).
import { atom, groupEntries, sortEntries } from '../lib/feed.js';
import { siteData } from '../lib/input.js';

export const FEED_LIMIT = 500;

export function GET(): Response {
  const { input, groups } = siteData();
  const base = (input.catalog.baseUrl ?? '').replace(/\/+$/, '');
  const root = `${base}${import.meta.env.BASE_URL.replace(/\/?$/, '/')}`;
  const entries = sortEntries(groups.flatMap((g) => groupEntries(g, input.settings.remoteName, `${root}products/${g.slug}/`, input.described.changes))).slice(
    0,
    FEED_LIMIT,
  );
  return new Response(atom({ id: `${root}feed.xml`, title: input.settings.title, selfUrl: `${root}feed.xml`, alternateUrl: root, entries }), {
    headers: { 'Content-Type': 'application/atom+xml; charset=utf-8' },
  });
}
