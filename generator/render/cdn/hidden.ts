// What a host must never answer: the host configuration files published with the tree (rules and
// edge code: the worker holds a private tree's hashes), and what a build keeps next to the output
// — its cache (input paths), lock, spare tree, scratch folders and server configuration (a
// private tree's hashes, for Caddy). Under a sub-path the output's parent folder is usually the
// web root, so those siblings sit where the host serves files: every generated rule denies them.
// Pure.

import path from 'node:path';

/** Host files in the output folder: read by the host, never served. */
export const HOST_FILES = ['_headers', '_redirects', '_worker.js'] as const;

/** `text` matched literally in a regular expression (nginx's PCRE, Caddy's RE2). */
export const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * URL path prefixes of what a build keeps next to the output `out` (every `.NAME.…` sibling, and
 * the server-config folder when it is one too), for a tree served at `base` from a folder of the
 * same name (nothing at the root: the output is then the web root, and its siblings are outside it).
 */
export function siblingPaths(base: string, out: string, serverConfigDir: string): string[] {
  const resolved = path.resolve(out);
  // Only where the output is served under its own name (--out /srv/www/lxd for /lxd): otherwise
  // (a link, an alias) where its siblings are, if anywhere, is not known.
  if (!base || base.slice(base.lastIndexOf('/') + 1) !== path.basename(resolved)) return [];
  const parent = base.slice(0, base.lastIndexOf('/'));
  const prefixes = [`${parent}/.${path.basename(resolved)}.`];
  const config = path.resolve(serverConfigDir);
  if (path.dirname(config) === path.dirname(resolved)) prefixes.push(`${parent}/${path.basename(config)}/`);
  return prefixes;
}
