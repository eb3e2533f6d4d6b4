// The caching and CORS policy of a published tree, independent of any host: what each path
// pattern gets. Each CDN renderer translates these rules into its own format.

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const SHORT = 'public, max-age=60, must-revalidate';

/**
 * A private tree's Cache-Control: `private` where a public tree says `public`. A shared cache (a
 * CDN or proxy in front of the server) stores an answer to a request with credentials when it
 * says `public`, and would hand it to anyone; `private` keeps it in the client's own cache.
 */
export const privateCache = (value: string): string => value.replace(/^public\b/, 'private');

/** The two Cache-Control values of a tree, public or private. */
export const cacheValues = (isPrivate = false): { short: string; immutable: string } =>
  isPrivate ? { short: privateCache(SHORT), immutable: privateCache(IMMUTABLE) } : { short: SHORT, immutable: IMMUTABLE };

export interface PathRule {
  /** Netlify/Cloudflare-style pattern: an exact path, or a prefix ending in `*`. */
  pattern: string;
  headers: Record<string, string>;
}

/**
 * No two rules that can match one path set the same header: hosts that apply every matching
 * rule would otherwise join the two values.
 */
export const CACHE_RULES: readonly PathRule[] = [
  { pattern: '/streams/*', headers: { 'Access-Control-Allow-Origin': '*', 'X-Content-Type-Options': 'nosniff' } },
  { pattern: '/streams/v1/index.json', headers: { 'Cache-Control': SHORT } },
  // The products under their fixed name (web UIs read it cross-origin): it changes in place.
  { pattern: '/streams/v1/images.json', headers: { 'Cache-Control': SHORT } },
  // A signed tree: the signed index and fixed-name products (their content-addressed ones are
  // covered by images-*, a signature's time being its document's own).
  { pattern: '/streams/v1/index.sjson', headers: { 'Cache-Control': SHORT } },
  { pattern: '/streams/v1/index.json.gpg', headers: { 'Cache-Control': SHORT } },
  { pattern: '/streams/v1/images.sjson', headers: { 'Cache-Control': SHORT } },
  { pattern: '/streams/v1/images.json.gpg', headers: { 'Cache-Control': SHORT } },
  { pattern: '/streams/v1/images-*', headers: { 'Cache-Control': IMMUTABLE } },
  // The public key of a signed tree.
  { pattern: '/signing-key.*', headers: { 'Cache-Control': SHORT, 'Access-Control-Allow-Origin': '*', 'X-Content-Type-Options': 'nosniff' } },
  { pattern: '/images/*', headers: { 'Cache-Control': IMMUTABLE } },
  // LXC's image index (meta/1.0/index-system, …): changes in place.
  { pattern: '/meta/*', headers: { 'Cache-Control': SHORT, 'Access-Control-Allow-Origin': '*', 'X-Content-Type-Options': 'nosniff' } },
  { pattern: '/catalog.json', headers: { 'Cache-Control': SHORT, 'Access-Control-Allow-Origin': '*' } },
  // The catalogue site's scripts and styles: Astro names them by content hash.
  { pattern: '/_astro/*', headers: { 'Cache-Control': IMMUTABLE } },
];

/** The rules of a tree served at `base` ('' or e.g. '/lxd'): every pattern under it; `private` for a private tree. */
export function cacheRulesAt(base: string, isPrivate = false): PathRule[] {
  return CACHE_RULES.map((r) => ({
    pattern: `${base}${r.pattern}`,
    headers: isPrivate && r.headers['Cache-Control'] ? { ...r.headers, 'Cache-Control': privateCache(r.headers['Cache-Control']) } : r.headers,
  }));
}

/** Every header the rules give a request path (exact patterns, and prefixes ending in `*`). */
export function headersAt(rules: readonly PathRule[], pathname: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rules) if (r.pattern.endsWith('*') ? pathname.startsWith(r.pattern.slice(0, -1)) : pathname === r.pattern) Object.assign(out, r.headers);
  return out;
}
