// Atom feeds of new builds: one for the whole server (feed.xml) and one per product page
// (products/SLUG/feed.xml). Each entry is one version of one architecture, newest first, with the
// launch command and the fingerprints. Pure and deterministic: dates come from the catalog.

import type { ProductGroup } from '../../../generator/formats/groups.js';
import { launchCommands } from './commands.js';
import { changeLines } from '../../../generator/formats/manifest.js';
import type { SitePackages } from '../../../generator/formats/site-input.js';

export interface FeedEntry {
  id: string;
  title: string;
  updated: string;
  link: string;
  content: string;
}

/** Escapes text for XML element content and attribute values. */
export function xml(text: string): string {
  // Characters XML 1.0 cannot carry at all are dropped; the five special ones escaped.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const iso = (date: string) => new Date(date).toISOString().replace(/\.000Z$/, 'Z');

/** An Atom id is an absolute IRI: the URL when the server's base URL is known, else a URN of the path. */
export const feedId = (url: string) => (/^https?:\/\//.test(url) ? url : `urn:staticstreams:${url.replace(/^\/+/, '')}`);

/** The entries of one product group: every version of every architecture, with its package changes when known. */
export function groupEntries(group: ProductGroup, remote: string, pageUrl: string, changes: SitePackages['changes'] = {}): FeedEntry[] {
  const name = `${group.os} ${group.release}${group.variant === 'default' ? '' : ` ${group.variant}`}`;
  return group.members.flatMap((member) =>
    member.versions.map((version) => {
      const created = version.images.map((i) => i.created).sort()[0] ?? version.images[0]?.created ?? '1970-01-01T00:00:00Z';
      const vm = version.images.every((i) => i.type === 'virtual-machine');
      const ref = group.alias ? `${group.alias}/${member.arch}` : (version.images[0]?.fingerprint ?? '');
      const lines = [
        `${name} (${member.arch}) version ${version.version}`,
        `lxc: ${launchCommands(remote, ref, vm).lxdLaunch}`,
        `incus: ${launchCommands(remote, ref, vm).incusLaunch}`,
        ...version.images.map((i) => `${i.type} ${i.fingerprint}`),
        ...changesOf(changes[`${member.key} ${version.version}`]),
      ];
      return {
        id: feedId(`${pageUrl}#${member.arch}-${version.version}`),
        title: `${name} ${member.arch} ${version.version}`,
        updated: iso(created),
        link: pageUrl,
        content: lines.join('\n'),
      };
    }),
  );
}

/** The lines of a version's package changes in a feed entry. */
function changesOf(c: SitePackages['changes'][string] | undefined): string[] {
  if (!c) return [];
  const lines = changeLines(c);
  return [lines.length ? `packages changed since ${c.from}:` : `no package changed since ${c.from}`, ...lines.map((l) => `  ${l}`)];
}

/** Newest first; ties by title, so the order never depends on the input order. */
export function sortEntries(entries: FeedEntry[]): FeedEntry[] {
  return [...entries].sort((a, b) => (a.updated === b.updated ? (a.title < b.title ? -1 : a.title > b.title ? 1 : 0) : a.updated < b.updated ? 1 : -1));
}

export function atom(feed: { id: string; title: string; selfUrl: string; alternateUrl: string; entries: FeedEntry[] }): string {
  const updated = feed.entries[0]?.updated ?? '1970-01-01T00:00:00Z';
  const entries = feed.entries
    .map(
      (e) => `  <entry>
    <id>${xml(e.id)}</id>
    <title>${xml(e.title)}</title>
    <updated>${e.updated}</updated>
    <link rel="alternate" type="text/html" href="${xml(e.link)}"/>
    <content type="text">${xml(e.content)}</content>
  </entry>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>${xml(feedId(feed.id))}</id>
  <title>${xml(feed.title)}</title>
  <updated>${updated}</updated>
  <author><name>staticstreams</name></author>
  <link rel="self" type="application/atom+xml" href="${xml(feed.selfUrl)}"/>
  <link rel="alternate" type="text/html" href="${xml(feed.alternateUrl)}"/>
  <generator>staticstreams</generator>
${entries}
</feed>
`;
}
