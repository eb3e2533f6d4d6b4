// The Atom feed of one product (OS/release/variant): every version of every architecture.
import type { ProductGroup } from '../../../../../generator/formats/groups.js';
import { atom, groupEntries, sortEntries } from '../../../lib/feed.js';
import { siteData } from '../../../lib/input.js';

export function getStaticPaths() {
  return siteData().groups.map((group) => ({ params: { slug: group.slug }, props: { group } }));
}

export function GET({ props }: { props: { group: ProductGroup } }): Response {
  const { input } = siteData();
  const { group } = props;
  const base = (input.catalog.baseUrl ?? '').replace(/\/+$/, '');
  const page = `${base}${import.meta.env.BASE_URL.replace(/\/?$/, '/')}products/${group.slug}/`;
  const name = `${group.os} ${group.release}${group.variant === 'default' ? '' : ` ${group.variant}`}`;
  const entries = sortEntries(groupEntries(group, input.settings.remoteName, page, input.described.changes));
  return new Response(atom({ id: `${page}feed.xml`, title: `${name} · ${input.settings.title}`, selfUrl: `${page}feed.xml`, alternateUrl: page, entries }), {
    headers: { 'Content-Type': 'application/atom+xml; charset=utf-8' },
  });
}
