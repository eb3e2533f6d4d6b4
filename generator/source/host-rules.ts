// Reads the host rules of a built tree — `_headers` and `_redirects`, parsed by Netlify's
// own parsers — and matches them against request paths: for `serve`, and for `verify` (a file
// a folder does not hold but its `_redirects` sends to object storage).

import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseAllHeaders, type Header } from '@netlify/headers-parser';
import { parseAllRedirects } from '@netlify/redirect-parser';

export interface Redirect {
  from: string;
  to: string;
  status: number;
  force: boolean;
}

export interface TreeRules {
  headers: Header[];
  redirects: Redirect[];
  errors: string[];
}

export async function loadRules(root: string): Promise<TreeRules> {
  const headersFile = path.join(root, '_headers');
  const redirectsFile = path.join(root, '_redirects');
  const h = await parseAllHeaders({ headersFiles: existsSync(headersFile) ? [headersFile] : [], configHeaders: [], minimal: false });
  const r = await parseAllRedirects({ redirectsFiles: existsSync(redirectsFile) ? [redirectsFile] : [], configRedirects: [], minimal: true });
  return {
    headers: h.headers as Header[],
    redirects: (r.redirects as Redirect[]).map(({ from, to, status, force }) => ({ from, to, status: status ?? 301, force: force ?? false })),
    errors: [...h.errors, ...r.errors].map((e: { message?: string }) => e.message ?? String(e)),
  };
}

/** Headers from every `_headers` rule that matches the path (all matching rules apply). */
export function headersForPath(rules: TreeRules, pathname: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rule of rules.headers) {
    if (rule.forRegExp.test(pathname)) Object.assign(out, rule.values);
  }
  return out;
}

/** The first redirect whose `from` matches (exact, or a `/*` splat), with `:splat` filled in. */
export function matchRedirect(rules: TreeRules, pathname: string): { to: string; status: number; force: boolean } | undefined {
  for (const r of rules.redirects) {
    if (r.from.endsWith('/*')) {
      const prefix = r.from.slice(0, -1);
      if (pathname.startsWith(prefix)) return { to: r.to.replace(':splat', pathname.slice(prefix.length)), status: r.status, force: r.force };
    } else if (r.from === pathname) {
      return { to: r.to, status: r.status, force: r.force };
    }
  }
  return undefined;
}
